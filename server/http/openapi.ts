// The OpenAPI 3.1 document, generated from the same zod schemas that validate the requests.
// Built from the app's route declarations (route.ts), the same objects that validate and serve;
// GET /api/openapi.json serves the result and GET /api/docs a self-contained page listing every
// endpoint (no assets from the network).
import { z } from 'zod';
import { PERMISSIONS, type Permission } from '../domain/roles.ts';
import type { Route } from './route.ts';

interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'delete' | 'patch';
  /** OpenAPI path, with {param} placeholders. */
  path: string;
  tag: string;
  summary: string;
  permission?: Permission | null;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  bodyType?: string;
  status?: number;
  public?: boolean;
  auth?: 'device';
  responses?: Record<string, string>;
}

const docOf = (r: Route): RouteDoc => ({
  method: r.method,
  path: r.path,
  tag: r.tag,
  summary: r.summary,
  permission: r.permission === 'public' || r.permission === 'authenticated' ? null : r.permission,
  public: r.permission === 'public',
  params: r.params as z.ZodType | undefined,
  query: r.query as z.ZodType | undefined,
  body: r.body as z.ZodType | undefined,
  bodyType: r.bodyType,
  status: r.status,
  auth: r.auth,
  responses: r.responses,
});

function schemaOf(s: z.ZodType): Record<string, unknown> {
  try {
    return z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function buildOpenApi(declared: readonly Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const d of declared.map(docOf).sort((a, b) => a.path.localeCompare(b.path))) {
    // Path parameters: the declared schema's, else a UUID each (route.ts's default).
    const declared = d.params ? ((schemaOf(d.params).properties ?? {}) as Record<string, unknown>) : {};
    const params = [...d.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: declared[m[1]!] ?? { type: 'string', format: 'uuid' } }));
    const query = d.query ? schemaOf(d.query) : null;
    const queryParams = query?.properties
      ? Object.entries(query.properties as Record<string, unknown>).map(([name, schema]) => ({
          name,
          in: 'query',
          required: ((query.required as string[] | undefined) ?? []).includes(name) && !(schema as { default?: unknown }).default,
          schema,
        }))
      : [];
    const roles = d.permission ? (PERMISSIONS[d.permission] as readonly string[]) : null;
    (paths[d.path] ??= {})[d.method] = {
      tags: [d.tag],
      summary: d.summary,
      description: roles
        ? `Roles: ${roles.join(', ')} (permission \`${d.permission}\`).`
        : d.auth === 'device'
          ? "A device's own credentials: HTTP Basic deviceId:secret (no user token)."
          : d.public
            ? 'No authentication.'
            : 'Any authenticated user.',
      ...(d.auth === 'device' ? { security: [{ deviceBasic: [] }] } : d.public ? { security: [] } : {}),
      parameters: [...params, ...queryParams],
      ...(d.body ? { requestBody: { required: true, content: { [d.bodyType ?? 'application/json']: { schema: schemaOf(d.body) } } } } : {}),
      responses: {
        [String(d.status ?? 200)]: { description: 'OK' },
        ...Object.fromEntries(Object.entries(d.responses ?? {}).map(([status, description]) => [status, { description }])),
        '4XX': { description: 'Refused: `{ error: { code, message, details? } }`', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'WardPulse API', version: '0.1.0', description: 'Patient-vitals monitoring and hospital records. Live data: Socket.IO (see docs/api.md); devices: MQTT (docs/device-protocol.md).' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        deviceBasic: { type: 'http', scheme: 'basic', description: 'A device: its id and secret from provisioning (POST /api/telemetry).' },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
        },
      },
    },
    paths,
  };
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A plain, dark, self-contained page: every endpoint with its roles, parameters and body schema. */
/** The docs page's style, served as /api/docs.css: the Content Security Policy allows no inline style. */
export const DOCS_CSS = `body{font:15px/1.5 system-ui,sans-serif;background:#0b1220;color:#e6edf7;margin:0;padding:2rem}h1{margin-top:0}h2{border-bottom:1px solid #2a3858;padding-bottom:.3rem;text-transform:capitalize}
.op{padding:.5rem .7rem;margin:.4rem 0;background:#131c2e;border:1px solid #2a3858;border-radius:6px}.m{font-weight:800;display:inline-block;min-width:4.2rem}.get{color:#69f0ae}.post{color:#7cc4ff}.put{color:#fdd835}.delete{color:#ff8a80}.patch{color:#ce93d8}
.d{color:#9fb0c8;font-size:.9rem}code{color:#e6edf7}pre{background:#0b1220;padding:.6rem;overflow:auto;font-size:.8rem}a{color:#7cc4ff}
`;

export function docsPage(declared: readonly Route[]): string {
  const doc = buildOpenApi(declared) as { paths: Record<string, Record<string, { tags: string[]; summary: string; description: string; parameters: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: unknown }> } }>> };
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = op.parameters.map((p) => `<code>${escape(p.name)}</code> <small>${p.in}</small>`).join(', ');
      const [bodyType, bodySpec] = op.requestBody ? Object.entries(op.requestBody.content)[0]! : [];
      const body = bodySpec ? `<details><summary>body${bodyType === 'application/json' ? '' : ` (${escape(bodyType!)})`} schema</summary><pre>${escape(JSON.stringify(bodySpec.schema, null, 2))}</pre></details>` : '';
      const html = `<div class="op"><span class="m ${method}">${method.toUpperCase()}</span> <code class="p">${escape(path)}</code> — ${escape(op.summary)}<div class="d">${escape(op.description)}${params ? ` · ${params}` : ''}</div>${body}</div>`;
      const tag = op.tags[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const sections = [...byTag.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([tag, ops]) => `<section><h2>${escape(tag)}</h2>${ops.join('')}</section>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>WardPulse API</title><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/api/docs.css"></head>
<body><h1>WardPulse API</h1><p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1). Errors: <code>{ "error": { "code", "message", "details"? } }</code>. Authenticate with <code>Authorization: Bearer &lt;token&gt;</code> from <code>POST /api/auth/login</code>.</p>${sections}</body></html>`;
}
