// Routes declared once, as fastify does: one object names the method, the path, who may call it,
// the schemas of its parameters, query and body, what it audits and its handler. From that one
// declaration come the validation, the permission check, the audit entry and the OpenAPI entry
// (openapi.ts): nothing to keep in step by hand, so the docs cannot drift from what is parsed.
// The registry belongs to the app (buildApp makes one); route files only declare and wire.
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Permission, Principal, Role } from '../domain/roles.ts';
import { can } from '../auth/permissions.ts';
import { Errors } from '../errors.ts';
import type { AuditEntry } from '../../db/records.ts';
import { type AppContext, allow, auditOf, authenticate } from './context.ts';
import { parse, uuid } from './validate.ts';
import { collectDurableWrites } from '../durable.ts';

export type Method = 'get' | 'post' | 'put' | 'delete' | 'patch';

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;
/** Without a params schema every {param} is a UUID string. */
type ParamsOut<S> = S extends z.ZodType ? z.output<S> : { id: string; [name: string]: string };

/** What a handler gets: the parsed, typed input and the caller. */
export interface RouteInput<P, Q, B> {
  req: Request;
  res: Response;
  /** The authenticated caller (a public route sees a placeholder-free `undefined` cast away: do not read it there). */
  user: Principal;
  params: P;
  query: Q;
  body: B;
  /** Audit an entry for this caller (actor, role and address filled in); stored before the route answers. */
  audit(action: string, resource: string, resourceId: string | null, patientId: string | null, details?: unknown): void;
}

export interface RouteAudit<R> {
  action: string;
  resource: string;
  /** The audited record's id; default: the `id` path parameter, else the result's `id`. */
  id?: (result: R) => string | null;
  /** The patient the record belongs to; default: the result's `patientId` (or null). */
  patientId?: (result: R) => string | null;
  details?: (result: R) => unknown;
}

export interface Route<PS = unknown, QS = unknown, BS = unknown, R = unknown> {
  method: Method;
  /** Full OpenAPI path with {param} placeholders: '/api/stock/{id}/movements'. */
  path: string;
  tag: string;
  summary: string;
  /** The permission checked after authentication; 'authenticated': any signed-in user; 'public': no authentication. */
  permission: Permission | 'authenticated' | 'public';
  /** Path parameters; default: every {param} must be a UUID. */
  params?: PS;
  query?: QS;
  body?: BS;
  /** The body's media type in the OpenAPI entry (default application/json); a `before` step reads it. */
  bodyType?: string;
  /** Success status (default 200). */
  status?: number;
  /**
   * 'device': a `public` route that a `before` step authenticates with a device's own credentials
   * (HTTP Basic deviceId:secret), documented with that scheme instead of "No authentication".
   */
  auth?: 'device';
  /** Further answers for the OpenAPI entry, by status: what each means. */
  responses?: Record<string, string>;
  /**
   * The 403 message for a role the permission refuses, where the table's plain refusal would not
   * help (a patient told where it pays instead). The permission itself is unchanged.
   */
  refusals?: Partial<Record<Role, string>>;
  /** Middleware run after the permission check and before parsing (raw bodies, per-route limits). */
  before?: RequestHandler[];
  /** Written after the handler succeeds, and committed before the answer. */
  audit?: RouteAudit<R>;
  /**
   * The handler. Its result is sent as JSON with `status`; a handler that answers itself (a file,
   * a CSV, a redirect) sends on `res` and returns undefined.
   */
  handler(input: RouteInput<ParamsOut<PS>, Out<QS>, Out<BS>>): Promise<R> | R;
}

/** Declare a route; the schemas' types flow into the handler's input. */
export function defineRoute<
  PS extends z.ZodType | undefined = undefined,
  QS extends z.ZodType | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
  R = unknown,
>(route: Route<PS, QS, BS, R>): Route {
  return route as unknown as Route;
}

/** '/api/stock/{id}/movements' → '/api/stock/:id/movements' */
const expressPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');
export const pathParams = (path: string) => [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);

export class RouteRegistry {
  readonly routes: Route[] = [];

  constructor(private readonly ctx: AppContext) {}

  /**
   * An express router serving `routes` (in order: '/api/stock/low' before '/api/stock/{id}'),
   * each recorded for the OpenAPI document. Mounted at the root: paths are absolute.
   */
  router(routes: Route[]): Router {
    const r = Router();
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      if (this.routes.some((x) => `${x.method} ${x.path}` === key)) throw new Error(`route declared twice: ${key}`);
      this.routes.push(route);
      r[route.method](expressPath(route.path), ...this.guards(route), ...(route.before ?? []), this.run(route));
    }
    return r;
  }

  private guards(route: Route): RequestHandler[] {
    if (route.permission === 'public') return [];
    if (route.permission === 'authenticated') return [authenticate(this.ctx)];
    const refusals = route.refusals;
    const permission = route.permission;
    const explain: RequestHandler = (req, _res, next) => {
      const role = req.user!.role;
      next(refusals?.[role] !== undefined && !can(role, permission) ? Errors.forbidden(refusals[role]) : undefined);
    };
    return [authenticate(this.ctx), ...(refusals ? [explain] : []), allow(permission)];
  }

  private run(route: Route): RequestHandler {
    const params = (route.params as z.ZodType | undefined) ?? z.strictObject(Object.fromEntries(pathParams(route.path).map((p) => [p, uuid])));
    const query = route.query as z.ZodType | undefined;
    const body = route.body as z.ZodType | undefined;
    const ctx = this.ctx;
    return async (req, res) => {
      const input: RouteInput<unknown, unknown, unknown> = {
        req,
        res,
        user: req.user!,
        params: parse(params, { ...req.params }, 'params'),
        query: query ? parse(query, req.query, 'query') : undefined,
        body: body ? parse(body, req.body, 'body') : undefined,
        audit: (action, resource, resourceId, patientId, details) => ctx.audit(auditOf(req, action, resource, resourceId, patientId, details)),
      };
      // The request's audit entries (the declared one and any its stores queue) and other durable
      // writes commit before the answer: a 200 means stored (docs/decisions/0024).
      const writes = collectDurableWrites(async () => {
        const result = await route.handler(input as never);
        if (route.audit) ctx.audit(auditEntry(req, route.audit, input.params, result));
        return result;
      });
      const result = await writes.result;
      await writes.stored();
      if (result !== undefined && !res.headersSent) res.status(route.status ?? 200).json(result);
      else if (!res.headersSent) res.status(route.status ?? 204).end();
    };
  }
}

function auditEntry(req: Request, a: RouteAudit<unknown>, params: unknown, result: unknown): AuditEntry {
  const r = (result ?? {}) as { id?: unknown; patientId?: unknown };
  const fromParams = (params as { id?: string } | undefined)?.id;
  const id = a.id ? a.id(result) : (fromParams ?? (typeof r.id === 'string' ? r.id : null));
  const patientId = a.patientId ? a.patientId(result) : typeof r.patientId === 'string' ? r.patientId : null;
  return auditOf(req, a.action, a.resource, id, patientId, a.details?.(result));
}
