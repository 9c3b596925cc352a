// Billing storage: bills with their items and payments, the desk's idempotent payments, payment
// orders, and recording a payment the provider proved — once. The arithmetic is billing.ts (pure);
// the routes (billing.routes.ts, payments.routes.ts) only wire. Row mapping is written once per
// table here, and every read and change of a bill or payment is audited here, with the patient.
import { randomUUID } from 'node:crypto';
import { DbError, type Driver, type Queryable } from '../../db/driver.ts';
import { Where, isoAt, iso, page, type Page } from '../../db/rows.ts';
import type { Principal } from '../domain/roles.ts';
import { Errors, fail } from '../errors.ts';
import { applyPayment, computeBill, statusOf, type BillItemInput, type BillItemKind, type BillStatus, type Discount } from './billing.ts';
import { linkedAppointment } from './appointment-link.store.ts';
import { Repository, auditEntry, refusal, type Actor, type RepoDeps } from './repository.ts';
import { receiptMessage } from '../notify/messages.ts';
import type { PatientNotifier } from '../notify/notifications.ts';
import { visiblePatients } from './scope.ts';
import { doctorSpec, patientSpec, stockItemSpec } from './specs.ts';

// ---------------------------------------------------------------- records

export type Payment = {
  id: string;
  billId: string;
  amount: number;
  method: string;
  /** The client's key (desk payments); null for a payment the provider proved. */
  idempotencyKey: string | null;
  /** The provider's payment id (online payments); null for cash and card. */
  providerPaymentId: string | null;
  createdBy: string | null;
  createdAt: string;
};

export type BillItem = { id: number; kind: string; description: string; quantity: number; unitPrice: number; amount: number };

export type Bill = {
  id: string;
  patientId: string;
  appointmentId: string | null;
  taxRate: number;
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  paid: number;
  balance: number;
  currency: string;
  status: BillStatus;
  createdBy: string | null;
  createdAt: string;
};

export type BillWithDetails = Bill & { items: BillItem[]; payments: Payment[] };

export type OrderStatus = 'created' | 'paid';

export type PaymentOrder = {
  id: string;
  /** The provider's order id: what the checkout is opened with. */
  providerOrderId: string;
  billId: string;
  amount: number;
  currency: string;
  status: OrderStatus;
  providerPaymentId: string | null;
  paymentId: string | null;
  createdBy: string | null;
  createdAt: string;
  paidAt: string | null;
};

/** A payment and the bill as it stood right after it. */
export type PaymentResult = {
  payment: Payment;
  bill: { id: string; patientId: string; total: number; paid: number; balance: number; status: BillStatus };
};

const toPayment = (r: Record<string, unknown>): Payment => ({
  id: r.id as string,
  billId: r.bill_id as string,
  amount: r.amount as number,
  method: r.method as string,
  idempotencyKey: (r.idempotency_key as string | null) ?? null,
  providerPaymentId: (r.provider_payment_id as string | null | undefined) ?? null,
  createdBy: (r.created_by as string | null) ?? null,
  createdAt: isoAt(r.created_at),
});

const toBill = (r: Record<string, unknown>): Bill => ({
  id: r.id as string,
  patientId: r.patient_id as string,
  appointmentId: (r.appointment_id as string | null | undefined) ?? null,
  taxRate: (r.tax_rate_bp as number | null) ?? 0,
  subtotal: r.subtotal as number,
  discount: r.discount as number,
  tax: r.tax as number,
  total: r.total as number,
  paid: r.paid as number,
  balance: (r.total as number) - (r.paid as number),
  currency: r.currency as string,
  status: r.status as BillStatus,
  createdBy: (r.created_by as string | null) ?? null,
  createdAt: isoAt(r.created_at),
});

const toItem = (r: Record<string, unknown>): BillItem => ({
  id: r.id as number,
  kind: r.kind as string,
  description: r.description as string,
  quantity: r.quantity as number,
  unitPrice: r.unit_price as number,
  amount: r.amount as number,
});

const toOrder = (r: Record<string, unknown>): PaymentOrder => ({
  id: r.id as string,
  providerOrderId: r.provider_order_id as string,
  billId: r.bill_id as string,
  amount: r.amount as number,
  currency: r.currency as string,
  status: r.status as OrderStatus,
  providerPaymentId: (r.provider_payment_id as string | null) ?? null,
  paymentId: (r.payment_id as string | null) ?? null,
  createdBy: (r.created_by as string | null) ?? null,
  createdAt: isoAt(r.created_at),
  paidAt: iso(r.paid_at),
});

const BILL_COLS = 'id, patient_id, appointment_id, tax_rate_bp, subtotal, discount, tax, total, paid, currency, status, created_by, created_at';

// Constraint names (db/migrations 003, 008; PostgreSQL's default names).
const KEY_TAKEN = 'payments_idempotency_key_key';
const PROVIDER_PAYMENT_TAKEN = new Set(['payments_provider_payment_id_key', 'payment_orders_provider_payment_id_key']);
const PROVIDER_ORDER_TAKEN = 'payment_orders_provider_order_id_key';
const refusedBy = (err: unknown, name: string | Set<string>) =>
  err instanceof DbError && err.constraint !== undefined && (typeof name === 'string' ? err.constraint === name : name.has(err.constraint));

/**
 * A payment and the bill as it stood right after it. Payments on a bill are serialised by the
 * bill's row lock and stamped with clock_timestamp() after taking it, so "paid after" is the sum
 * up to this one: a replay answers exactly what the first request answered.
 */
async function paymentResult(db: Queryable, paymentId: string): Promise<PaymentResult> {
  const { rows } = await db.query(
    `SELECT p.*, b.total, b.patient_id,
       (SELECT sum(q.amount) FROM payments q WHERE q.bill_id = p.bill_id AND (q.created_at, q.id) <= (p.created_at, p.id)) AS paid_after
     FROM payments p JOIN bills b ON b.id = p.bill_id WHERE p.id = $1`,
    [paymentId],
  );
  const r = rows[0]!;
  const total = r.total as number;
  // sum(bigint) is numeric: a number from both drivers, Number() kept for the type.
  const paid = Number(r.paid_after);
  return { payment: toPayment(r), bill: { id: r.bill_id as string, patientId: r.patient_id as string, total, paid, balance: total - paid, status: statusOf(total, paid) } };
}

// ---------------------------------------------------------------- inputs

export type NewBillItem =
  | { kind: BillItemKind; description: string; quantity: number; unitPrice: number }
  | { kind: 'consultation'; doctorId?: string; quantity: number; description?: string }
  | { kind: 'medicine'; stockItemId: string; quantity: number; description?: string };

export type NewBill = { patientId: string; items: NewBillItem[]; taxRate: number; discount?: Discount; appointmentId?: string };

export type DeskPayment = { amount: number; method: 'cash' | 'card' };

export type TransactionQuery = { patientId?: string; billId?: string; method?: string; from?: Date; to?: Date; limit: number; offset: number };

/** Who records a provider-proven payment: a signed-in account, or the provider's webhook (no account, its address only). */
export type Recorder = Actor | { user: null; ip: string | null };

type Existing = { id: string; bill_id: string; amount: number; method: string };

/** The same key with the same request is a replay; with anything else, a refusal. */
function checkReplay(found: Existing, billId: string, body: DeskPayment): void {
  // Says nothing about the other payment: a key may have been someone else's.
  if (found.bill_id !== billId) throw fail('ERR_IDEMPOTENCY_KEY_REUSED', 'idempotency key already used for another payment: use a new key');
  if (found.amount !== body.amount || found.method !== body.method) {
    throw fail('ERR_IDEMPOTENCY_KEY_REUSED', `idempotency key already used on this bill with a different amount or method (${found.amount}, ${found.method})`);
  }
}

// ---------------------------------------------------------------- the store

export class BillingStore {
  private readonly doctors: Repository<{ id: string; name: string; fee: number }>;
  private readonly stockItems: Repository<{ id: string; itemName: string; batch: string | null; unitPrice: number }>;
  private readonly patients: Repository;

  constructor(
    private readonly deps: RepoDeps,
    /** Patients' notifications (notify/notifications.ts), null when off: a receipt is enqueued in the payment's transaction. */
    private readonly notify: PatientNotifier | null = null,
  ) {
    this.doctors = new Repository(doctorSpec, deps);
    this.stockItems = new Repository(stockItemSpec, deps);
    this.patients = new Repository(patientSpec, deps);
  }

  private audit(who: Recorder, action: string, resource: string, id: string | null, patientId: string | null, details?: unknown): void {
    this.deps.audit({ ...auditEntry(who.user ? (who as Actor) : null, action, resource, id, patientId, details), ip: who.ip });
  }

  /** Bills with their items and payments. */
  private async withDetails(db: Queryable, bills: Bill[]): Promise<BillWithDetails[]> {
    const ids = bills.map((b) => b.id);
    if (ids.length === 0) return [];
    const [items, payments] = await Promise.all([
      db.query('SELECT * FROM bill_items WHERE bill_id = ANY($1::uuid[]) ORDER BY id', [ids]),
      db.query('SELECT * FROM payments WHERE bill_id = ANY($1::uuid[]) ORDER BY created_at, id', [ids]),
    ]);
    return bills.map((b) => ({
      ...b,
      items: items.rows.filter((i) => i.bill_id === b.id).map(toItem),
      payments: payments.rows.filter((p) => p.bill_id === b.id).map(toPayment),
    }));
  }

  /** Turn each requested item into a priced line, from the doctor's fee or the stock item's price where it names one. */
  private async priceItems(tx: Queryable, items: NewBillItem[], appointmentDoctor: string | null): Promise<BillItemInput[]> {
    const out: BillItemInput[] = [];
    for (const [i, it] of items.entries()) {
      if ('unitPrice' in it) out.push(it);
      else if ('stockItemId' in it) {
        const s = await this.stockItems.find(it.stockItemId, tx);
        if (!s) throw Errors.validation(`body.items.${i}.stockItemId: stock item '${it.stockItemId}' not found`);
        const name = s.batch ? `${s.itemName} (batch ${s.batch})` : s.itemName;
        out.push({ kind: 'medicine', description: it.description ?? name, quantity: it.quantity, unitPrice: s.unitPrice });
      } else {
        const doctorId = it.doctorId ?? appointmentDoctor;
        if (!doctorId) throw Errors.validation(`body.items.${i}.doctorId: required (or give the bill an appointmentId)`);
        const d = await this.doctors.find(doctorId, tx);
        if (!d) throw Errors.validation(`body.items.${i}.doctorId: doctor '${doctorId}' not found`);
        out.push({ kind: 'consultation', description: it.description ?? `Consultation — ${d.name}`, quantity: it.quantity, unitPrice: d.fee });
      }
    }
    return out;
  }

  /** Price, compute and store a bill with its lines, in one transaction. */
  async create(actor: Actor, body: NewBill): Promise<BillWithDetails> {
    const bill = await this.deps.db
      .transaction(async (tx) => {
        const appointmentDoctor = body.appointmentId ? (await linkedAppointment(tx, body.appointmentId, body.patientId)).doctorId : null;
        const priced = computeBill(await this.priceItems(tx, body.items, appointmentDoctor), body.taxRate, body.discount);
        if (!priced.ok) throw Errors.validation(priced.error);
        const b = priced.value;
        const id = randomUUID();
        const { rows } = await tx.query(
          `INSERT INTO bills (id, patient_id, subtotal, tax, discount, total, paid, status, created_by, appointment_id, tax_rate_bp, discount_rule)
           VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $10, $11::jsonb) RETURNING ${BILL_COLS}`,
          [id, body.patientId, b.subtotal, b.tax, b.discount, b.total, statusOf(b.total, 0), actor.user.id, body.appointmentId ?? null, body.taxRate, body.discount ? JSON.stringify(body.discount) : null],
        );
        for (const l of b.lines) {
          await tx.query('INSERT INTO bill_items (bill_id, kind, description, quantity, unit_price, amount) VALUES ($1, $2, $3, $4, $5, $6)', [id, l.kind, l.description, l.quantity, l.unitPrice, l.amount]);
        }
        return (await this.withDetails(tx, rows.map(toBill)))[0]!;
      })
      .catch((e) => refusal(e, 'bill'));
    this.audit(actor, 'create', 'bill', bill.id, bill.patientId, { total: bill.total, appointmentId: body.appointmentId ?? null, taxRate: body.taxRate, discount: body.discount ?? null });
    return bill;
  }

  /** A patient's bills, newest first; someone else's answer like a missing patient. */
  async forPatient(actor: Actor, patientId: string, q: { status?: BillStatus; limit: number; offset: number }): Promise<Page<BillWithDetails>> {
    await this.patients.visible(actor, patientId);
    const where = new Where().add('patient_id = ?', patientId).when(q.status, 'status = ?');
    const bills = await page(this.deps.db, { columns: BILL_COLS, from: 'bills', where, orderBy: 'created_at DESC, id', limit: q.limit, offset: q.offset }, toBill);
    const items = await this.withDetails(this.deps.db, bills.items);
    this.audit(actor, 'list', 'bill', null, patientId, { count: items.length });
    return { ...bills, items };
  }

  /** Payments, newest first, each with its bill's patient. */
  async transactions(actor: Actor, q: TransactionQuery): Promise<Page<Payment & { patientId: string }>> {
    const where = new Where()
      .when(q.patientId, 'b.patient_id = ?')
      .when(q.billId, 'p.bill_id = ?')
      .when(q.method, 'p.method = ?')
      .when(q.from?.toISOString(), 'p.created_at >= ?')
      .when(q.to?.toISOString(), 'p.created_at < ?');
    const result = await page(
      this.deps.db,
      { columns: 'p.*, b.patient_id', from: 'payments p JOIN bills b ON b.id = p.bill_id', where, orderBy: 'p.created_at DESC, p.id', limit: q.limit, offset: q.offset },
      (row) => ({ ...toPayment(row), patientId: row.patient_id as string }),
    );
    this.audit(actor, 'list', 'payment', null, q.patientId ?? null, { count: result.items.length });
    return result;
  }

  /** The bill if `user` may see it (its patient is in their scope), else the same 404 as a missing one. */
  private async visibleBill(user: Principal, billId: string) {
    const { rows } = await this.deps.db.query<{ patient_id: string; total: number; paid: number; status: BillStatus; currency: string }>(
      'SELECT patient_id, total, paid, status, currency FROM bills WHERE id = $1',
      [billId],
    );
    const b = rows[0];
    const scope = b ? await visiblePatients(this.deps.db, user) : null;
    if (!b || (scope && !scope.includes(b.patient_id))) throw Errors.notFound('bill', billId);
    return { patientId: b.patient_id, total: b.total, paid: b.paid, status: b.status, currency: b.currency };
  }

  /**
   * A cash or card payment taken at the desk, under the client's idempotency key: the same key
   * with the same request answers the first result (replayed), with anything else is refused.
   */
  async payAtDesk(actor: Actor, billId: string, key: string, body: DeskPayment): Promise<{ replayed: boolean; result: PaymentResult }> {
    await this.visibleBill(actor.user, billId);
    const findByKey = async (db: Queryable): Promise<Existing | null> =>
      (await db.query<Existing>('SELECT id, bill_id, amount, method FROM payments WHERE idempotency_key = $1', [key])).rows[0] ?? null;
    const out = await this.deps.db
      .transaction(async (tx) => {
        // The row lock serialises payments on this bill: each sees the paid sum the previous left.
        const { rows } = await tx.query<{ total: number; paid: number; status: BillStatus }>('SELECT total, paid, status FROM bills WHERE id = $1 FOR UPDATE', [billId]);
        const found = await findByKey(tx);
        if (found) {
          checkReplay(found, billId, body);
          return { replayed: true, result: await paymentResult(tx, found.id) };
        }
        const applied = applyPayment(rows[0]!, body.amount);
        if (!applied.ok) throw fail('ERR_PAYMENT_REFUSED', applied.error);
        const id = randomUUID();
        await tx.query(
          `INSERT INTO payments (id, bill_id, amount, method, idempotency_key, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp())`,
          [id, billId, body.amount, body.method, key, actor.user.id],
        );
        await tx.query('UPDATE bills SET paid = $2, status = $3 WHERE id = $1', [billId, applied.value.paid, applied.value.status]);
        const result = await paymentResult(tx, id);
        await this.enqueueReceipt(tx, result);
        return { replayed: false, result };
      })
      .catch(async (err) => {
        // The same key raced in on another bill's lock: whoever lost answers from the winner's row.
        if (refusedBy(err, KEY_TAKEN)) {
          const found = await findByKey(this.deps.db);
          if (found) {
            checkReplay(found, billId, body);
            return { replayed: true, result: await paymentResult(this.deps.db, found.id) };
          }
        }
        throw err;
      });
    if (!out.replayed) this.notify?.kick();
    if (!out.replayed) this.audit(actor, 'pay', 'bill', billId, out.result.bill.patientId, { paymentId: out.result.payment.id, amount: body.amount, method: body.method });
    return out;
  }

  /** The patient's receipt, in the payment's transaction (the row exists iff the payment does). */
  private async enqueueReceipt(tx: Queryable, r: PaymentResult): Promise<void> {
    if (!this.notify) return;
    const { rows } = await tx.query<{ name: string; currency: string }>('SELECT p.name, b.currency FROM bills b JOIN patients p ON p.id = b.patient_id WHERE b.id = $1', [r.bill.id]);
    const message = receiptMessage({
      patientName: rows[0]!.name,
      paymentId: r.payment.id,
      billId: r.bill.id,
      amount: r.payment.amount,
      currency: rows[0]!.currency,
      method: r.payment.method,
      at: r.payment.createdAt,
      paid: r.bill.paid,
      total: r.bill.total,
    });
    await this.notify.enqueue(tx, { kind: 'bill-receipt', patientId: r.bill.patientId, appointmentId: null, message });
  }

  // ---------------------------------------------------------------- payment orders

  /** A bill's state for taking an order, if `user` may see it (else 404). */
  billForOrder(user: Principal, billId: string) {
    return this.visibleBill(user, billId);
  }

  /**
   * The newest unpaid order of this bill for exactly this amount: a second "pay" click while the
   * first checkout is still open reuses it, and the provider takes one payment per order.
   */
  async openOrder(billId: string, amount: number, currency: string): Promise<PaymentOrder | null> {
    const { rows } = await this.deps.db.query(
      `SELECT * FROM payment_orders WHERE bill_id = $1 AND status = 'created' AND amount = $2 AND currency = $3 ORDER BY created_at DESC, id LIMIT 1`,
      [billId, amount, currency],
    );
    return rows[0] ? toOrder(rows[0]) : null;
  }

  /** Store the provider's new order; an order id we already hold is the provider's fault (502), never reused. */
  async insertOrder(actor: Actor, patientId: string, o: { providerOrderId: string; billId: string; amount: number; currency: string }): Promise<PaymentOrder> {
    const { rows } = await this.deps.db
      .query(`INSERT INTO payment_orders (id, provider_order_id, bill_id, amount, currency, status, created_by) VALUES ($1, $2, $3, $4, $5, 'created', $6) RETURNING *`, [
        randomUUID(),
        o.providerOrderId,
        o.billId,
        o.amount,
        o.currency,
        actor.user.id,
      ])
      .catch((err) => {
        if (refusedBy(err, PROVIDER_ORDER_TAKEN)) throw Errors.paymentProvider(`the payment provider returned order id '${o.providerOrderId}', which is already in use: not used`);
        throw err;
      });
    const order = toOrder(rows[0]!);
    this.audit(actor, 'create', 'payment-order', order.id, patientId, { billId: o.billId, amount: order.amount, currency: order.currency, providerOrderId: order.providerOrderId });
    return order;
  }

  /** An order by the provider's id, with the patient its bill is for; unscoped (the caller checks). */
  async orderByProviderId(providerOrderId: string): Promise<(PaymentOrder & { patientId: string }) | null> {
    const { rows } = await this.deps.db.query('SELECT o.*, b.patient_id FROM payment_orders o JOIN bills b ON b.id = o.bill_id WHERE o.provider_order_id = $1', [providerOrderId]);
    return rows[0] ? { ...toOrder(rows[0]), patientId: rows[0].patient_id as string } : null;
  }

  /** An order by the provider's id if `user` may see its bill, else 404. */
  async visibleOrder(user: Principal, providerOrderId: string): Promise<PaymentOrder & { patientId: string }> {
    const order = await this.orderByProviderId(providerOrderId);
    const scope = order ? await visiblePatients(this.deps.db, user) : null;
    if (!order || (scope && !scope.includes(order.patientId))) throw Errors.notFound('payment order', providerOrderId);
    return order;
  }

  private async replayOf(providerOrderId: string, providerPaymentId: string): Promise<PaymentResult | null> {
    const { rows } = await this.deps.db.query<{ id: string; provider_order_id: string }>(
      'SELECT p.id, o.provider_order_id FROM payments p JOIN payment_orders o ON o.id = p.order_id WHERE p.provider_payment_id = $1',
      [providerPaymentId],
    );
    if (!rows[0]) return null;
    if (rows[0].provider_order_id !== providerOrderId) throw fail('ERR_PAYMENT_MISMATCH', `payment '${providerPaymentId}' is already recorded for another order`);
    return paymentResult(this.deps.db, rows[0].id);
  }

  /**
   * Record a payment the provider proved (the caller has checked its signature): against the
   * order's bill, for the order's amount, exactly once. The order's row lock serialises the
   * checkout callback and the webhook for one order; the bill's row lock (always taken after it)
   * serialises this with the desk's payments on the bill. The payment row, the bill and the order
   * moving to 'paid' commit together; the unique provider payment id makes a replay a read.
   */
  async recordProviderPayment(
    who: Recorder,
    p: { providerOrderId: string; providerPaymentId: string; source: 'checkout' | 'webhook' },
  ): Promise<{ replayed: boolean; result: PaymentResult; order: PaymentOrder }> {
    const db: Driver = this.deps.db;
    const attempt = () =>
      db.transaction(async (tx) => {
        const { rows } = await tx.query('SELECT * FROM payment_orders WHERE provider_order_id = $1 FOR UPDATE', [p.providerOrderId]);
        if (!rows[0]) throw Errors.notFound('payment order', p.providerOrderId);
        const order = toOrder(rows[0]);
        if (order.status === 'paid') {
          if (order.providerPaymentId === p.providerPaymentId) return { replayed: true, result: await paymentResult(tx, order.paymentId!), order };
          throw fail(
            'ERR_PAYMENT_MISMATCH',
            `order '${order.providerOrderId}' is already paid by payment '${order.providerPaymentId}': payment '${p.providerPaymentId}' was not recorded — refund it at the payment provider`,
          );
        }
        const bill = (await tx.query<{ total: number; paid: number; status: BillStatus }>('SELECT total, paid, status FROM bills WHERE id = $1 FOR UPDATE', [order.billId])).rows[0]!;
        const applied = applyPayment(bill, order.amount);
        if (!applied.ok) {
          throw fail('ERR_PAYMENT_REFUSED', `${applied.error}: payment '${p.providerPaymentId}' of ${order.amount} for order '${order.providerOrderId}' was not recorded — refund it at the payment provider`);
        }
        const id = randomUUID();
        await tx.query(
          `INSERT INTO payments (id, bill_id, amount, method, idempotency_key, provider_payment_id, order_id, created_by, created_at)
           VALUES ($1, $2, $3, 'online', NULL, $4, $5, $6, clock_timestamp())`,
          [id, order.billId, order.amount, p.providerPaymentId, order.id, who.user?.id ?? null],
        );
        await tx.query('UPDATE bills SET paid = $2, status = $3 WHERE id = $1', [order.billId, applied.value.paid, applied.value.status]);
        const paid = await tx.query(
          `UPDATE payment_orders SET status = 'paid', provider_payment_id = $2, payment_id = $3, paid_at = clock_timestamp() WHERE id = $1 RETURNING *`,
          [order.id, p.providerPaymentId, id],
        );
        const result = await paymentResult(tx, id);
        await this.enqueueReceipt(tx, result);
        return { replayed: false, result, order: toOrder(paid.rows[0]!) };
      });
    const out = await attempt().catch(async (err) => {
      // The unique provider payment id held against a racing insert: answer from the winner's row.
      if (refusedBy(err, PROVIDER_PAYMENT_TAKEN)) {
        const replay = await this.replayOf(p.providerOrderId, p.providerPaymentId);
        const order = await this.orderByProviderId(p.providerOrderId);
        if (replay && order) return { replayed: true, result: replay, order };
      }
      throw err;
    });
    if (!out.replayed) {
      this.notify?.kick();
      const { result } = out;
      this.audit(who, 'pay', 'bill', result.bill.id, result.bill.patientId, {
        paymentId: result.payment.id,
        amount: result.payment.amount,
        method: 'online',
        providerOrderId: p.providerOrderId,
        providerPaymentId: p.providerPaymentId,
        source: p.source,
      });
    }
    return out;
  }
}
