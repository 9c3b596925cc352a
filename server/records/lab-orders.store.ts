// Lab orders storage: the one mapping of an order and its items, ordering (the catalogue entry
// copied onto each item), the steps collect → result → release in transactions with the order row
// locked (two labs resulting at once: one wins, the other gets the 409), listing and reading under
// the patient scope (a patient account sees released orders only). Every operation is audited
// here, with the patient. The rules themselves are pure, in lab.ts.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/driver.ts';
import { Where, iso, isoAt, page, type Page } from '../../db/rows.ts';
import type { LabFlag, LabOrder, LabOrderItem, LabOrderStatus, LabPriority, LabRanges } from '../domain/lab.ts';
import { CRITICAL_LAB_FLAGS } from '../domain/lab.ts';
import type { LabCriticalResult } from '../pipeline/alarms/lab-critical.ts';
import { Errors, fail } from '../errors.ts';
import { auditEntry, refusal, type Actor, type RepoDeps } from './repository.ts';
import { labCriticalMessage, labResultsMessage } from '../notify/messages.ts';
import type { PatientNotifier } from '../notify/notifications.ts';
import { visiblePatients } from './scope.ts';
import { crossedLimit, flagResult, labTransition, type LabAction } from './lab.ts';

export type NewLabOrder = { patientId: string; tests: string[]; priority: LabPriority; note?: string };
export type LabResultIn = { testId: string; value: number; comment?: string };
export type LabOrderQuery = { patientId?: string; status?: LabOrderStatus; limit: number; offset: number };

const ORDER_COLS = 'id, patient_id, status, priority, note, ordered_by, ordered_at, collected_by, collected_at, resulted_by, resulted_at, released_by, released_at';
const ITEM_COLS = 'order_id, test_id, code, name, unit, specimen, reference_low, reference_high, critical_low, critical_high, value, flag, comment';

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toOrder(r: Record<string, unknown>, items: LabOrderItem[]): LabOrder {
  return {
    id: r.id as string,
    patientId: r.patient_id as string,
    status: r.status as LabOrderStatus,
    priority: r.priority as LabPriority,
    note: (r.note as string | null) ?? null,
    orderedBy: r.ordered_by as string,
    orderedAt: isoAt(r.ordered_at),
    collectedBy: (r.collected_by as string | null) ?? null,
    collectedAt: iso(r.collected_at),
    resultedBy: (r.resulted_by as string | null) ?? null,
    resultedAt: iso(r.resulted_at),
    releasedBy: (r.released_by as string | null) ?? null,
    releasedAt: iso(r.released_at),
    items,
  };
}

function toItem(r: Record<string, unknown>): LabOrderItem {
  return {
    testId: r.test_id as string,
    code: r.code as string,
    name: r.name as string,
    unit: r.unit as string,
    specimen: r.specimen as string,
    referenceLow: num(r.reference_low),
    referenceHigh: num(r.reference_high),
    criticalLow: num(r.critical_low),
    criticalHigh: num(r.critical_high),
    value: num(r.value),
    flag: (r.flag as LabFlag | null) ?? null,
    comment: (r.comment as string | null) ?? null,
  };
}

const rangesOf = (r: Record<string, unknown>): LabRanges => ({
  referenceLow: num(r.reference_low),
  referenceHigh: num(r.reference_high),
  criticalLow: num(r.critical_low),
  criticalHigh: num(r.critical_high),
});

export class LabOrderStore {
  constructor(
    private readonly deps: RepoDeps,
    /** Patients' notifications (notify/notifications.ts), null when off: the release's mail is enqueued in its transaction. */
    private readonly notify: PatientNotifier | null = null,
  ) {}

  private audit(actor: Actor, action: string, id: string | null, patientId: string | null, details?: unknown): void {
    this.deps.audit(auditEntry(actor, action, 'lab order', id, patientId, details));
  }

  /** The items of `orderIds`, in each order's own order. */
  private async itemsOf(db: Queryable, orderIds: string[]): Promise<Map<string, LabOrderItem[]>> {
    const out = new Map<string, LabOrderItem[]>(orderIds.map((id) => [id, []]));
    if (orderIds.length === 0) return out;
    const { rows } = await db.query(`SELECT ${ITEM_COLS} FROM lab_order_items WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, position`, [orderIds]);
    for (const r of rows) out.get(r.order_id as string)?.push(toItem(r));
    return out;
  }

  private async withItems(db: Queryable, row: Record<string, unknown>): Promise<LabOrder> {
    return toOrder(row, (await this.itemsOf(db, [row.id as string])).get(row.id as string)!);
  }

  /** A doctor orders tests from the catalogue for a patient: one item per test, the entry copied as it is now. */
  async create(actor: Actor, body: NewLabOrder): Promise<LabOrder> {
    const db = this.deps.db;
    const { rows: patients } = await db.query<{ archived_at: unknown }>('SELECT archived_at FROM patients WHERE id = $1', [body.patientId]);
    if (!patients[0]) throw Errors.validation(`body.patientId: patient '${body.patientId}' not found`, [{ path: 'body.patientId', message: 'not found' }]);
    if (patients[0].archived_at) throw Errors.archived('patient', body.patientId);
    const { rows: tests } = await db.query('SELECT id, code, name, unit, specimen, archived_at FROM lab_tests WHERE id = ANY($1::uuid[])', [body.tests]);
    const byId = new Map(tests.map((t) => [t.id as string, t]));
    const missing = body.tests.filter((id) => !byId.has(id));
    if (missing.length) throw Errors.validation(`body.tests: lab test(s) not found: ${missing.join(', ')}`, [{ path: 'body.tests', message: `not found: ${missing.join(', ')}` }]);
    const archived = body.tests.filter((id) => byId.get(id)!.archived_at);
    if (archived.length) {
      const names = archived.map((id) => `'${id}' (${byId.get(id)!.name as string})`).join(', ');
      throw Errors.validation(`body.tests: lab test(s) ${names} archived: order a current test`, [{ path: 'body.tests', message: `archived: ${archived.join(', ')}` }]);
    }
    const id = randomUUID();
    const order = await db
      .transaction(async (tx) => {
        const { rows } = await tx.query(`INSERT INTO lab_orders (id, patient_id, priority, note, ordered_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${ORDER_COLS}`, [
          id,
          body.patientId,
          body.priority,
          body.note ?? null,
          actor.user.id,
        ]);
        for (const [position, testId] of body.tests.entries()) {
          const t = byId.get(testId)!;
          await tx.query('INSERT INTO lab_order_items (order_id, test_id, position, code, name, unit, specimen) VALUES ($1, $2, $3, $4, $5, $6, $7)', [id, testId, position, t.code, t.name, t.unit, t.specimen]);
        }
        return this.withItems(tx, rows[0]!);
      })
      .catch((e) => refusal(e, 'lab order'));
    this.audit(actor, 'create', order.id, order.patientId, { tests: order.items.map((i) => i.code), priority: order.priority });
    return order;
  }

  /** Newest first. A patient account sees its own and its family's released orders only. */
  async list(actor: Actor, q: LabOrderQuery): Promise<Page<LabOrder>> {
    const db = this.deps.db;
    const scope = await visiblePatients(db, actor.user);
    const where = new Where().when(q.patientId, 'patient_id = ?').when(q.status, 'status = ?');
    if (scope) where.add('patient_id = ANY(?::uuid[])', scope).add("status = 'released'");
    const rows = await page(db, { columns: ORDER_COLS, from: 'lab_orders', where, orderBy: 'ordered_at DESC, id', limit: q.limit, offset: q.offset }, (r) => r);
    const items = await this.itemsOf(db, rows.items.map((r) => r.id as string));
    this.audit(actor, 'list', null, q.patientId ?? null, { count: rows.items.length, status: q.status ?? null });
    return { ...rows, items: rows.items.map((r) => toOrder(r, items.get(r.id as string)!)) };
  }

  /** One order; someone else's — and for a patient account one not yet released — answers like a missing one. */
  async read(actor: Actor, id: string): Promise<LabOrder> {
    const db = this.deps.db;
    const { rows } = await db.query(`SELECT ${ORDER_COLS} FROM lab_orders WHERE id = $1`, [id]);
    const row = rows[0];
    const scope = row ? await visiblePatients(db, actor.user) : null;
    if (!row || (scope && (!scope.includes(row.patient_id as string) || row.status !== 'released'))) throw Errors.notFound('lab order', id);
    const order = await this.withItems(db, row);
    this.audit(actor, 'read', id, order.patientId);
    return order;
  }

  /**
   * One step of the order's life, in a transaction with the order row locked: `check` may refuse
   * (before the state is judged), `apply` writes the step. 409 ERR_ILLEGAL_TRANSITION when the
   * order is not in the state the step needs (lab.ts says why).
   */
  private async step<T>(
    actor: Actor,
    id: string,
    action: LabAction,
    check: (row: Record<string, unknown>) => void,
    apply: (tx: Queryable, row: Record<string, unknown>) => Promise<T>,
  ): Promise<{ order: LabOrder; extra: T }> {
    return this.deps.db.transaction(async (tx) => {
      const { rows } = await tx.query(`SELECT ${ORDER_COLS} FROM lab_orders WHERE id = $1 FOR UPDATE`, [id]);
      const row = rows[0];
      if (!row) throw Errors.notFound('lab order', id);
      check(row);
      const t = labTransition(id, row.status as LabOrderStatus, action, { collectedAt: iso(row.collected_at), resultedAt: iso(row.resulted_at), releasedAt: iso(row.released_at) });
      if (!t.ok) throw fail('ERR_ILLEGAL_TRANSITION', t.message);
      const extra = await apply(tx, row);
      const col = { collect: 'collected', result: 'resulted', release: 'released' }[action];
      const { rows: updated } = await tx.query(`UPDATE lab_orders SET status = $2, ${col}_by = $3, ${col}_at = now() WHERE id = $1 RETURNING ${ORDER_COLS}`, [id, t.to, actor.user.id]);
      return { order: await this.withItems(tx, updated[0]!), extra };
    });
  }

  /** The specimen is taken (a nurse or the lab). */
  async collect(actor: Actor, id: string): Promise<LabOrder> {
    const { order } = await this.step(actor, id, 'collect', () => undefined, async () => undefined);
    this.audit(actor, 'collect', id, order.patientId);
    return order;
  }

  /**
   * The lab enters a result for every test of the order, each flagged against the catalogue's
   * ranges as they are now (copied onto the item). Returns the order and its critical results
   * (LL/HH), for the alarm.
   */
  async result(actor: Actor, id: string, results: LabResultIn[]): Promise<{ order: LabOrder; critical: LabCriticalResult[] }> {
    const { order, extra: critical } = await this.step(
      actor,
      id,
      'result',
      () => undefined,
      async (tx, row) => {
        const { rows: items } = await tx.query(
          `SELECT i.test_id, i.code, i.name, i.unit, t.reference_low, t.reference_high, t.critical_low, t.critical_high
           FROM lab_order_items i JOIN lab_tests t ON t.id = i.test_id WHERE i.order_id = $1 ORDER BY i.position`,
          [id],
        );
        const onOrder = new Map(items.map((i) => [i.test_id as string, i]));
        const given = new Set(results.map((r) => r.testId));
        const stray = results.filter((r) => !onOrder.has(r.testId)).map((r) => r.testId);
        if (stray.length) throw Errors.validation(`body.results: test(s) not on this order: ${stray.join(', ')}`, [{ path: 'body.results', message: `not on this order: ${stray.join(', ')}` }]);
        const missing = items.filter((i) => !given.has(i.test_id as string));
        if (missing.length) {
          const names = missing.map((i) => `${i.name as string} ('${i.test_id as string}')`).join(', ');
          throw Errors.validation(`body.results: no result for ${names}: every test of the order is resulted at once`, [{ path: 'body.results', message: `missing: ${missing.map((i) => i.test_id).join(', ')}` }]);
        }
        const critical: LabCriticalResult[] = [];
        for (const r of results) {
          const item = onOrder.get(r.testId)!;
          const ranges = rangesOf(item);
          const flag = flagResult(r.value, ranges);
          await tx.query(
            `UPDATE lab_order_items SET value = $3, flag = $4, comment = $5, reference_low = $6, reference_high = $7, critical_low = $8, critical_high = $9
             WHERE order_id = $1 AND test_id = $2`,
            [id, r.testId, r.value, flag, r.comment ?? null, ranges.referenceLow, ranges.referenceHigh, ranges.criticalLow, ranges.criticalHigh],
          );
          if (flag && CRITICAL_LAB_FLAGS.includes(flag)) {
            critical.push({ testId: r.testId, code: item.code as string, name: item.name as string, unit: item.unit as string, value: r.value, flag: flag as 'LL' | 'HH', limit: crossedLimit(flag, ranges)! });
          }
        }
        if (critical.length > 0 && this.notify) {
          // The on-call doctors hear of it at once, in the result's transaction, besides the alarm.
          const { rows: where } = await tx.query<{ ward: string | null; bed: string | null }>('SELECT ward, bed FROM patients WHERE id = $1', [row.patient_id]);
          const message = labCriticalMessage({ orderId: id, ward: where[0]?.ward ?? null, bed: where[0]?.bed ?? null, results: critical });
          await this.notify.onCall(tx, { role: 'doctor', kind: 'lab-critical', message, patientId: row.patient_id as string, alertId: null, key: `lab-critical:${id}` });
        }
        return critical;
      },
    );
    if (critical.length > 0) this.notify?.kick();
    this.audit(actor, 'result', id, order.patientId, { flags: order.items.map((i) => ({ code: i.code, flag: i.flag })), critical: critical.length });
    return { order, critical };
  }

  /** Released to the patient: by the doctor who ordered it, or the lab. */
  async release(actor: Actor, id: string): Promise<LabOrder> {
    const { order } = await this.step(
      actor,
      id,
      'release',
      (row) => {
        if (actor.user.role === 'doctor' && row.ordered_by !== actor.user.id) throw Errors.forbidden('a doctor may only release the results of their own orders (or the lab releases them)');
      },
      async (tx, row) => {
        if (!this.notify) return;
        const { rows } = await tx.query<{ name: string; tests: number }>(
          'SELECT p.name, (SELECT count(*)::int FROM lab_order_items i WHERE i.order_id = $2) AS tests FROM patients p WHERE p.id = $1',
          [row.patient_id, id],
        );
        const message = labResultsMessage({ patientName: rows[0]!.name, orderedAt: iso(row.ordered_at)!, tests: rows[0]!.tests });
        await this.notify.enqueue(tx, { kind: 'lab-results-released', patientId: row.patient_id as string, appointmentId: null, message });
      },
    );
    this.notify?.kick();
    this.audit(actor, 'release', id, order.patientId);
    return order;
  }
}
