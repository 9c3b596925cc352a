// Billing storage shared by the desk's payments (billing.routes.ts) and the provider-proven online
// payments (payments.routes.ts): payment rows, "the bill right after this payment", payment orders,
// and recording a payment the provider confirmed — once.
import { randomUUID } from 'node:crypto';
import type { Driver, Queryable } from '../../db/driver.ts';
import { DbError } from '../../db/driver.ts';
import { Errors } from '../errors.ts';
import { applyPayment, statusOf, type BillStatus } from './billing.ts';

export const iso = (v: unknown) => new Date(v as string).toISOString();

export const toPayment = (r: Record<string, unknown>) => ({
  id: r.id as string,
  billId: r.bill_id as string,
  amount: Number(r.amount),
  method: r.method as string,
  /** The client's key (desk payments); null for a payment the provider proved. */
  idempotencyKey: (r.idempotency_key as string | null) ?? null,
  /** The provider's payment id (online payments); null for cash and card. */
  providerPaymentId: (r.provider_payment_id as string | null | undefined) ?? null,
  createdBy: (r.created_by as string | null) ?? null,
  createdAt: iso(r.created_at),
});

export type PaymentResult = Awaited<ReturnType<typeof paymentResult>>;

/**
 * A payment and the bill as it stood right after it. Payments on a bill are serialised by the
 * bill's row lock and stamped with clock_timestamp() after taking it, so "paid after" is the sum
 * up to this one: a replay answers exactly what the first request answered.
 */
export async function paymentResult(db: Queryable, paymentId: string) {
  const { rows } = await db.query(
    `SELECT p.*, b.total, b.patient_id,
       (SELECT sum(q.amount) FROM payments q WHERE q.bill_id = p.bill_id AND (q.created_at, q.id) <= (p.created_at, p.id)) AS paid_after
     FROM payments p JOIN bills b ON b.id = p.bill_id WHERE p.id = $1`,
    [paymentId],
  );
  const r = rows[0]!;
  const total = Number(r.total);
  const paid = Number(r.paid_after);
  return { payment: toPayment(r), bill: { id: r.bill_id as string, patientId: r.patient_id as string, total, paid, balance: total - paid, status: statusOf(total, paid) } };
}

// ---------------------------------------------------------------- payment orders

export type OrderStatus = 'created' | 'paid';

export const toOrder = (r: Record<string, unknown>) => ({
  id: r.id as string,
  /** The provider's order id: what the checkout is opened with. */
  providerOrderId: r.provider_order_id as string,
  billId: r.bill_id as string,
  amount: Number(r.amount),
  currency: r.currency as string,
  status: r.status as OrderStatus,
  providerPaymentId: (r.provider_payment_id as string | null) ?? null,
  paymentId: (r.payment_id as string | null) ?? null,
  createdBy: (r.created_by as string | null) ?? null,
  createdAt: iso(r.created_at),
  paidAt: r.paid_at ? iso(r.paid_at) : null,
});
export type PaymentOrder = ReturnType<typeof toOrder>;

/** A bill's state for taking an order: null when there is no such bill. */
export async function billForOrder(db: Queryable, billId: string) {
  const { rows } = await db.query<{ patient_id: string; total: string; paid: string; status: BillStatus; currency: string }>(
    'SELECT patient_id, total, paid, status, currency FROM bills WHERE id = $1',
    [billId],
  );
  const b = rows[0];
  return b ? { patientId: b.patient_id, total: Number(b.total), paid: Number(b.paid), status: b.status, currency: b.currency } : null;
}

/**
 * The newest unpaid order of this bill for exactly this amount: a second "pay" click while the
 * first checkout is still open reuses it, and the provider takes one payment per order.
 */
export async function openOrder(db: Queryable, billId: string, amount: number, currency: string): Promise<PaymentOrder | null> {
  const { rows } = await db.query(
    `SELECT * FROM payment_orders WHERE bill_id = $1 AND status = 'created' AND amount = $2 AND currency = $3 ORDER BY created_at DESC, id LIMIT 1`,
    [billId, amount, currency],
  );
  return rows[0] ? toOrder(rows[0]) : null;
}

export async function insertOrder(db: Queryable, o: { providerOrderId: string; billId: string; amount: number; currency: string; createdBy: string | null }): Promise<PaymentOrder> {
  const { rows } = await db.query(
    `INSERT INTO payment_orders (id, provider_order_id, bill_id, amount, currency, status, created_by) VALUES ($1, $2, $3, $4, $5, 'created', $6) RETURNING *`,
    [randomUUID(), o.providerOrderId, o.billId, o.amount, o.currency, o.createdBy],
  );
  return toOrder(rows[0]!);
}

/** An order by the provider's id, with the patient its bill is for. */
export async function orderByProviderId(db: Queryable, providerOrderId: string): Promise<(PaymentOrder & { patientId: string }) | null> {
  const { rows } = await db.query('SELECT o.*, b.patient_id FROM payment_orders o JOIN bills b ON b.id = o.bill_id WHERE o.provider_order_id = $1', [providerOrderId]);
  return rows[0] ? { ...toOrder(rows[0]), patientId: rows[0].patient_id as string } : null;
}

async function replayOf(db: Queryable, providerOrderId: string, providerPaymentId: string): Promise<PaymentResult | null> {
  const { rows } = await db.query<{ id: string; provider_order_id: string }>(
    'SELECT p.id, o.provider_order_id FROM payments p JOIN payment_orders o ON o.id = p.order_id WHERE p.provider_payment_id = $1',
    [providerPaymentId],
  );
  if (!rows[0]) return null;
  if (rows[0].provider_order_id !== providerOrderId) throw Errors.conflict(`payment '${providerPaymentId}' is already recorded for another order`);
  return paymentResult(db, rows[0].id);
}

/**
 * Record a payment the provider proved (the caller has checked its signature): against the
 * order's bill, for the order's amount, exactly once. The order's row lock serialises the
 * checkout callback and the webhook for one order; the bill's row lock (always taken after it)
 * serialises this with the desk's payments on the bill. The payment row, the bill and the order
 * moving to 'paid' commit together; the unique provider payment id makes a replay a read.
 */
export async function recordProviderPayment(
  driver: Driver,
  p: { providerOrderId: string; providerPaymentId: string; recordedBy: string | null },
): Promise<{ replayed: boolean; result: PaymentResult; order: PaymentOrder }> {
  const attempt = () =>
    driver.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT * FROM payment_orders WHERE provider_order_id = $1 FOR UPDATE', [p.providerOrderId]);
      if (!rows[0]) throw Errors.notFound('payment order', p.providerOrderId);
      const order = toOrder(rows[0]);
      if (order.status === 'paid') {
        if (order.providerPaymentId === p.providerPaymentId) return { replayed: true, result: await paymentResult(tx, order.paymentId!), order };
        throw Errors.conflict(
          `order '${order.providerOrderId}' is already paid by payment '${order.providerPaymentId}': payment '${p.providerPaymentId}' was not recorded — refund it at the payment provider`,
        );
      }
      const bill = (await tx.query('SELECT total, paid, status FROM bills WHERE id = $1 FOR UPDATE', [order.billId])).rows[0]!;
      const applied = applyPayment({ total: Number(bill.total), paid: Number(bill.paid), status: bill.status as BillStatus }, order.amount);
      if (!applied.ok) {
        throw Errors.conflict(`${applied.error}: payment '${p.providerPaymentId}' of ${order.amount} for order '${order.providerOrderId}' was not recorded — refund it at the payment provider`);
      }
      const id = randomUUID();
      await tx.query(
        `INSERT INTO payments (id, bill_id, amount, method, idempotency_key, provider_payment_id, order_id, created_by, created_at)
         VALUES ($1, $2, $3, 'online', NULL, $4, $5, $6, clock_timestamp())`,
        [id, order.billId, order.amount, p.providerPaymentId, order.id, p.recordedBy],
      );
      await tx.query('UPDATE bills SET paid = $2, status = $3 WHERE id = $1', [order.billId, applied.value.paid, applied.value.status]);
      const paid = await tx.query(
        `UPDATE payment_orders SET status = 'paid', provider_payment_id = $2, payment_id = $3, paid_at = clock_timestamp() WHERE id = $1 RETURNING *`,
        [order.id, p.providerPaymentId, id],
      );
      return { replayed: false, result: await paymentResult(tx, id), order: toOrder(paid.rows[0]!) };
    });
  return attempt().catch(async (err) => {
    // The unique provider payment id held against a racing insert: answer from the winner's row.
    if (err instanceof DbError && err.code === '23505') {
      const replay = await replayOf(driver, p.providerOrderId, p.providerPaymentId);
      const order = await orderByProviderId(driver, p.providerOrderId);
      if (replay && order) return { replayed: true, result: replay, order };
    }
    throw err;
  });
}
