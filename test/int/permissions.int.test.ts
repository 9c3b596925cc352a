// Drivers: the permission table and ward scope are enforced above the database, so the role × endpoint matrix runs once (PostgreSQL) and the patient-account block on PGlite; patient scoping runs on both drivers in auth.int.test.ts.
// The permission table, enforced: every documented endpoint, called by every role. A role the
// table allows is never refused with 403; a role it does not allow always is. And a patient
// account reading another patient's record gets the same answer as for a record that does not exist.
// On top of the table (server/records/scope.ts), generated from the same OpenAPI document and the
// specs' views: a kiosk sees the live view of its own ward(s) only; pharmacist, lab and kiosk get
// only the fields they need (issue 11, finding 5).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectSocket, eventually, startStack, type LiveSocket, type Stack } from '../helpers/stack.ts';
import { PERMISSIONS, type Permission, type Role } from '../../server/domain/roles.ts';
import { doctorSpec, patientSpec } from '../../server/records/specs.ts';
import { fieldsFor } from '../../server/records/scope.ts';

/** The served OpenAPI document: the app's own route declarations. */
let openApiDoc: unknown;

const ROLES = ['admin', 'doctor', 'nurse', 'front-desk', 'pharmacist', 'lab', 'patient', 'kiosk'] as const;

describe('permission table on PostgreSQL', () => {
  let stack: Stack;
  const tokens: Record<string, string> = {};
  let patientId = '';
  let otherPatientId = '';
  let sweepPatientId = '';

  beforeAll(async () => {
    stack = await startStack('postgres', inject('pgUrl'));
    openApiDoc = (await stack.api('GET', '/api/openapi.json')).body;
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
        // A kiosk is bound to the ward it displays: PM, where the sweep's patient lies.
        const r = await stack.api('POST', '/api/auth/register', { email, name: role, password: `${role}-password-1`, role, ...(role === 'kiosk' ? { wards: ['PM'] } : {}) });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
      }
      tokens[role] = await stack.login(email, role === 'patient' ? 'patient-password-1' : `${role}-password-1`);
    }
  });
  afterAll(async () => stack?.close());

  it('allows and refuses each role on each endpoint exactly as the table says', async () => {
    const paths = (openApiDoc as { paths: Record<string, Record<string, { description: string }>> }).paths;
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

  // ---------------------------------------------------------------- least privilege (finding 5)

  // A patient on the kiosk's ward with every detail filled in, one on another ward, an alarm each.
  const SECRET = { email: 'wendy.secret@perm.test', phone: '7946 0777', dateOfBirth: '1931-05-17', address: 'Hidden Lane', allergies: 'unobtainium' };
  /** What each role must never be shown, anywhere (need to know). */
  const HIDDEN: Partial<Record<Role, (keyof typeof SECRET)[]>> = {
    kiosk: ['email', 'phone', 'dateOfBirth', 'address', 'allergies'],
    pharmacist: ['email', 'phone', 'address'],
    lab: ['email', 'phone', 'address', 'allergies'],
  };
  let wardPatient = '';
  let otherWardPatient = '';
  let wardAlert = '';
  let otherWardAlert = '';
  let doctorId = '';
  const sockets: LiveSocket[] = [];
  const openApiOps = () => {
    const paths = (openApiDoc as { paths: Record<string, Record<string, { description: string }>> }).paths;
    return Object.entries(paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ path, method, permission: /permission `([^`]+)`/.exec(op.description)?.[1] as Permission | undefined })),
    );
  };
  const allows = (perm: Permission, role: Role) => (PERMISSIONS[perm] as readonly string[]).includes(role);
  const insertAlert = async (patientId: string) => {
    const id = randomUUID();
    await stack.server.db.driver.query(
      `INSERT INTO alerts (id, patient_id, key, kind, category, priority, state, message, rule, started_at, ended_at, updated_at)
       VALUES ($1, $2, 'limit:hr', 'limit', 'physiological', 'medium', 'resolved', 'HR 131 above 130', 'hr > 130', now(), now(), now())`,
      [id, patientId],
    );
    return id;
  };

  beforeAll(async () => {
    const w = await stack.api('POST', '/api/patients', {
      name: 'Wendy Ward',
      ward: 'PM',
      bed: '7',
      dateOfBirth: SECRET.dateOfBirth,
      phone: '+44 20 7946 0777',
      email: SECRET.email,
      address: { line1: '7 Hidden Lane', city: 'Nowhere' },
      allergies: [SECRET.allergies],
    });
    expect(w.status, JSON.stringify(w.body)).toBe(201);
    wardPatient = w.body.id;
    otherWardPatient = (await stack.api('POST', '/api/patients', { name: 'Oscar Other', ward: 'PX', bed: '1' })).body.id;
    wardAlert = await insertAlert(wardPatient);
    otherWardAlert = await insertAlert(otherWardPatient);
    doctorId = (await stack.api('POST', '/api/doctors', { name: 'Dr Matrix', room: '9', phone: '+44 20 7946 0555', email: 'dr.matrix@perm.test', fee: 5000 })).body.id;
  });
  afterAll(() => {
    for (const s of sockets) s.close();
  });

  it('creates a kiosk only with its ward(s) (400 naming body.wards), and says them at login', async () => {
    const base = { name: 'Wall', password: 'wall-display-password-1' };
    const missing = await stack.api('POST', '/api/auth/register', { ...base, email: 'nowards@perm.test', role: 'kiosk' });
    expect(missing).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION' } } });
    expect(missing.body.error.message).toMatch(/body\.wards: required for a kiosk account/);
    const empty = await stack.api('POST', '/api/auth/register', { ...base, email: 'nowards@perm.test', role: 'kiosk', wards: [] });
    expect(empty.body.error.message).toMatch(/body\.wards: must name at least one ward/);
    const blank = await stack.api('POST', '/api/auth/register', { ...base, email: 'nowards@perm.test', role: 'kiosk', wards: ['A', ' '] });
    expect(blank.body.error.message).toMatch(/body\.wards\.1: required/);
    const nurse = await stack.api('POST', '/api/auth/register', { ...base, email: 'nurse-wards@perm.test', role: 'nurse', wards: ['PM'] });
    expect(nurse).toMatchObject({ status: 400 });
    expect(nurse.body.error.message).toMatch(/body\.wards: only a kiosk account is bound to wards, not a nurse/);

    const made = await stack.api('POST', '/api/auth/register', { ...base, email: 'wall-px@perm.test', role: 'kiosk', wards: [' PX ', 'PX'] });
    expect(made).toMatchObject({ status: 201, body: { role: 'kiosk', wards: ['PX'] } });
    const login = await stack.api('POST', '/api/auth/login', { email: 'wall-px@perm.test', password: base.password }, null);
    expect(login.body.user).toMatchObject({ role: 'kiosk', wards: ['PX'] });
    expect((await stack.api('GET', '/api/auth/me', undefined, tokens.kiosk)).body.user.wards).toEqual(['PM']);
    expect((await stack.api('GET', '/api/auth/me', undefined, tokens.nurse)).body.user).not.toHaveProperty('wards');
  });

  it('lets a kiosk read the live data of patients on its ward, and refuses another ward naming its own (generated)', async () => {
    const ops = openApiOps().filter((o) => o.method === 'get' && o.path.startsWith('/api/patients/{id}/') && o.permission && allows(o.permission, 'kiosk'));
    expect(ops.map((o) => o.path).sort()).toEqual(['/api/patients/{id}/alerts', '/api/patients/{id}/score', '/api/patients/{id}/scores', '/api/patients/{id}/vitals']);
    for (const o of ops) {
      const own = await stack.api('GET', o.path.replace('{id}', wardPatient), undefined, tokens.kiosk);
      expect(own.status, `${o.path} on its ward: ${JSON.stringify(own.body)}`).not.toBe(403);
      const other = await stack.api('GET', o.path.replace('{id}', otherWardPatient), undefined, tokens.kiosk);
      expect(other, o.path).toMatchObject({ status: 403, body: { error: { code: 'ERR_FORBIDDEN' } } });
      expect(other.body.error.message).toBe(`a kiosk may only see the patients of its ward 'PM': patient '${otherWardPatient}' is not on it`);
      // Staff without a ward binding are not affected.
      expect((await stack.api('GET', o.path.replace('{id}', otherWardPatient), undefined, tokens.nurse)).status).not.toBe(403);
    }

    // Alarms: its ward's only, whatever the filters; another ward or patient named is a 403.
    const list = await stack.api('GET', '/api/alerts?state=resolved&limit=1000', undefined, tokens.kiosk);
    expect(list.status).toBe(200);
    expect(list.body.items.map((a: { id: string }) => a.id)).toContain(wardAlert);
    expect(list.body.items.map((a: { id: string }) => a.id)).not.toContain(otherWardAlert);
    expect(new Set(list.body.items.map((a: { ward: string }) => a.ward))).toEqual(new Set(['PM']));
    const otherWard = await stack.api('GET', '/api/alerts?ward=PX', undefined, tokens.kiosk);
    expect(otherWard).toMatchObject({ status: 403, body: { error: { message: "a kiosk may only see the patients of its ward 'PM': not ward 'PX'" } } });
    expect((await stack.api('GET', `/api/alerts?patientId=${otherWardPatient}`, undefined, tokens.kiosk)).status).toBe(403);
    expect((await stack.api('GET', `/api/alerts/${otherWardAlert}`, undefined, tokens.kiosk)).status).toBe(403);
    expect(await stack.api('GET', `/api/alerts/${wardAlert}`, undefined, tokens.kiosk)).toMatchObject({ status: 200, body: { id: wardAlert } });
    // The wards it may open.
    expect((await stack.api('GET', '/api/wards', undefined, tokens.kiosk)).body.items.map((w: { ward: string }) => w.ward)).toEqual(['PM']);
    expect((await stack.api('GET', '/api/wards', undefined, tokens.nurse)).body.items.map((w: { ward: string }) => w.ward)).toEqual(expect.arrayContaining(['PM', 'PX']));
    // No full records, at all.
    expect((await stack.api('GET', `/api/patients/${wardPatient}`, undefined, tokens.kiosk)).status).toBe(403);

    // Its reads stay audited.
    await eventually(async () => {
      const audit = await stack.api('GET', `/api/audit?patientId=${wardPatient}&limit=1000`);
      return audit.body.items.some((e: { actorRole: string; resource: string; action: string }) => e.actorRole === 'kiosk' && e.resource === 'vitals' && e.action === 'read');
    }, 10_000, "the kiosk's vitals read in the audit log");
  });

  it('lets a kiosk watch its own ward live (name, bed, vitals, score, alarms), not another ward nor a single patient', async () => {
    const s = await connectSocket(stack.base, tokens.kiosk);
    sockets.push(s);
    const own = await s.emitWithAck('subscribe', { ward: 'PM' });
    expect(own).toMatchObject({ ok: true, data: { room: 'ward:PM' } });
    const wendy = own.ok ? own.data.patients.find((p) => p.patientId === wardPatient) : undefined;
    expect(wendy).toMatchObject({ name: 'Wendy Ward', ward: 'PM', bed: '7' });
    expect(Object.keys(wendy!).sort()).toEqual(['alerts', 'bed', 'devices', 'name', 'patientId', 'score', 'values', 'ward']);
    for (const secret of Object.values(SECRET)) expect(JSON.stringify(own)).not.toContain(secret);

    const other = await s.emitWithAck('subscribe', { ward: 'PX' });
    expect(other).toEqual({ ok: false, error: { code: 'ERR_FORBIDDEN', message: "a kiosk may only see the patients of its ward 'PM': not ward 'PX'" } });
    const one = await s.emitWithAck('subscribe', { patientId: wardPatient });
    expect(one).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN', message: expect.stringMatching(/a kiosk may only watch its own wards as a whole: subscribe to \{ ward \}/) } });
    // A nurse is not bound to wards.
    const n = await connectSocket(stack.base, tokens.nurse);
    sockets.push(n);
    expect((await n.emitWithAck('subscribe', { ward: 'PX' })).ok).toBe(true);
    expect((await n.emitWithAck('subscribe', { patientId: wardPatient })).ok).toBe(true);
  });

  it('never shows a kiosk, pharmacist or lab what they need not know, on any endpoint they may call (generated)', async () => {
    // The sweep can see them: an admin's read holds every one.
    const full = JSON.stringify((await stack.api('GET', `/api/patients/${wardPatient}`)).body);
    for (const secret of Object.values(SECRET)) expect(full).toContain(secret);

    const leaks: string[] = [];
    let checked = 0;
    for (const [role, hidden] of Object.entries(HIDDEN) as [Role, (keyof typeof SECRET)[]][]) {
      for (const o of openApiOps()) {
        if (o.method !== 'get' || !o.permission || !allows(o.permission, role) || o.path.includes('/auth/')) continue;
        const r = await stack.api('GET', o.path.replace(/\{\w+\}/g, wardPatient), undefined, tokens[role]);
        checked++;
        const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
        for (const h of hidden) if (text.includes(SECRET[h])) leaks.push(`${role} GET ${o.path} (${r.status}) shows the patient's ${h}`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(leaks).toEqual([]);
  });

  it("cuts patient and doctor records down to each role's view, in lists and single reads (generated from the specs)", async () => {
    const ids: Record<string, string> = { patients: wardPatient, doctors: doctorId };
    let projected = 0;
    for (const spec of [patientSpec, doctorSpec]) {
      for (const role of ROLES) {
        if (!allows(spec.permissions.read, role)) continue;
        if (role === 'patient' && spec === patientSpec) continue; // scoped to its own record: tested above
        const view = fieldsFor(spec, role);
        const one = await stack.api('GET', `/api/${spec.name}/${ids[spec.name]}`, undefined, tokens[role]);
        expect(one.status, `${role} GET /api/${spec.name}/{id}`).toBe(200);
        const list = await stack.api('GET', `/api/${spec.name}?limit=500`, undefined, tokens[role]);
        expect(list.status).toBe(200);
        const listed = list.body.items.find((x: { id: string }) => x.id === ids[spec.name]);
        if (view) {
          projected++;
          expect(Object.keys(one.body).sort(), `${role} ${spec.name}`).toEqual([...view].sort());
          expect(Object.keys(listed).sort(), `${role} ${spec.name} list`).toEqual([...view].sort());
        } else {
          expect(Object.keys(one.body), `${role} ${spec.name}`).toEqual(expect.arrayContaining(Object.keys(spec.fields)));
        }
      }
    }
    expect(projected).toBe(3); // pharmacist and lab on patients, kiosk on doctors
    expect(fieldsFor(patientSpec, 'pharmacist')).toEqual(['id', 'name', 'dateOfBirth', 'allergies']);
    expect(fieldsFor(patientSpec, 'lab')).toEqual(['id', 'name', 'dateOfBirth']);
    const pharmacistSees = await stack.api('GET', `/api/patients/${wardPatient}`, undefined, tokens.pharmacist);
    expect(pharmacistSees.body).toEqual({ id: wardPatient, name: 'Wendy Ward', dateOfBirth: SECRET.dateOfBirth, allergies: [SECRET.allergies] });

    // No filtering, sorting or searching on what a role does not see: the answer would tell it.
    for (const [query, param] of [['ward=PM', 'query.ward'], ['sort=ward', 'query.sort=ward'], ['includeArchived=true', 'query.includeArchived']]) {
      const r = await stack.api('GET', `/api/patients?${query}`, undefined, tokens.pharmacist);
      expect(r, query).toMatchObject({ status: 403, body: { error: { code: 'ERR_FORBIDDEN' } } });
      expect(r.body.error.message).toBe(`role 'pharmacist' may only see a patient's id, name, dateOfBirth, allergies: ${param} is not one of them`);
    }
    const byMail = await stack.api('GET', `/api/patients?q=${encodeURIComponent('wendy.secret')}`, undefined, tokens.lab);
    expect(byMail).toMatchObject({ status: 200, body: { items: [] } });
    expect((await stack.api('GET', `/api/patients?q=${encodeURIComponent('wendy.secret')}`)).body.items.map((p: { id: string }) => p.id)).toEqual([wardPatient]);
    expect((await stack.api('GET', '/api/patients?q=Wendy', undefined, tokens.lab)).body.items).toEqual([{ id: wardPatient, name: 'Wendy Ward', dateOfBirth: SECRET.dateOfBirth }]);
    // The queue display finds its doctor by room: that and the name, nothing else.
    expect((await stack.api('GET', '/api/doctors?room=9', undefined, tokens.kiosk)).body.items).toEqual([{ id: doctorId, name: 'Dr Matrix', room: '9' }]);
    expect((await stack.api('GET', '/api/doctors?sort=fee', undefined, tokens.kiosk)).status).toBe(403);

    // Projected reads are audited like the others, with what was shown.
    const audited = await eventually(async () => {
      const audit = await stack.api('GET', `/api/audit?patientId=${wardPatient}&limit=1000`);
      return audit.body.items.find((e: { actorRole: string; action: string }) => e.actorRole === 'pharmacist' && e.action === 'read');
    }, 10_000, "the pharmacist's read in the audit log");
    expect(audited.details).toEqual({ fieldsShown: ['id', 'name', 'dateOfBirth', 'allergies'] });
  });

  it("lets an admin change a kiosk's wards: REST at once, its live connections closed and re-checked", async () => {
    const email = `wall-move-${randomUUID().slice(0, 8)}@perm.test`;
    const made = await stack.api('POST', '/api/auth/register', { email, name: 'Moving wall', password: 'wall-display-password-1', role: 'kiosk', wards: ['PX'] });
    expect(made.status).toBe(201);
    const token = await stack.login(email, 'wall-display-password-1');
    const s = await connectSocket(stack.base, token);
    sockets.push(s);
    expect((await s.emitWithAck('subscribe', { ward: 'PX' })).ok).toBe(true);
    expect((await stack.api('GET', `/api/patients/${otherWardPatient}/vitals`, undefined, token)).status).toBe(200);
    const closed = new Promise<string>((resolve) => s.once('disconnect', resolve));

    const moved = await stack.api('PUT', `/api/users/${made.body.id}/wards`, { wards: ['PM'] });
    expect(moved).toMatchObject({ status: 200, body: { id: made.body.id, role: 'kiosk', wards: ['PM'], liveConnectionsClosed: 1 } });
    expect(await closed).toBe('io server disconnect');
    // The same token, now under the new wards.
    expect((await stack.api('GET', `/api/patients/${otherWardPatient}/vitals`, undefined, token)).status).toBe(403);
    expect((await stack.api('GET', `/api/patients/${wardPatient}/vitals`, undefined, token)).status).toBe(200);
    const again = await connectSocket(stack.base, token);
    sockets.push(again);
    expect(await again.emitWithAck('subscribe', { ward: 'PX' })).toMatchObject({ ok: false, error: { code: 'ERR_FORBIDDEN' } });
    expect((await again.emitWithAck('subscribe', { ward: 'PM' })).ok).toBe(true);

    // Precise refusals.
    expect((await stack.api('PUT', `/api/users/${made.body.id}/wards`, {})).body.error.message).toMatch(/body\.wards: /);
    expect((await stack.api('PUT', `/api/users/${made.body.id}/wards`, { wards: [] })).body.error.message).toMatch(/body\.wards: must name at least one ward/);
    expect((await stack.api('PUT', `/api/users/${randomUUID()}/wards`, { wards: ['PM'] })).status).toBe(404);
    const nurse = await stack.api('POST', '/api/auth/register', { email: `n-${randomUUID().slice(0, 8)}@perm.test`, name: 'Nurse', password: 'nurse-password-long-1', role: 'nurse' });
    const notKiosk = await stack.api('PUT', `/api/users/${nurse.body.id}/wards`, { wards: ['PM'] });
    expect(notKiosk).toMatchObject({ status: 409, body: { error: { code: 'ERR_WRONG_KIND', message: `user '${nurse.body.id}' is a nurse account: only a kiosk account is bound to wards` } } });
    expect((await stack.api('PUT', `/api/users/${made.body.id}/wards`, { wards: ['PX'] }, tokens.nurse)).status).toBe(403);
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
