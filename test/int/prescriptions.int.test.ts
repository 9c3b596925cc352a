// Prescriptions on each database driver: written by the caller's doctor record, read by the care
// team, dispensed by a pharmacist from stock (all or nothing), refills counted, every step audited.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStack, type DbKind, type Stack } from '../helpers/stack.ts';

describe.each<DbKind>(['pglite', 'postgres'])('prescriptions on %s', (kind) => {
  let stack: Stack;
  let doctor: string;
  let doctorId: string;
  let pharmacist: string;
  let nurse: string;
  let patientId: string;

  const user = async (role: string) => {
    const email = `${role}-${randomUUID().slice(0, 8)}@test.local`;
    const r = await stack.api('POST', '/api/auth/register', { email, name: role, password: 'long-enough-password', role });
    expect(r.status).toBe(201);
    return { id: r.body.id as string, token: await stack.login(email, 'long-enough-password') };
  };
  const stocked = async (name: string, quantity: number) => {
    const s = await stack.api('POST', '/api/stock', { itemName: name, unit: 'tablet' });
    expect(s.status).toBe(201);
    if (quantity > 0) expect((await stack.api('POST', `/api/stock/${s.body.id}/receive`, { quantity })).status).toBe(200);
    return s.body.id as string;
  };
  const quantityOf = async (id: string) => (await stack.api('GET', `/api/stock/${id}`)).body.quantity as number;
  const med = (stockItemId: string | undefined, quantity: number) => ({ ...(stockItemId ? { stockItemId } : {}), itemName: 'Med', dose: '500 mg', frequency: 'three times a day', durationDays: 5, quantity });
  const prescribe = (body: Record<string, unknown>, token = doctor) => stack.api('POST', '/api/prescriptions', { patientId, labTests: [], ...body }, token);
  const dispense = (id: string, token = pharmacist) => stack.api('POST', `/api/prescriptions/${id}/dispense`, undefined, token);

  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'));
    const du = await user('doctor');
    doctor = du.token;
    const d = await stack.api('POST', '/api/doctors', { name: 'Dr Rx', userId: du.id });
    expect(d.status).toBe(201);
    doctorId = d.body.id;
    pharmacist = (await user('pharmacist')).token;
    nurse = (await user('nurse')).token;
    const p = await stack.api('POST', '/api/patients', { name: 'Rx Patient' });
    patientId = p.body.id;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('is written by the calling doctor with medicines, lab tests, revisit and refills', async () => {
    const a = await stocked('Amoxicillin', 10);
    const r = await prescribe({
      medicines: [med(a, 4), med(undefined, 1)],
      labTests: [{ name: 'CBC', notes: 'fasting' }],
      revisitAfterDays: 7,
      remarks: 'Plenty of fluids',
      refillsAllowed: 1,
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ patientId, doctorId, appointmentId: null, revisitAfterDays: 7, remarks: 'Plenty of fluids', refillsAllowed: 1, refillsUsed: 0, fillsRemaining: 2 });
    expect(r.body.medicines).toEqual([med(a, 4), med(undefined, 1)]);
    expect(r.body.labTests).toEqual([{ name: 'CBC', notes: 'fasting' }]);

    const got = await stack.api('GET', `/api/prescriptions/${r.body.id}`, undefined, nurse);
    expect(got).toMatchObject({ status: 200, body: { id: r.body.id, dispensings: [] } });
    const list = await stack.api('GET', `/api/prescriptions?patientId=${patientId}`, undefined, pharmacist);
    expect(list.body.items.map((p: { id: string }) => p.id)).toContain(r.body.id);
  });

  it('checks who prescribes and what', async () => {
    expect((await prescribe({ medicines: [med(undefined, 1)] }, nurse)).status).toBe(403);
    expect((await prescribe({ medicines: [med(undefined, 1)], doctorId: randomUUID() })).status).toBe(403); // not themself
    expect((await prescribe({ medicines: [med(undefined, 1)] }, stack.adminToken)).status).toBe(400); // admin must name the doctor
    expect((await prescribe({ medicines: [med(undefined, 1)], doctorId }, stack.adminToken)).status).toBe(201);
    const unlinked = await user('doctor');
    expect((await prescribe({ medicines: [med(undefined, 1)] }, unlinked.token)).status).toBe(403);
    expect((await prescribe({ medicines: [] })).status).toBe(400);
    expect((await prescribe({ medicines: [med(randomUUID(), 1)] })).status).toBe(400);
    expect((await prescribe({ medicines: [med(undefined, 1)], appointmentId: randomUUID() })).status).toBe(400);
    expect((await prescribe({ medicines: [med(undefined, 1)], patientId: randomUUID() })).status).toBe(400);
  });

  it('dispenses from stock, counting fills until the refills run out', async () => {
    const a = await stocked('Ibuprofen', 10);
    const b = await stocked('Omeprazole', 5);
    const rx = (await prescribe({ medicines: [med(a, 4), med(b, 1), med(undefined, 2)], refillsAllowed: 1 })).body;

    expect((await dispense(rx.id, doctor)).status).toBe(403);
    const first = await dispense(rx.id);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ fillNumber: 1, prescription: { refillsUsed: 1, fillsRemaining: 1 } });
    expect(first.body.dispensed).toHaveLength(2);
    expect([await quantityOf(a), await quantityOf(b)]).toEqual([6, 4]);

    const second = await dispense(rx.id);
    expect(second.body).toMatchObject({ fillNumber: 2, prescription: { refillsUsed: 2, fillsRemaining: 0 } });
    expect([await quantityOf(a), await quantityOf(b)]).toEqual([2, 3]);

    const third = await dispense(rx.id);
    expect(third.status).toBe(409);
    expect(third.body.error).toMatchObject({ code: 'ERR_NO_FILLS_LEFT', message: expect.stringMatching(/no fills remain/) });
    expect([await quantityOf(a), await quantityOf(b)]).toEqual([2, 3]);

    const got = await stack.api('GET', `/api/prescriptions/${rx.id}`, undefined, pharmacist);
    expect(got.body.dispensings.map((d: { itemId: string; fillNumber: number; quantity: number }) => [d.fillNumber, d.itemId, d.quantity]).sort()).toEqual(
      [[1, a, 4], [1, b, 1], [2, a, 4], [2, b, 1]].sort(),
    );
    const mv = await stack.api('GET', `/api/stock/${a}/movements`);
    expect(mv.body.items.filter((m: { kind: string }) => m.kind === 'dispense').map((m: { quantity: number }) => m.quantity)).toEqual([-4, -4]);
  });

  it('dispenses all or nothing, naming the item that is short', async () => {
    const a = await stocked('Cetirizine', 10);
    const b = await stocked('Metformin', 3);
    const rx = (await prescribe({ medicines: [med(a, 1), med(b, 5)] })).body;
    const r = await dispense(rx.id);
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('ERR_STOCK_SHORT');
    expect(r.body.error.message).toMatch(/'Metformin': only 3 tablet left, 5 asked/);
    expect(r.body.error.details).toMatchObject({ itemId: b, itemName: 'Metformin', available: 3, requested: 5 });
    expect([await quantityOf(a), await quantityOf(b)]).toEqual([10, 3]);
    expect((await stack.api('GET', `/api/prescriptions/${rx.id}`)).body).toMatchObject({ refillsUsed: 0, dispensings: [] });
    expect((await dispense(randomUUID())).status).toBe(404);
    const noStock = (await prescribe({ medicines: [med(undefined, 1)] })).body;
    expect((await dispense(noStock.id))).toMatchObject({ status: 409, body: { error: { code: 'ERR_NOTHING_TO_DISPENSE' } } });
  });

  it('gives concurrent fills distinct numbers and never more than allowed', async () => {
    const a = await stocked('Paracetamol', 100);
    const rx = (await prescribe({ medicines: [med(a, 2)], refillsAllowed: 2 })).body;
    const results = await Promise.all(Array.from({ length: 6 }, () => dispense(rx.id)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok.map((r) => r.body.fillNumber).sort()).toEqual([1, 2, 3]);
    expect(results.filter((r) => r.status === 409)).toHaveLength(3);
    expect(await quantityOf(a)).toBe(94);
  });

  it('audits writes, reads and dispensing with the patient', async () => {
    const a = await stocked('Audited', 5);
    const p = (await stack.api('POST', '/api/patients', { name: 'Audit Rx' })).body.id;
    const rx = (await prescribe({ patientId: p, medicines: [med(a, 1)] })).body;
    await stack.api('GET', `/api/prescriptions/${rx.id}`, undefined, nurse);
    await dispense(rx.id);
    await eventually(async () => {
      const r = await stack.api('GET', `/api/audit?patientId=${p}`);
      const seen = r.body.items.filter((e: { resource: string; resourceId: string }) => e.resource === 'prescription' && e.resourceId === rx.id).map((e: { action: string }) => e.action);
      return ['create', 'read', 'dispense'].every((x) => seen.includes(x));
    }, 5000, 'audit rows');
  });
});
