// Billing end to end on each database driver: bill arithmetic from doctors' fees and stock
// prices, idempotent and partial payments, overpayment refused, concurrent payments that never
// take a bill over its total, patient scoping and the audit trail.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, startStack, type DbKind, type Stack } from '../helpers/stack.ts';
import { computeBill } from '../../server/records/billing.ts';
import { hashSecret } from '../../server/auth/passwords.ts';

describe.each<DbKind>(['pglite', 'postgres'])('billing on %s', (kind) => {
  let stack: Stack;
  let desk: string;
  let nurse: string;
  let doctorId: string;
  let patientId: string;
  let stockItemId: string;

  const user = async (role: string) => {
    const email = `${role}-${randomUUID().slice(0, 8)}@test.local`;
    const r = await stack.api('POST', '/api/auth/register', { email, name: role, password: 'long-enough-password', role });
    expect(r.status).toBe(201);
    return { id: r.body.id as string, token: await stack.login(email, 'long-enough-password') };
  };
  const newPatient = async () => {
    const r = await stack.api('POST', '/api/patients', { name: `Patient ${randomUUID().slice(0, 4)}` });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const bill = async (body: unknown, token = desk) => stack.api('POST', '/api/billing', body, token);
  const simpleBill = async (total: number) => {
    const r = await bill({ patientId, items: [{ kind: 'other', description: 'Dressing', quantity: 1, unitPrice: total }] });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  const pay = async (billId: string, body: unknown, key: string | null, token = desk) => {
    const res = await fetch(`${stack.base}/api/billing/pay/${billId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(key === null ? {} : { 'idempotency-key': key }) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any, replayed: res.headers.get('idempotent-replayed') };
  };
  const billOf = async (billId: string) => {
    const r = await stack.api('GET', `/api/billing/${patientId}?limit=500`);
    return r.body.items.find((b: { id: string }) => b.id === billId);
  };

  beforeAll(async () => {
    stack = await startStack(kind, inject('pgUrl'));
    desk = (await user('front-desk')).token;
    nurse = (await user('nurse')).token;
    const d = await stack.api('POST', '/api/doctors', { name: 'Dr Fee', fee: 5000 });
    expect(d.status).toBe(201);
    doctorId = d.body.id;
    patientId = await newPatient();
    const s = await stack.api('POST', '/api/stock', { itemName: 'Amoxicillin 500 mg', unit: 'capsule', batch: 'B1', unitPrice: 250 });
    expect(s.status).toBe(201);
    stockItemId = s.body.id;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('prices a bill from the doctor fee, stock unit price and explicit lines, with discount then tax', async () => {
    const r = await bill({
      patientId,
      items: [
        { kind: 'consultation', doctorId },
        { kind: 'medicine', stockItemId, quantity: 4 },
        { kind: 'lab', description: 'Full blood count', quantity: 1, unitPrice: 1999 },
      ],
      taxRate: 1800,
      discount: { percentBasisPoints: 1000 },
    });
    expect(r.status).toBe(201);
    // 5000 + 4 × 250 + 1999 = 7999; 10 % off = 799.9 → 800; 18 % of 7199 = 1295.82 → 1296.
    expect(r.body).toMatchObject({ patientId, subtotal: 7999, discount: 800, tax: 1296, total: 8495, paid: 0, balance: 8495, status: 'unpaid', currency: 'EUR' });
    expect(r.body.items).toEqual([
      expect.objectContaining({ kind: 'consultation', description: 'Consultation — Dr Fee', quantity: 1, unitPrice: 5000, amount: 5000 }),
      expect.objectContaining({ kind: 'medicine', description: 'Amoxicillin 500 mg (batch B1)', quantity: 4, unitPrice: 250, amount: 1000 }),
      expect.objectContaining({ kind: 'lab', description: 'Full blood count', quantity: 1, unitPrice: 1999, amount: 1999 }),
    ]);
    const pure = computeBill(r.body.items, 1800, { percentBasisPoints: 1000 });
    expect(pure.ok && pure.value.total).toBe(8495);

    const list = await stack.api('GET', `/api/billing/${patientId}`, undefined, desk);
    expect(list.status).toBe(200);
    expect(list.body.items.find((b: { id: string }) => b.id === r.body.id)).toMatchObject({ total: 8495, items: expect.any(Array), payments: [] });
  });

  it('refuses bad bills precisely', async () => {
    const fixed = await bill({ patientId, items: [{ kind: 'other', description: 'x', quantity: 1, unitPrice: 100 }], discount: { amount: 101 } });
    expect(fixed).toMatchObject({ status: 400, body: { error: { code: 'ERR_VALIDATION', message: 'discount 101 exceeds the subtotal 100' } } });
    const float = await bill({ patientId, items: [{ kind: 'other', description: 'x', quantity: 1, unitPrice: 1.5 }] });
    expect(float.status).toBe(400);
    const noDoctor = await bill({ patientId, items: [{ kind: 'consultation' }] });
    expect(noDoctor.status).toBe(400);
    expect(noDoctor.body.error.message).toMatch(/doctorId/);
    const ghost = await bill({ patientId: randomUUID(), items: [{ kind: 'other', description: 'x', quantity: 1, unitPrice: 1 }] });
    expect(ghost.status).toBe(400);
    expect((await bill({ patientId, items: [{ kind: 'other', description: 'x', quantity: 1, unitPrice: 1 }] }, nurse)).status).toBe(403);
  });

  it('takes an idempotent payment once, partial payments up to paid, and refuses overpayment', async () => {
    const id = await simpleBill(10_000);
    expect((await pay(id, { amount: 100, method: 'cash' }, null)).status).toBe(400);
    expect((await pay(id, { amount: 100, method: 'cash' }, '')).status).toBe(400);
    expect((await pay(id, { amount: 0, method: 'cash' }, 'k0')).status).toBe(400);
    expect((await pay(id, { amount: 100, method: 'cheque' }, 'k0')).status).toBe(400);

    const key = randomUUID();
    const first = await pay(id, { amount: 3000, method: 'card' }, key);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ payment: { billId: id, amount: 3000, method: 'card', idempotencyKey: key }, bill: { total: 10_000, paid: 3000, balance: 7000, status: 'partial' } });
    expect(first.replayed).toBeNull();

    // Another payment in between: the replay still answers what the first request answered.
    expect((await pay(id, { amount: 2000, method: 'cash' }, randomUUID())).body.bill).toMatchObject({ paid: 5000, status: 'partial' });
    const again = await pay(id, { amount: 3000, method: 'card' }, key);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.replayed).toBe('true');
    const different = await pay(id, { amount: 3001, method: 'card' }, key);
    expect(different).toMatchObject({ status: 409, body: { error: { code: 'ERR_IDEMPOTENCY_KEY_REUSED' } } });
    // A key already used on another bill says nothing about that payment (it may be someone else's).
    const elsewhere = await pay(await simpleBill(500), { amount: 3000, method: 'card' }, key);
    expect(elsewhere).toMatchObject({ status: 409, body: { error: { code: 'ERR_IDEMPOTENCY_KEY_REUSED', message: 'idempotency key already used for another payment: use a new key' } } });
    expect(JSON.stringify(elsewhere.body)).not.toContain(id);

    const over = await pay(id, { amount: 5001, method: 'card' }, randomUUID());
    expect(over).toMatchObject({ status: 409, body: { error: { code: 'ERR_PAYMENT_REFUSED', message: 'overpayment refused: the balance is 5000, the payment 5001' } } });
    const last = await pay(id, { amount: 5000, method: 'cash' }, randomUUID());
    expect(last.body.bill).toMatchObject({ paid: 10_000, balance: 0, status: 'paid' });
    expect(await pay(id, { amount: 1, method: 'cash' }, randomUUID())).toMatchObject({ status: 409, body: { error: { code: 'ERR_PAYMENT_REFUSED', message: 'the bill is already paid' } } });

    const b = await billOf(id);
    expect(b).toMatchObject({ paid: 10_000, status: 'paid' });
    expect(b.payments.map((p: { amount: number }) => p.amount)).toEqual([3000, 2000, 5000]);
    const tx = await stack.api('GET', `/api/billing/transactions?billId=${id}`, undefined, desk);
    expect(tx.status).toBe(200);
    expect(tx.body.total).toBe(3);
    expect(tx.body.items.filter((p: { idempotencyKey: string }) => p.idempotencyKey === key)).toHaveLength(1);
    const cards = await stack.api('GET', `/api/billing/transactions?billId=${id}&method=card`, undefined, desk);
    expect(cards.body.items.map((p: { amount: number }) => p.amount)).toEqual([3000]);
    expect((await stack.api('GET', '/api/billing/transactions', undefined, nurse)).status).toBe(403);
  });

  it('never takes a bill over its total under concurrent payments', async () => {
    const id = await simpleBill(1000);
    const results = await Promise.all(Array.from({ length: 10 }, () => pay(id, { amount: 150, method: 'card' }, randomUUID())));
    const accepted = results.filter((r) => r.status === 200);
    expect(accepted).toHaveLength(6); // 6 × 150 = 900; a 7th would make 1050
    expect(results.filter((r) => r.status === 409)).toHaveLength(4);
    const b = await billOf(id);
    expect(b).toMatchObject({ total: 1000, paid: 900, status: 'partial' });
    expect(b.payments.reduce((s: number, p: { amount: number }) => s + p.amount, 0)).toBe(900);
    // Each accepted answer saw a distinct running total.
    expect(new Set(accepted.map((r) => r.body.bill.paid)).size).toBe(6);
  });

  it('charges once when the same key arrives concurrently', async () => {
    const id = await simpleBill(1000);
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 5 }, () => pay(id, { amount: 400, method: 'cash' }, key)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    for (const r of results) expect(r.body).toEqual(results[0]!.body);
    const b = await billOf(id);
    expect(b.payments).toHaveLength(1);
    expect(b).toMatchObject({ paid: 400, status: 'partial' });
  });

  it('shows a patient account only its own bills, and does not let it record a payment itself', async () => {
    const other = await newPatient();
    const mine = await newPatient();
    const otherBill = (await bill({ patientId: other, items: [{ kind: 'other', description: 'x', quantity: 1, unitPrice: 100 }] })).body.id;
    const myBill = (await bill({ patientId: mine, items: [{ kind: 'other', description: 'x', quantity: 1, unitPrice: 100 }] })).body.id;
    const email = `patient-${randomUUID().slice(0, 8)}@test.local`;
    await stack.server.db.driver.query(`INSERT INTO users (id, email, name, role, password_hash, patient_id) VALUES ($1, $2, 'P', 'patient', $3, $4)`, [
      randomUUID(),
      email,
      await hashSecret('long-enough-password'),
      mine,
    ]);
    const token = await stack.login(email, 'long-enough-password');
    const own = await stack.api('GET', `/api/billing/${mine}`, undefined, token);
    expect(own.status).toBe(200);
    expect(own.body.items.map((b: { id: string }) => b.id)).toEqual([myBill]);
    expect((await stack.api('GET', `/api/billing/${other}`, undefined, token)).status).toBe(404);
    expect((await pay(otherBill, { amount: 100, method: 'online' }, randomUUID(), token)).status).toBe(403);
    expect((await pay(myBill, { amount: 100, method: 'cash' }, randomUUID(), token)).status).toBe(403);
    // Online payments are proven by the payment provider (test/int/payments.int.test.ts), never self-declared.
    const online = await pay(myBill, { amount: 100, method: 'online' }, randomUUID(), token);
    expect(online.status).toBe(403);
    expect(online.body.error.message).toMatch(/POST \/api\/billing\/\{billId\}\/orders/);
    expect((await stack.api('GET', `/api/billing/${mine}`, undefined, desk)).body.items[0].payments).toEqual([]);
  });

  it('describes the billing, stock and prescription endpoints in the OpenAPI document', async () => {
    const doc = await stack.api('GET', '/api/openapi.json', undefined, null);
    const ops = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, m]) => Object.keys(m).map((x) => `${x} ${path}`));
    expect(ops).toEqual(
      expect.arrayContaining([
        'post /api/billing',
        'get /api/billing/{patientId}',
        'post /api/billing/pay/{billingId}',
        'post /api/billing/{billId}/orders',
        'post /api/billing/payments/verify',
        'post /api/billing/payments/webhook',
        'get /api/billing/transactions',
        'post /api/stock/{id}/receive',
        'post /api/stock/{id}/dispense',
        'post /api/stock/{id}/adjust',
        'get /api/stock/low',
        'get /api/stock/expiring',
        'get /api/stock/{id}/movements',
        'post /api/prescriptions',
        'get /api/prescriptions',
        'get /api/prescriptions/{id}',
        'post /api/prescriptions/{id}/dispense',
      ]),
    );
  });

  it('writes the bill and payment to the audit trail', async () => {
    const p = await newPatient();
    const id = (await bill({ patientId: p, items: [{ kind: 'other', description: 'x', quantity: 1, unitPrice: 100 }] })).body.id;
    await pay(id, { amount: 100, method: 'cash' }, randomUUID());
    await stack.api('GET', `/api/billing/${p}`, undefined, desk);
    const rows = await eventually(async () => {
      const r = await stack.api('GET', `/api/audit?patientId=${p}`);
      const actions = r.body.items.map((a: { action: string; resource: string }) => `${a.action} ${a.resource}`);
      return ['create bill', 'pay bill', 'list bill'].every((a) => actions.includes(a)) && r.body.items;
    }, 5000, 'audit rows');
    expect(rows.find((a: { action: string }) => a.action === 'pay')).toMatchObject({ resourceId: id, patientId: p, actorRole: 'front-desk', details: { amount: 100, method: 'cash' } });
  });
});
