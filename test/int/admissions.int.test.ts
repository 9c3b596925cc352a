// Admission and discharge: beds are exclusive (the database decides), the patient's ward and bed
// follow the admission and reach the live dashboard, discharge keeps the history and the devices.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectSocket, eventually, startStack, type DbKind, type Stack } from '../helpers/stack.ts';

describe.each<DbKind>(['pglite', 'postgres'])('admissions on %s', (kind) => {
  let stack: Stack;
  let nurse: string;
  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'));
    await stack.api('POST', '/api/auth/register', { email: 'nurse-adm@test.local', name: 'Nurse', password: 'nurse-pass-01', role: 'nurse' });
    nurse = await stack.login('nurse-adm@test.local', 'nurse-pass-01');
  });
  afterAll(async () => stack?.close());

  const patient = async (name: string) => (await stack.api('POST', '/api/patients', { name })).body.id as string;
  const admit = (body: Record<string, unknown>, token = nurse) => stack.api('POST', '/api/admissions', body, token);

  it('admits to a free bed, refuses a taken bed or a second admission, and shows the bed live', async () => {
    const p1 = await patient('Ada');
    const p2 = await patient('Ben');
    const a1 = await admit({ patientId: p1, ward: 'ADM', bed: '1' });
    expect(a1).toMatchObject({ status: 201, body: { patientId: p1, patientName: 'Ada', ward: 'ADM', bed: '1', dischargedAt: null } });
    expect((await stack.api('GET', `/api/patients/${p1}`)).body).toMatchObject({ ward: 'ADM', bed: '1' });

    const socket = await connectSocket(stack.base, nurse);
    const ack = await socket.emitWithAck('subscribe', { ward: 'ADM' });
    expect(ack).toMatchObject({ ok: true, data: { patients: [{ patientId: p1, ward: 'ADM', bed: '1' }] } });
    socket.close();

    const taken = await admit({ patientId: p2, ward: 'ADM', bed: '1' });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'ERR_BED_OCCUPIED', message: 'bed 1 on ward ADM is occupied' } } });
    const twice = await admit({ patientId: p1, ward: 'ADM', bed: '2' });
    expect(twice).toMatchObject({ status: 409, body: { error: { code: 'ERR_ALREADY_ADMITTED', message: 'the patient is already admitted: discharge first' } } });
    // A bed held by a patient placed directly (no admission row) is occupied too.
    await stack.provision('ADM', '3');
    expect((await admit({ patientId: p2, ward: 'ADM', bed: '3' })).status).toBe(409);
    expect((await admit({ patientId: '00000000-0000-4000-8000-000000000000', ward: 'ADM', bed: '4' })).status).toBe(404);
    expect((await admit({ patientId: p2, ward: '', bed: '4' })).body.error.message).toMatch(/body\.ward/);

    const current = await stack.api('GET', '/api/admissions?ward=ADM&current=true', undefined, nurse);
    expect(current.body.items.map((a: any) => a.patientId)).toEqual([p1]);
  });

  it('discharges: frees the bed, keeps the patient, the history and the devices', async () => {
    const p = await patient('Cleo');
    const q = await patient('Dan');
    const adm = (await admit({ patientId: p, ward: 'DIS', bed: '1' })).body;
    const device = (await stack.api('POST', '/api/devices', { patientId: p })).body.id as string;

    const out = await stack.api('PUT', `/api/admissions/${adm.id}/discharge`, undefined, nurse);
    expect(out).toMatchObject({ status: 200, body: { id: adm.id, ward: 'DIS', bed: '1' } });
    expect(out.body.dischargedAt).toBeTruthy();
    expect((await stack.api('GET', `/api/patients/${p}`)).body).toMatchObject({ id: p, ward: null, bed: null, archivedAt: null });
    expect((await stack.api('GET', `/api/devices/${device}`)).body.patientId).toBe(p);
    expect((await stack.api('PUT', `/api/admissions/${adm.id}/discharge`, undefined, nurse)).status).toBe(409);
    expect((await stack.api('PUT', '/api/admissions/00000000-0000-4000-8000-000000000000/discharge', undefined, nurse)).status).toBe(404);

    // The bed is free for someone else, and the discharged patient may come back.
    expect((await admit({ patientId: q, ward: 'DIS', bed: '1' })).status).toBe(201);
    expect((await admit({ patientId: p, ward: 'DIS', bed: '2' })).status).toBe(201);
    const history = await stack.api('GET', `/api/admissions?patientId=${p}`, undefined, nurse);
    expect(history.body.items).toHaveLength(2);
    const past = await stack.api('GET', `/api/admissions?patientId=${p}&current=false`, undefined, nurse);
    expect(past.body.items.map((a: any) => a.id)).toEqual([adm.id]);

    const trail = await eventually(async () => {
      const items = (await stack.api('GET', `/api/audit?patientId=${p}`)).body.items as any[];
      return items.filter((i) => i.resource === 'admission').length >= 3 ? items : null;
    }, 5000, 'admission audit rows');
    expect(trail.filter((i) => i.resource === 'admission').map((i) => i.action)).toEqual(expect.arrayContaining(['admit', 'discharge']));
  });

  it('lets only ward and desk roles admit, and a patient see only their own admissions', async () => {
    await stack.api('POST', '/api/auth/register', { email: 'pharm-adm@test.local', name: 'Ph', password: 'pharm-pass-01', role: 'pharmacist' });
    const pharm = await stack.login('pharm-adm@test.local', 'pharm-pass-01');
    const p = await patient('Eve');
    expect((await admit({ patientId: p, ward: 'R', bed: '1' }, pharm)).status).toBe(403);
    expect((await stack.api('GET', '/api/admissions', undefined, pharm)).status).toBe(403);

    const reg = await stack.api('POST', '/api/auth/register', { email: 'pat-adm@test.local', name: 'Fay', password: 'patient-pass-1' }, null);
    const own = await admit({ patientId: reg.body.patientId, ward: 'R', bed: '2' }, stack.adminToken);
    expect(own.status).toBe(201);
    const other = await admit({ patientId: p, ward: 'R', bed: '3' });
    const token = await stack.login('pat-adm@test.local', 'patient-pass-1');
    expect((await stack.api('GET', '/api/admissions', undefined, token)).body.items.map((a: any) => a.id)).toEqual([own.body.id]);
    expect((await stack.api('GET', `/api/admissions/${other.body.id}`, undefined, token)).status).toBe(404);
    expect((await stack.api('PUT', `/api/admissions/${own.body.id}/discharge`, undefined, token)).status).toBe(403);
  });
});
