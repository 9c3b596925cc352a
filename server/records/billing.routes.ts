// Billing: generate a bill (prices from doctors' fees, stock unit prices or given explicitly),
// list a patient's bills, take payments (idempotent, partial, never above the total) and list
// transactions. The arithmetic is in billing.ts; this file prices, stores and wires.
import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { Queryable } from '../../db/driver.ts';
import { DbError } from '../../db/driver.ts';
import { type AppContext, allow, auditOf, handler } from '../http/context.ts';
import { idParam, instant, paging, parse, uuid } from '../http/validate.ts';
import { describeRoute } from '../http/openapi.ts';
import { Errors } from '../errors.ts';
import { dbConflict } from './resource.ts';
import { assertPatientVisible, assertVisible } from './scope.ts';
import { applyPayment, computeBill, statusOf, type BillItemInput, type BillStatus } from './billing.ts';
import { iso, paymentResult, toPayment } from './billing.store.ts';
import { paymentOrderRoutes } from './payments.routes.ts';

const KINDS = ['consultation', 'lab', 'medicine', 'other'] as const;
const METHODS = ['cash', 'card', 'online'] as const;
const text = z.string().trim().min(1, 'required').max(200);
const quantity = z.number().int('must be an integer').min(1).max(10_000);
/** Minor units (cents). */
const money = z.number().int('must be an integer number of minor units').min(0).max(100_000_000);

const explicitItem = z.strictObject({ kind: z.enum(KINDS), description: text, quantity, unitPrice: money });
/** Priced at the doctor's fee; without doctorId, the doctor of the bill's appointment. */
const consultationItem = z.strictObject({ kind: z.literal('consultation'), doctorId: uuid.optional(), quantity: quantity.default(1), description: text.optional() });
/** Priced at the stock item's unit price. */
const medicineItem = z.strictObject({ kind: z.literal('medicine'), stockItemId: uuid, quantity, description: text.optional() });
type ItemIn = z.infer<typeof explicitItem> | z.infer<typeof consultationItem> | z.infer<typeof medicineItem>;

const createBody = z.strictObject({
  patientId: uuid,
  items: z.array(z.union([explicitItem, consultationItem, medicineItem])).min(1, 'at least one item').max(200),
  /** Basis points: 1800 = 18 %. */
  taxRate: z.number().int().min(0).max(10_000).default(0),
  discount: z.union([z.strictObject({ percentBasisPoints: z.number().int().min(0).max(10_000) }), z.strictObject({ amount: money })]).optional(),
  appointmentId: uuid.optional(),
});

/** What the desk records by hand. Online payments are recorded only on the provider's proof (payments.routes.ts). */
const DESK_METHODS = ['cash', 'card'] as const;
const payBody = z.strictObject({
  amount: z.number().int('must be an integer number of minor units').min(1).max(1_000_000_000_000),
  method: z.enum(DESK_METHODS, { error: "must be 'cash' or 'card'" }),
});
const ONLINE_HERE = "body.method: 'online' is not recorded here — online payments are confirmed by the payment provider: POST /api/billing/{billId}/orders, pay at the provider's checkout, and its signed confirmation (POST /api/billing/payments/verify) records the payment";
const PATIENT_PAYS_ONLINE =
  'a patient account pays online through the payment provider: create an order with POST /api/billing/{billId}/orders and pay it at the checkout; cash and card are taken at the front desk';
const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'must be 1–200 visible ASCII characters');

const listQuery = z.strictObject({ status: z.enum(['unpaid', 'partial', 'paid', 'void']).optional(), ...paging });
const txQuery = z.strictObject({ patientId: uuid.optional(), billId: uuid.optional(), method: z.enum(METHODS).optional(), from: instant.optional(), to: instant.optional(), ...paging });

// ---------------------------------------------------------------- storage

const toBill = (r: Record<string, unknown>) => ({
  id: r.id as string,
  patientId: r.patient_id as string,
  appointmentId: (r.appointment_id as string | null | undefined) ?? null,
  taxRate: Number(r.tax_rate_bp ?? 0),
  subtotal: Number(r.subtotal),
  discount: Number(r.discount),
  tax: Number(r.tax),
  total: Number(r.total),
  paid: Number(r.paid),
  balance: Number(r.total) - Number(r.paid),
  currency: r.currency as string,
  status: r.status as BillStatus,
  createdBy: (r.created_by as string | null) ?? null,
  createdAt: iso(r.created_at),
});

const toItem = (r: Record<string, unknown>) => ({
  id: Number(r.id),
  kind: r.kind as string,
  description: r.description as string,
  quantity: Number(r.quantity),
  unitPrice: Number(r.unit_price),
  amount: Number(r.amount),
});

/** Bills with their items and payments. */
async function withDetails(db: Queryable, bills: Record<string, unknown>[]) {
  const ids = bills.map((b) => b.id as string);
  if (ids.length === 0) return [];
  const [items, payments] = await Promise.all([
    db.query('SELECT * FROM bill_items WHERE bill_id = ANY($1::uuid[]) ORDER BY id', [ids]),
    db.query('SELECT * FROM payments WHERE bill_id = ANY($1::uuid[]) ORDER BY created_at, id', [ids]),
  ]);
  return bills.map((b) => ({
    ...toBill(b),
    items: items.rows.filter((i) => i.bill_id === b.id).map(toItem),
    payments: payments.rows.filter((p) => p.bill_id === b.id).map(toPayment),
  }));
}

type Existing = { id: string; bill_id: string; amount: number; method: string };

async function findByKey(db: Queryable, key: string): Promise<Existing | null> {
  const { rows } = await db.query<Existing>('SELECT id, bill_id, amount, method FROM payments WHERE idempotency_key = $1', [key]);
  return rows[0] ?? null;
}

/** The same key with the same request is a replay; with anything else, a conflict. */
function checkReplay(found: Existing, billId: string, body: z.infer<typeof payBody>): void {
  // Says nothing about the other payment: a key may have been someone else's.
  if (found.bill_id !== billId) throw Errors.conflict('idempotency key already used for another payment: use a new key');
  if (Number(found.amount) !== body.amount || found.method !== body.method) {
    throw Errors.conflict(`idempotency key already used on this bill with a different amount or method (${Number(found.amount)}, ${found.method})`);
  }
}

/** Turn each requested item into a priced line, from the database where it names a doctor or a stock item. */
async function priceItems(tx: Queryable, items: ItemIn[], appointmentDoctor: string | null): Promise<BillItemInput[]> {
  const out: BillItemInput[] = [];
  for (const [i, it] of items.entries()) {
    if ('unitPrice' in it) out.push(it);
    else if (it.kind === 'consultation') {
      const doctorId = it.doctorId ?? appointmentDoctor;
      if (!doctorId) throw Errors.validation(`body.items.${i}.doctorId: required (or give the bill an appointmentId)`);
      const { rows } = await tx.query<{ name: string; fee: number }>('SELECT name, fee FROM doctors WHERE id = $1', [doctorId]);
      if (!rows[0]) throw Errors.validation(`body.items.${i}.doctorId: doctor '${doctorId}' not found`);
      out.push({ kind: 'consultation', description: it.description ?? `Consultation — ${rows[0].name}`, quantity: it.quantity, unitPrice: Number(rows[0].fee) });
    } else {
      const { rows } = await tx.query<{ item_name: string; batch: string | null; unit_price: number }>('SELECT item_name, batch, unit_price FROM stock_items WHERE id = $1', [it.stockItemId]);
      if (!rows[0]) throw Errors.validation(`body.items.${i}.stockItemId: stock item '${it.stockItemId}' not found`);
      const name = rows[0].batch ? `${rows[0].item_name} (batch ${rows[0].batch})` : rows[0].item_name;
      out.push({ kind: 'medicine', description: it.description ?? name, quantity: it.quantity, unitPrice: Number(rows[0].unit_price) });
    }
  }
  return out;
}

// ---------------------------------------------------------------- routes

export function billingRoutes(ctx: AppContext): Router {
  const r = Router();
  // Online payment orders and the provider's confirmation (POST only: no clash with '/:patientId').
  r.use(paymentOrderRoutes(ctx));
  describeRoute({ method: 'post', path: '/api/billing', tag: 'billing', summary: 'Generate a bill: consultation fees, lab tests, medicines; tax and discount (integer minor units)', permission: 'billing:create', body: createBody, status: 201 });
  r.post(
    '/',
    allow('billing:create'),
    handler(async (req, res) => {
      const body = parse(createBody, req.body, 'body');
      const bill = await ctx.db.driver
        .transaction(async (tx) => {
          let appointmentDoctor: string | null = null;
          if (body.appointmentId) {
            const { rows } = await tx.query<{ patient_id: string; doctor_id: string }>('SELECT patient_id, doctor_id FROM appointments WHERE id = $1', [body.appointmentId]);
            if (!rows[0]) throw Errors.validation(`body.appointmentId: appointment '${body.appointmentId}' not found`);
            if (rows[0].patient_id !== body.patientId) throw Errors.validation('body.appointmentId: the appointment is for another patient');
            appointmentDoctor = rows[0].doctor_id;
          }
          const priced = computeBill(await priceItems(tx, body.items, appointmentDoctor), body.taxRate, body.discount);
          if (!priced.ok) throw Errors.validation(priced.error);
          const b = priced.value;
          const id = randomUUID();
          const { rows } = await tx.query(
            `INSERT INTO bills (id, patient_id, subtotal, tax, discount, total, paid, status, created_by, appointment_id, tax_rate_bp, discount_rule)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11::jsonb) RETURNING *`,
            [id, body.patientId, b.subtotal, b.tax, b.discount, b.total, statusOf(b.total, 0), req.user!.id, body.appointmentId ?? null, body.taxRate ?? 0, body.discount ? JSON.stringify(body.discount) : null],
          );
          for (const l of b.lines) {
            await tx.query('INSERT INTO bill_items (bill_id, kind, description, quantity, unit_price, amount) VALUES ($1, $2, $3, $4, $5, $6)', [id, l.kind, l.description, l.quantity, l.unitPrice, l.amount]);
          }
          return (await withDetails(tx, rows))[0]!;
        })
        .catch((e) => dbConflict(e, 'bill'));
      ctx.audit(auditOf(req, 'create', 'bill', bill.id, bill.patientId, { total: bill.total, appointmentId: body.appointmentId ?? null, taxRate: body.taxRate, discount: body.discount ?? null }));
      res.status(201).json(bill);
    }),
  );

  // Before '/:patientId', which would otherwise refuse 'transactions' as a malformed id.
  describeRoute({ method: 'get', path: '/api/billing/transactions', tag: 'billing', summary: 'Payments, newest first (filters: patientId, billId, method, from, to)', permission: 'billing:transactions', query: txQuery });
  r.get(
    '/transactions',
    allow('billing:transactions'),
    handler(async (req, res) => {
      const q = parse(txQuery, req.query, 'query');
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, v: unknown) => {
        params.push(v);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (q.patientId) add('b.patient_id = ?', q.patientId);
      if (q.billId) add('p.bill_id = ?', q.billId);
      if (q.method) add('p.method = ?', q.method);
      if (q.from) add('p.created_at >= ?', q.from.toISOString());
      if (q.to) add('p.created_at < ?', q.to.toISOString());
      const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const { rows } = await ctx.db.driver.query(
        `SELECT p.*, b.patient_id, count(*) OVER ()::int AS __total FROM payments p JOIN bills b ON b.id = p.bill_id ${w}
         ORDER BY p.created_at DESC, p.id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, q.limit, q.offset],
      );
      ctx.audit(auditOf(req, 'list', 'payment', null, q.patientId ?? null, { count: rows.length }));
      res.json({ items: rows.map((row) => ({ ...toPayment(row), patientId: row.patient_id as string })), total: Number(rows[0]?.__total ?? 0), limit: q.limit, offset: q.offset });
    }),
  );

  describeRoute({ method: 'get', path: '/api/billing/{patientId}', tag: 'billing', summary: "A patient's bills, newest first, with items and payments", permission: 'billing:read', query: listQuery });
  r.get(
    '/:patientId',
    allow('billing:read'),
    handler(async (req, res) => {
      const patientId = idParam(req.params.patientId, 'patientId');
      const q = parse(listQuery, req.query, 'query');
      // Someone else's bills answer like a missing patient.
      await assertPatientVisible(ctx, req.user!, patientId);
      const params: unknown[] = [patientId, q.limit, q.offset];
      if (q.status) params.push(q.status);
      const { rows } = await ctx.db.driver.query(
        `SELECT *, count(*) OVER ()::int AS __total FROM bills WHERE patient_id = $1 ${q.status ? 'AND status = $4' : ''}
         ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`,
        params,
      );
      const items = await withDetails(ctx.db.driver, rows);
      ctx.audit(auditOf(req, 'list', 'bill', null, patientId, { count: items.length }));
      res.json({ items, total: Number(rows[0]?.__total ?? 0), limit: q.limit, offset: q.offset });
    }),
  );

  describeRoute({ method: 'post', path: '/api/billing/pay/{billingId}', tag: 'billing', summary: 'Record a cash or card payment taken at the front desk (part of a bill); header Idempotency-Key required — a repeat returns the first result, never charges twice. Online payments: POST /api/billing/{billId}/orders', permission: 'billing:pay', body: payBody });
  r.post(
    '/pay/:billingId',
    // Least privilege (issue 11, finding 2): only the desk that took the money records it. A patient
    // is told where online payment is; everyone else gets the table's 403.
    (req, _res, next) => next(req.user?.role === 'patient' ? Errors.forbidden(PATIENT_PAYS_ONLINE) : undefined),
    allow('billing:pay'),
    handler(async (req, res) => {
      const billId = idParam(req.params.billingId, 'billingId');
      const rawKey = req.get('Idempotency-Key');
      if (rawKey === undefined) throw Errors.validation('header Idempotency-Key is required (a unique value per payment attempt, reused on retry)');
      const keyCheck = idempotencyKey.safeParse(rawKey);
      if (!keyCheck.success) throw Errors.validation(`header Idempotency-Key: ${keyCheck.error.issues[0]!.message}`);
      const key = keyCheck.data;
      if ((req.body as { method?: unknown } | null)?.method === 'online') throw Errors.validation(ONLINE_HERE);
      const body = parse(payBody, req.body, 'body');

      const owner = await ctx.db.driver.query<{ patient_id: string }>('SELECT patient_id FROM bills WHERE id = $1', [billId]);
      await assertVisible(ctx, req.user!, owner.rows[0]?.patient_id, 'bill', billId);

      let replayed = false;
      const result = await ctx.db.driver
        .transaction(async (tx) => {
          // The row lock serialises payments on this bill: each sees the paid sum the previous left.
          const { rows } = await tx.query('SELECT total, paid, status FROM bills WHERE id = $1 FOR UPDATE', [billId]);
          const bill = rows[0]!;
          const found = await findByKey(tx, key);
          if (found) {
            checkReplay(found, billId, body);
            replayed = true;
            return paymentResult(tx, found.id);
          }
          const applied = applyPayment({ total: Number(bill.total), paid: Number(bill.paid), status: bill.status as BillStatus }, body.amount);
          if (!applied.ok) throw Errors.conflict(applied.error);
          const id = randomUUID();
          await tx.query(
            `INSERT INTO payments (id, bill_id, amount, method, idempotency_key, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp())`,
            [id, billId, body.amount, body.method, key, req.user!.id],
          );
          await tx.query('UPDATE bills SET paid = $2, status = $3 WHERE id = $1', [billId, applied.value.paid, applied.value.status]);
          return paymentResult(tx, id);
        })
        .catch(async (err) => {
          // The same key raced in on another bill's lock: whoever lost answers from the winner's row.
          if (err instanceof DbError && err.code === '23505') {
            const found = await findByKey(ctx.db.driver, key);
            if (found) {
              checkReplay(found, billId, body);
              replayed = true;
              return paymentResult(ctx.db.driver, found.id);
            }
          }
          throw err;
        });
      if (replayed) res.setHeader('Idempotent-Replayed', 'true');
      else ctx.audit(auditOf(req, 'pay', 'bill', billId, result.bill.patientId, { paymentId: result.payment.id, amount: body.amount, method: body.method }));
      res.json(result);
    }),
  );
  return r;
}
