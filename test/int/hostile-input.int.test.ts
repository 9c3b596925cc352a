// Hostile strings and out-of-range dates (issue 11, finding 7): a NUL character in any string, a
// year the database has not got (0000) or that calendar arithmetic pushes past four digits
// (9999-12-31 plus days), an absurd bucket — each is a 400 naming the field, never a 500. The
// corpus runs over every documented write endpoint and every documented query.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startStack, type DbKind, type Stack } from '../helpers/stack.ts';

/** The served OpenAPI document: the app's own route declarations. */
let openApiDoc: unknown;

interface Op {
  method: string;
  path: string;
  query: string[];
  body: string[];
}

describe.each<DbKind>(['pglite', 'postgres'])('hostile input is a 400 naming the field on %s', (kind) => {
  let stack: Stack;
  let patientId = '';
  let doctorId = '';
  let nurse = '';

  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'));
    openApiDoc = (await stack.api('GET', '/api/openapi.json')).body;
    patientId = (await stack.api('POST', '/api/patients', { name: 'Hostile Target', ward: 'HX', bed: '1' })).body.id;
    doctorId = (await stack.api('POST', '/api/doctors', { name: 'Dr Hostile', specialities: ['General medicine'] })).body.id;
    await stack.api('POST', '/api/auth/register', { email: 'nurse@hx.test', name: 'Nurse Hx', password: 'nurse-password-1', role: 'nurse' });
    nurse = await stack.login('nurse@hx.test', 'nurse-password-1');
  });
  afterAll(async () => stack?.close());

  const ops = (): Op[] => {
    const paths = (openApiDoc as { paths: Record<string, Record<string, any>> }).paths;
    const out: Op[] = [];
    for (const [path, byMethod] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(byMethod)) {
        if (path.startsWith('/api/auth/logout')) continue;
        const concrete = path.replace(/\{id\}/g, patientId).replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
        const query = (op.parameters as { in: string; name: string }[]).filter((p) => p.in === 'query').map((p) => p.name);
        const schema = op.requestBody?.content?.['application/json']?.schema;
        const body = Object.keys(schema?.properties ?? {});
        out.push({ method: method.toUpperCase(), path: concrete, query, body });
      }
    }
    return out;
  };

  const NUL = 'a\u0000b';
  const refusedWell = (r: { status: number; body: any }) => r.status >= 400 && r.status < 500 && typeof r.body?.error?.message === 'string';

  it('a NUL in any field of any documented write body is refused; where the body is read, the field is named', async () => {
    const failures: string[] = [];
    let named = 0;
    for (const op of ops().filter((o) => o.method !== 'GET' && o.method !== 'DELETE')) {
      for (const field of op.body.length > 0 ? op.body : ['name']) {
        const r = await stack.api(op.method, op.path, { [field]: NUL });
        if (!refusedWell(r)) failures.push(`${op.method} ${op.path} body.${field} → ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`);
        else if (r.status === 400 && String(r.body.error.message).startsWith(`body.${field}: must not contain NUL`)) named++;
      }
    }
    expect(failures).toEqual([]);
    // Most endpoints read the body (the others refuse earlier: unknown id, role, state).
    expect(named).toBeGreaterThan(40);
  });

  it('a NUL, a year 0000 and a year 9999 in any documented query are refused, never a 500', async () => {
    const failures: string[] = [];
    const values = [NUL, '0000-01-01', '0000-01-01T00:00:00Z', '9999-12-31', '9999-12-31T23:59:59Z', '99999999999999d'];
    for (const op of ops().filter((o) => o.method === 'GET' && o.query.length > 0)) {
      for (const q of op.query) {
        for (const v of values) {
          const r = await stack.api('GET', `${op.path}?${q}=${encodeURIComponent(v)}`);
          if (r.status >= 500 || (r.status >= 400 && typeof r.body?.error?.message !== 'string')) {
            failures.push(`GET ${op.path}?${q}=${JSON.stringify(v)} → ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  const expect400 = async (method: string, path: string, body: unknown, field: string, token?: string | null) => {
    const r = await stack.api(method, path, body, token);
    expect(r.status, `${method} ${path} ${JSON.stringify(body)} → ${JSON.stringify(r.body)}`).toBe(400);
    expect(String(r.body.error.message).startsWith(`${field}: `), r.body.error.message).toBe(true);
    return r.body.error.message as string;
  };

  it('names the field for NUL in a name, an e-mail, an address and history details', async () => {
    expect(await expect400('POST', '/api/patients', { name: 'Ann\u0000Lee', ward: 'HX' }, 'body.name')).toMatch(/NUL/);
    await expect400('POST', '/api/patients', { name: 'Ann Lee', email: 'ann\u0000@example.org' }, 'body.email');
    await expect400('PUT', `/api/patients/${patientId}`, { address: { line1: '1 High St\u0000', city: 'Leeds' } }, 'body.address.line1');
    await expect400('POST', '/api/history', { patientId, kind: 'note', title: 'Note', details: 'seen\u0000today' }, 'body.details', nurse);
    await expect400('POST', '/api/auth/register', { email: 'nul@example.org', name: 'N\u0000', password: 'a-long-enough-passphrase-1' }, 'body.name', null);
    // A NUL in a key is named too.
    await expect400('POST', '/api/patients', { name: 'Ann Lee', ['x\u0000']: 1 }, 'body."x\\u0000"');
    // And in a query filter.
    const q = await stack.api('GET', `/api/patients?ward=${encodeURIComponent(NUL)}`);
    expect(q.status).toBe(400);
    expect(q.body.error.message).toMatch(/^query\.ward: must not contain NUL/);
    // Nothing of it was stored; the good record around it is intact.
    const list = await stack.api('GET', '/api/patients?limit=100');
    expect(list.body.items.map((p: { name: string }) => p.name)).toEqual(['Hostile Target']);
  });

  it('names the field for dates out of range', async () => {
    expect(await expect400('POST', '/api/patients', { name: 'Year Zero', dateOfBirth: '0000-01-01' }, 'body.dateOfBirth')).toMatch(/between 1900-01-01 and 2999-12-31/);
    await expect400('POST', '/api/patients', { name: 'Far Future', dateOfBirth: '9999-12-31' }, 'body.dateOfBirth');
    await expect400('POST', '/api/history', { patientId, kind: 'visit', title: 'Visit', occurredAt: '0000-01-01T00:00:00Z' }, 'body.occurredAt', nurse);
    await expect400('POST', '/api/auth/register', { email: 'old@example.org', name: 'Old', password: 'a-long-enough-passphrase-1', dateOfBirth: '0000-01-01' }, 'body.dateOfBirth', null);
    await expect400('GET', `/api/doctors/${doctorId}/slots?from=9999-12-31&days=90`, undefined, 'query.from');
    await expect400('GET', `/api/patients/${patientId}/vitals?from=0000-01-01T00:00:00Z`, undefined, 'query.from');
    await expect400('GET', `/api/patients/${patientId}/vitals?to=9999-12-31T23:59:59Z&bucket=1d`, undefined, 'query.to');
    // The edges that are real stay accepted.
    expect((await stack.api('POST', '/api/patients', { name: 'Old Timer', dateOfBirth: '1901-02-03' })).status).toBe(201);
  });

  it('names the bucket when it is absurd', async () => {
    expect(await expect400('GET', `/api/patients/${patientId}/vitals?bucket=99999999999999d`, undefined, 'query.bucket')).toMatch(/at most 366d/);
    expect((await stack.api('GET', `/api/patients/${patientId}/vitals?bucket=1d&from=2026-01-01T00:00:00Z`)).status).toBe(200);
    expect((await stack.api('GET', '/readyz', undefined, null)).status).toBe(200);
  });
});
