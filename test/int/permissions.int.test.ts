// The permission table, enforced: every documented endpoint, called by every role. A role the
// table allows is never refused with 403; a role it does not allow always is. And a patient
// account reading another patient's record gets the same answer as for a record that does not exist.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStack, type Stack } from '../helpers/stack.ts';
import { buildOpenApi } from '../../server/http/openapi.ts';
import { PERMISSIONS } from '../../server/auth/permissions.ts';

const ROLES = ['admin', 'doctor', 'nurse', 'front-desk', 'pharmacist', 'lab', 'patient', 'kiosk'] as const;

describe('permission table on PostgreSQL', () => {
  let stack: Stack;
  const tokens: Record<string, string> = {};
  let patientId = '';
  let otherPatientId = '';
  let sweepPatientId = '';

  beforeAll(async () => {
    stack = await startStack('postgres', inject('pgUrl'));
    otherPatientId = (await stack.api('POST', '/api/patients', { name: 'Other Patient', ward: 'PM', bed: '2' })).body.id;
    // The sweep below writes to this one (it may even archive it): not to the records checked after.
    sweepPatientId = (await stack.api('POST', '/api/patients', { name: 'Sweep Target', ward: 'PM', bed: '3' })).body.id;
    for (const role of ROLES) {
      const email = `${role}@perm.test`;
      if (role === 'admin') {
        tokens[role] = stack.adminToken;
        continue;
      }
      if (role === 'patient') {
        // A patient registers themself: the account is linked to a new patient record.
        const r = await stack.api('POST', '/api/auth/register', { email, name: 'Pat Ient', password: 'patient-password-1' }, null);
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        patientId = r.body.patientId;
      } else {
        const r = await stack.api('POST', '/api/auth/register', { email, name: role, password: `${role}-password-1`, role });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
      }
      tokens[role] = await stack.login(email, role === 'patient' ? 'patient-password-1' : `${role}-password-1`);
    }
  });
  afterAll(async () => stack?.close());

  it('allows and refuses each role on each endpoint exactly as the table says', async () => {
    const paths = (buildOpenApi() as { paths: Record<string, Record<string, { description: string }>> }).paths;
    const mismatches: string[] = [];
    let checked = 0;
    for (const [path, ops] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const perm = /permission `([^`]+)`/.exec(op.description)?.[1] as keyof typeof PERMISSIONS | undefined;
        if (!perm || path.includes('/auth/')) continue;
        const url = path.replace('{id}', sweepPatientId).replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
        for (const role of ROLES) {
          const allowed = (PERMISSIONS[perm] as readonly string[]).includes(role);
          const r = await stack.api(method.toUpperCase(), url, method === 'get' || method === 'delete' ? undefined : {}, tokens[role]);
          checked++;
          if (allowed && r.status === 403 && !/may only|their own/.test(r.body?.error?.message ?? '')) {
            mismatches.push(`${role} ${method.toUpperCase()} ${path}: refused but the table allows '${perm}' (${r.body?.error?.message})`);
          }
          if (!allowed && r.status !== 403) mismatches.push(`${role} ${method.toUpperCase()} ${path}: ${r.status} but the table does not allow '${perm}'`);
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(mismatches).toEqual([]);
  });

  it('lets a patient read their own record and not another patient’s (404, as if it did not exist)', async () => {
    const own = await stack.api('GET', `/api/patients/${patientId}`, undefined, tokens.patient);
    expect(own).toMatchObject({ status: 200, body: { id: patientId, name: 'Pat Ient' } });
    const other = await stack.api('GET', `/api/patients/${otherPatientId}`, undefined, tokens.patient);
    expect(other).toMatchObject({ status: 404, body: { error: { code: 'ERR_NOT_FOUND' } } });
    const list = await stack.api('GET', '/api/patients', undefined, tokens.patient);
    expect(list.body.items.map((p: { id: string }) => p.id)).toEqual([patientId]);
  });

  it('archives instead of erasing, and audits reads of clinical data', async () => {
    const del = await stack.api('DELETE', `/api/patients/${otherPatientId}`);
    expect(del).toMatchObject({ status: 200, body: { id: otherPatientId } });
    expect(del.body.archivedAt).toBeTruthy();
    const still = await stack.api('GET', `/api/patients/${otherPatientId}`);
    expect(still).toMatchObject({ status: 200, body: { id: otherPatientId } });
    const listed = await stack.api('GET', '/api/patients?ward=PM');
    expect(listed.body.items.map((p: { id: string }) => p.id)).not.toContain(otherPatientId);
    const archived = await stack.api('GET', '/api/patients?ward=PM&includeArchived=true');
    expect(archived.body.items.map((p: { id: string }) => p.id)).toContain(otherPatientId);
    // The audit trail is written in order, just behind the requests.
    const actions = await eventually(async () => {
      const audit = await stack.api('GET', `/api/audit?patientId=${otherPatientId}`);
      const a = audit.body.items.map((e: { action: string }) => e.action);
      return ['create', 'read', 'archive'].every((x) => a.includes(x)) ? a : null;
    }, 10_000, 'audit rows');
    expect(actions).toEqual(expect.arrayContaining(['create', 'read', 'archive']));
  });
});

describe('a patient account’s own record', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('pglite');
  });
  afterAll(async () => stack?.close());

  it('may change its contact details, not its placement or scoring', async () => {
    const reg = await stack.api('POST', '/api/auth/register', { email: 'self@perm.test', name: 'Self Patient', password: 'patient-password-1' }, null);
    expect(reg.status).toBe(201);
    const token = await stack.login('self@perm.test', 'patient-password-1');
    const ok = await stack.api('PUT', `/api/patients/${reg.body.patientId}`, { phone: '+44 20 7946 0999' }, token);
    expect(ok).toMatchObject({ status: 200, body: { phone: '+44 20 7946 0999' } });
    for (const patch of [{ ward: 'ICU', bed: '1' }, { spo2Scale: 2 }, { name: 'Someone Else' }]) {
      const r = await stack.api('PUT', `/api/patients/${reg.body.patientId}`, patch, token);
      expect(r.status).toBe(403);
      expect(r.body.error.message).toMatch(/may only change their own phone, email, address/);
    }
  });

  it('types list filters: a malformed id is a 400, not a database error', async () => {
    await stack.api('POST', '/api/auth/register', { email: 'doc@perm.test', name: 'Doc', password: 'doctor-password-1', role: 'doctor' });
    const r = await stack.api('GET', '/api/history?patientId=abc', undefined, await stack.login('doc@perm.test', 'doctor-password-1'));
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/query\.patientId: must be a UUID/);
  });
});
