// Medication safety through the running server, on each database driver: the interaction table
// (generic resource, kept by pharmacists and admins) and its CSV import (all or nothing, every bad
// line named); prescribing refused on an allergy or a contraindicated interaction unless overridden
// with a reason (audited), lesser interactions returned as warnings; concurrent prescriptions
// cannot both miss each other. The drug names are made-up placeholders, not clinical data.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStack, type DbKind, type Stack } from '../helpers/stack.ts';

describe.each<DbKind>(['pglite', 'postgres'])('medication safety on %s', (kind) => {
  let stack: Stack;
  const tokens: Record<string, string> = {};

  const user = async (role: string) => {
    const email = `${role}-${randomUUID().slice(0, 8)}@meds.test`;
    const r = await stack.api('POST', '/api/auth/register', { email, name: role, password: 'long-enough-password', role });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return { id: r.body.id as string, token: await stack.login(email, 'long-enough-password') };
  };
  const csv = async (text: string, token = tokens.pharmacist, type = 'text/csv') => {
    const res = await fetch(`${stack.base}/api/drug-interactions/import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: text });
    return { status: res.status, body: (await res.json()) as any };
  };
  const count = async () => Number((await stack.server.db.driver.query<{ n: string }>('SELECT count(*) AS n FROM drug_interactions WHERE archived_at IS NULL')).rows[0]!.n);
  const patient = async (allergies: string[] = []) => (await stack.api('POST', '/api/patients', { name: `Meds ${randomUUID().slice(0, 6)}`, allergies })).body.id as string;
  const med = (itemName: string, extra: Record<string, unknown> = {}) => ({ itemName, dose: '1 tablet', frequency: 'daily', durationDays: 30, quantity: 30, ...extra });
  const prescribe = (patientId: string, medicines: unknown[], extra: Record<string, unknown> = {}) =>
    stack.api('POST', '/api/prescriptions', { patientId, medicines, ...extra }, tokens.doctor);
  const interaction = async (a: string, b: string, severity: string, note?: string) => {
    const r = await stack.api('POST', '/api/drug-interactions', { a, b, severity, ...(note ? { note } : {}) }, tokens.pharmacist);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as string;
  };

  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'));
    tokens.admin = stack.adminToken;
    for (const role of ['pharmacist', 'nurse', 'front-desk', 'lab']) tokens[role] = (await user(role)).token;
    const du = await user('doctor');
    tokens.doctor = du.token;
    expect((await stack.api('POST', '/api/doctors', { name: 'Dr Meds', userId: du.id })).status).toBe(201);
    const email = `pat-${randomUUID().slice(0, 6)}@meds.test`;
    expect((await stack.api('POST', '/api/auth/register', { email, name: 'Pat', password: 'patient-password-1' }, null)).status).toBe(201);
    tokens.patient = await stack.login(email, 'patient-password-1');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('ships the table empty', async () => {
    expect(await stack.api('GET', '/api/drug-interactions', undefined, tokens.pharmacist)).toMatchObject({ status: 200, body: { items: [], total: 0 } });
  });

  it('is kept by pharmacists and admins: normalised, an unordered pair once, updated and archived', async () => {
    const made = await stack.api('POST', '/api/drug-interactions', { a: '  Testdrug-ALPHA ', b: 'Testdrug Beta', severity: 'contraindicated', note: 'placeholder' }, tokens.pharmacist);
    expect(made).toMatchObject({ status: 201, body: { a: 'testdrug alpha', b: 'testdrug beta', severity: 'contraindicated', note: 'placeholder', archivedAt: null } });
    const id = made.body.id as string;

    const reversed = await stack.api('POST', '/api/drug-interactions', { a: 'testdrug beta', b: 'TESTDRUG ALPHA', severity: 'major' }, tokens.admin);
    expect(reversed).toMatchObject({ status: 409, body: { error: { code: 'ERR_DUPLICATE', message: 'that pair already has an interaction (in either order): change the existing one, or archive it first' } } });
    const same = await stack.api('POST', '/api/drug-interactions', { a: 'Testdrug Alpha', b: 'testdrug-alpha', severity: 'major' }, tokens.pharmacist);
    expect(same).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION', message: 'body.b: a and b must name two different ingredients or classes' } } });
    const badSeverity = await stack.api('POST', '/api/drug-interactions', { a: 'x1', b: 'y1', severity: 'severe' }, tokens.pharmacist);
    expect(badSeverity.body.error.message).toBe('body.severity: must be one of contraindicated, major, moderate');
    // Changing a onto b is refused by the database's own rule, named.
    const ontoB = await stack.api('PUT', `/api/drug-interactions/${id}`, { a: 'testdrug beta' }, tokens.pharmacist);
    expect(ontoB).toMatchObject({ status: 400, body: { error: { message: 'body.b: a and b must name two different ingredients or classes' } } });

    const changed = await stack.api('PUT', `/api/drug-interactions/${id}`, { severity: 'major', note: 'changed' }, tokens.admin);
    expect(changed).toMatchObject({ status: 200, body: { id, severity: 'major', note: 'changed' } });
    const found = await stack.api('GET', '/api/drug-interactions?q=alpha', undefined, tokens.doctor);
    expect(found.body.items.map((i: { id: string }) => i.id)).toEqual([id]);
    const archived = await stack.api('DELETE', `/api/drug-interactions/${id}`, undefined, tokens.pharmacist);
    expect(archived.body.archivedAt).toBeTruthy();
    // Archived, the pair may be entered again.
    expect((await stack.api('POST', '/api/drug-interactions', { a: 'testdrug beta', b: 'testdrug alpha', severity: 'moderate' }, tokens.pharmacist)).status).toBe(201);
  });

  it('refuses the roles the table does not name', async () => {
    const body = { a: 'role x', b: 'role y', severity: 'moderate' };
    for (const role of ['doctor', 'nurse', 'front-desk', 'lab', 'patient']) {
      const r = await stack.api('POST', '/api/drug-interactions', body, tokens[role]);
      expect(r, role).toMatchObject({ status: 403, body: { error: { code: 'ERR_FORBIDDEN' } } });
      expect((await csv('a,b,severity,note\nrole x,role y,moderate,\n', tokens[role])).status, role).toBe(403);
    }
    for (const role of ['front-desk', 'lab', 'patient']) expect((await stack.api('GET', '/api/drug-interactions', undefined, tokens[role])).status, role).toBe(403);
    for (const role of ['doctor', 'nurse', 'pharmacist', 'admin']) expect((await stack.api('GET', '/api/drug-interactions', undefined, tokens[role])).status, role).toBe(200);
  });

  it('documents the import as a text/csv body in the OpenAPI document', async () => {
    const doc = (await stack.api('GET', '/api/openapi.json')).body;
    const op = doc.paths['/api/drug-interactions/import'].post;
    expect(Object.keys(op.requestBody.content)).toEqual(['text/csv']);
    expect(op.description).toBe('Roles: admin, pharmacist (permission `drug-interactions:manage`).');
    expect(doc.paths['/api/drug-interactions/{id}'].put.description).toContain('drug-interactions:manage');
  });

  it('imports a good CSV file in one go', async () => {
    const before = await count();
    const r = await csv('\ufeffa,b,severity,note\r\nImport One,Import Two,Major,"placeholder, quoted"\r\nimport three,IMPORT-CLASS,moderate,\r\n');
    expect(r).toMatchObject({ status: 201, body: { imported: 2 } });
    expect(r.body.items.map((i: { a: string; b: string; severity: string; note: string | null }) => [i.a, i.b, i.severity, i.note])).toEqual([
      ['import one', 'import two', 'major', 'placeholder, quoted'],
      ['import three', 'import class', 'moderate', null],
    ]);
    expect(await count()).toBe(before + 2);
    await eventually(async () => {
      const { rows } = await stack.server.db.driver.query<{ details: unknown }>(`SELECT details FROM audit_log WHERE action = 'import' AND resource = 'drug interaction'`);
      const d = rows.map((x) => (typeof x.details === 'string' ? JSON.parse(x.details) : x.details) as { count: number; ids: string[] });
      return d.some((x) => x.count === 2 && x.ids.length === 2 && x.ids.includes(r.body.items[0].id));
    }, 5000, 'import audited');
  });

  it('imports nothing from a file with bad lines, naming each line', async () => {
    const before = await count();
    const file = [
      'a,b,severity,note',
      'bad one,bad two,major,this line is fine',
      'bad three,bad four,severe,',
      'bad five,bad five,major,',
      'bad two,bad one,moderate,reversed duplicate of line 2',
      'import two,import one,moderate,already in the table',
      'bad six,bad seven,major',
    ].join('\n');
    const r = await csv(file);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('ERR_VALIDATION');
    expect(r.body.error.message).toMatch(/^nothing imported, 5 problems: line 3: severity: must be one of contraindicated, major, moderate; line 4: /);
    expect(r.body.error.details).toEqual([
      { line: 3, field: 'severity', message: 'severity: must be one of contraindicated, major, moderate' },
      { line: 4, field: 'b', message: "b: a and b must name two different ingredients or classes (both are 'bad five')" },
      { line: 5, message: 'the pair bad two + bad one is already on line 2 (a pair is unordered)' },
      { line: 6, message: expect.stringMatching(/^the pair import two \+ import one is already in the table \([0-9a-f-]{36}\): change it with PUT \/api\/drug-interactions\//) },
      { line: 7, message: 'expected 4 fields (a,b,severity,note), got 3' },
    ]);
    expect(await count()).toBe(before);
    expect((await stack.api('GET', '/api/drug-interactions?a=bad%20one', undefined, tokens.pharmacist)).body.total).toBe(0);

    expect((await csv('drug1,drug2,severity,note\nx,y,major,\n')).body.error.message).toBe('nothing imported, 1 problem: line 1: the header must be a,b,severity,note; got drug1,drug2,severity,note');
    expect(await csv('a,b,severity,note\nx,y,major,\n', tokens.pharmacist, 'text/plain')).toMatchObject({ status: 415, body: { error: { code: 'ERR_UNSUPPORTED_MEDIA_TYPE' } } });
    expect((await csv('a,b,severity,note\nx,y,major,\n', tokens.pharmacist, 'text/csv; charset=latin1')).status).toBe(415);
    const huge = `a,b,severity,note\n${'x'.repeat(600 * 1024)}\n`;
    expect(await csv(huge)).toMatchObject({ status: 413, body: { error: { code: 'ERR_TOO_LARGE' } } });
    expect(await count()).toBe(before);
  });

  it('refuses a medicine the patient is recorded as allergic to, and writes nothing', async () => {
    const p = await patient(['Testcillin (rash)']);
    const r = await prescribe(p, [med('Brandname 500 mg', { ingredients: ['Brandium'], classes: ['testcillin'] })]);
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({
      code: 'ERR_ALLERGY',
      message: "refused: 'Brandname 500 mg' matches the recorded allergy 'Testcillin (rash)'. To prescribe anyway, resend with override: { reason }",
      details: { findings: [{ kind: 'allergy', severity: 'contraindicated', medicine: 'Brandname 500 mg', allergy: 'Testcillin (rash)', matched: 'testcillin' }], warnings: [] },
    });
    expect((await stack.api('GET', `/api/prescriptions?patientId=${p}`, undefined, tokens.doctor)).body.total).toBe(0);
    // Named as a word of the item name, it matches too; a longer word does not.
    expect((await prescribe(p, [med('Testcillin V 250 mg')])).body.error.code).toBe('ERR_ALLERGY');
    expect((await prescribe(p, [med('Amotestcillin 250 mg')])).status).toBe(201);
  });

  it('refuses a contraindicated interaction with an active prescription; warns of lesser ones', async () => {
    await interaction('contra one', 'contra two', 'contraindicated', 'placeholder note');
    await interaction('contra one', 'warn class', 'major');
    await interaction('contra one', 'mild drug', 'moderate');
    const p = await patient();
    const first = await prescribe(p, [med('Contra Two 10 mg')]);
    expect(first).toMatchObject({ status: 201, body: { warnings: [], safetyOverride: null } });

    const refused = await prescribe(p, [med('Contra One 5 mg')]);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('ERR_INTERACTION');
    expect(refused.body.error.message).toBe(
      `refused: 'Contra One 5 mg' with 'Contra Two 10 mg' (active prescription ${first.body.id}): contraindicated interaction contra one + contra two (placeholder note). To prescribe anyway, resend with override: { reason }`,
    );
    expect(refused.body.error.details.findings).toMatchObject([{ kind: 'interaction', severity: 'contraindicated', with: { itemName: 'Contra Two 10 mg', prescriptionId: first.body.id } }]);

    // Lesser ones are warnings in the 201 body: with a class named on this prescription, and a moderate one.
    const p2 = await patient();
    const warned = await prescribe(p2, [med('Contra One 5 mg'), med('Brand W', { classes: ['Warn Class'] }), med('Mild Drug')]);
    expect(warned.status, JSON.stringify(warned.body)).toBe(201);
    expect(warned.body.warnings.map((w: { severity: string; medicine: string; with: { itemName: string; prescriptionId: string | null } }) => [w.severity, w.medicine, w.with.itemName, w.with.prescriptionId])).toEqual([
      ['major', 'Contra One 5 mg', 'Brand W', null],
      ['moderate', 'Contra One 5 mg', 'Mild Drug', null],
    ]);
    // Read back later, the prescription has no warnings field (they are the check's answer, not stored).
    expect((await stack.api('GET', `/api/prescriptions/${warned.body.id}`, undefined, tokens.doctor)).body).not.toHaveProperty('warnings');
  });

  it('no longer checks against a course that has ended', async () => {
    const p = await patient();
    const old = await prescribe(p, [med('Contra Two', { durationDays: 5 })]);
    await stack.server.db.driver.query(`UPDATE prescriptions SET created_at = now() - interval '6 days' WHERE id = $1`, [old.body.id]);
    expect((await prescribe(p, [med('Contra One')])).status).toBe(201);
  });

  it('prescribes over a refusal with a reason, kept on the prescription and audited with the findings', async () => {
    const p = await patient(['testcillin']);
    const short = await prescribe(p, [med('Testcillin 1 g')], { override: { reason: 'because' } });
    expect(short).toMatchObject({ status: 400, body: { error: { message: 'body.override.reason: give a reason of at least 10 characters' } } });
    const reason = 'Allergy history reviewed with the patient: intolerance, not allergy';
    const r = await prescribe(p, [med('Testcillin 1 g')], { override: { reason } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.safetyOverride).toMatchObject({ reason, findings: [{ kind: 'allergy', allergy: 'testcillin' }] });
    const read = await stack.api('GET', `/api/prescriptions/${r.body.id}`, undefined, tokens.pharmacist);
    expect(read.body.safetyOverride.reason).toBe(reason);
    await eventually(async () => {
      const audit = await stack.api('GET', `/api/audit?patientId=${p}`);
      return audit.body.items.find(
        (e: { action: string; resourceId: string; details: { reason: string; findings: { kind: string }[] } }) =>
          e.action === 'safety-override' && e.resourceId === r.body.id && e.details.reason === reason && e.details.findings[0]?.kind === 'allergy',
      );
    }, 5000, 'override audited');
    // An override with nothing to override is not recorded.
    const plain = await prescribe(p, [med('Unrelated')], { override: { reason } });
    expect(plain).toMatchObject({ status: 201, body: { safetyOverride: null } });
  });

  it('lets only one of two concurrent, contraindicated prescriptions through', async () => {
    const p = await patient();
    const [x, y] = await Promise.all([prescribe(p, [med('Contra One')]), prescribe(p, [med('Contra Two')])]);
    expect([x.status, y.status].sort()).toEqual([201, 409]);
    expect([x, y].find((r) => r.status === 409)!.body.error.code).toBe('ERR_INTERACTION');
    expect((await stack.api('GET', `/api/prescriptions?patientId=${p}`, undefined, tokens.doctor)).body.total).toBe(1);
  });
});
