// Prescriptions storage: the one mapping of a prescription row, who may prescribe, writing (checked
// against the patient's allergies, active prescriptions and the interaction table in the insert's
// own transaction: medication-safety.ts), listing (patient scope, paging with totals), reading with
// dispensings, and dispensing a fill from stock — all or nothing. Every operation is audited here,
// with the patient.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/driver.ts';
import { Where, isoAt, page, type Page } from '../../db/rows.ts';
import type { Principal } from '../domain/roles.ts';
import { Errors, fail } from '../errors.ts';
import { Repository, auditEntry, refusal, type Actor, type RepoDeps } from './repository.ts';
import { visiblePatients } from './scope.ts';
import { doctorSpec } from './specs.ts';
import { linkedAppointment } from './appointment-link.store.ts';
import type { StockStore } from './stock.store.ts';
import { InteractionStore } from './drug-interactions.store.ts';
import { checkPrescription, courseActive, describe, isBlocking, searchText, type ActiveMedicine, type Finding } from './medication-safety.ts';

export type Medicine = {
  stockItemId?: string;
  itemName: string;
  dose: string;
  frequency: string;
  durationDays: number;
  quantity: number;
  /** What it contains and what it is, as the prescriber names them (matched by the safety check). */
  ingredients?: string[];
  classes?: string[];
};
export type LabTest = { name: string; notes?: string };

export type Prescription = {
  id: string;
  patientId: string;
  doctorId: string;
  appointmentId: string | null;
  medicines: Medicine[];
  labTests: LabTest[];
  revisitAfterDays: number | null;
  remarks: string | null;
  refillsAllowed: number;
  /** Fills handed out so far (the first fill counts). */
  refillsUsed: number;
  fillsRemaining: number;
  /** Set when the prescriber overrode a refusal of the safety check: why, by whom, and what. */
  safetyOverride: SafetyOverride | null;
  createdAt: string;
};

export type SafetyOverride = { reason: string; by: string; findings: Finding[] };

export type Dispensing = { id: number; itemId: string; itemName: string; quantity: number; fillNumber: number; pharmacistId: string | null; at: string };

export type NewPrescription = {
  patientId: string;
  doctorId?: string;
  appointmentId?: string;
  medicines: Medicine[];
  labTests: LabTest[];
  revisitAfterDays?: number;
  remarks?: string;
  refillsAllowed: number;
  /** Prescribe over an allergy or a contraindicated interaction, for this reason (audited). */
  override?: { reason: string };
};

export type PrescriptionQuery = { patientId?: string; doctorId?: string; appointmentId?: string; limit: number; offset: number };

const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

function toPrescription(r: Record<string, unknown>): Prescription {
  const refillsAllowed = r.refills_allowed as number;
  const refillsUsed = r.refills_used as number;
  return {
    id: r.id as string,
    patientId: r.patient_id as string,
    doctorId: r.doctor_id as string,
    appointmentId: (r.appointment_id as string | null) ?? null,
    medicines: json(r.medicines) as Medicine[],
    labTests: json(r.lab_tests) as LabTest[],
    revisitAfterDays: (r.revisit_after_days as number | null) ?? null,
    remarks: (r.remarks as string | null) ?? null,
    refillsAllowed,
    refillsUsed,
    fillsRemaining: refillsAllowed + 1 - refillsUsed,
    safetyOverride: (json(r.safety_override) as SafetyOverride | null) ?? null,
    createdAt: isoAt(r.created_at),
  };
}

const COLS = 'id, patient_id, doctor_id, appointment_id, medicines, lab_tests, revisit_after_days, remarks, refills_allowed, refills_used, safety_override, created_at';

export class PrescriptionStore {
  private readonly doctors: Repository<{ id: string; archivedAt: string | null }>;
  private readonly interactions: InteractionStore;

  constructor(
    private readonly deps: RepoDeps,
    private readonly stock: StockStore,
  ) {
    this.doctors = new Repository(doctorSpec, deps);
    this.interactions = new InteractionStore(deps);
  }

  private audit(actor: Actor, action: string, id: string | null, patientId: string | null, details?: unknown): void {
    this.deps.audit(auditEntry(actor, action, 'prescription', id, patientId, details));
  }

  /** The prescribing doctor: the caller's own doctor record; an admin must name one. */
  async prescriber(user: Principal, requested: string | undefined): Promise<string> {
    if (user.role === 'admin') {
      if (!requested) throw Errors.validation('body.doctorId: required when an admin writes a prescription');
      const doctor = await this.doctors.find(requested);
      if (!doctor || doctor.archivedAt) throw Errors.validation(`body.doctorId: doctor '${requested}' not found`);
      return requested;
    }
    const { rows } = await this.deps.db.query<{ id: string }>('SELECT id FROM doctors WHERE user_id = $1 AND archived_at IS NULL', [user.id]);
    if (!rows[0]) throw Errors.forbidden('your account is not linked to a doctor record');
    if (requested && requested !== rows[0].id) throw Errors.forbidden('a doctor may only prescribe as themself');
    return rows[0].id;
  }

  /**
   * Write a prescription after the safety check (medication-safety.ts), in one transaction with
   * the patient's row locked: two prescriptions for one patient are checked and written one after
   * the other, so neither misses the other. An allergy or a contraindicated interaction refuses
   * it (409 ERR_ALLERGY / ERR_INTERACTION) unless `override.reason` is given; major and moderate
   * interactions come back as `warnings`.
   */
  async create(actor: Actor, body: NewPrescription): Promise<Prescription & { warnings: Finding[] }> {
    const doctorId = await this.prescriber(actor.user, body.doctorId);
    if (body.appointmentId) await linkedAppointment(this.deps.db, body.appointmentId, body.patientId);
    const missing = await this.stock.missing([...new Set(body.medicines.flatMap((m) => (m.stockItemId ? [m.stockItemId] : [])))]);
    if (missing.length) throw Errors.validation(`body.medicines: stock item(s) not found: ${missing.join(', ')}`);
    const { p, findings, override } = await this.deps.db.transaction(async (tx) => {
      const findings = await this.check(tx, body);
      const blocking = findings.filter(isBlocking);
      if (blocking.length && !body.override) {
        const code = blocking.some((f) => f.kind === 'allergy') ? 'ERR_ALLERGY' : 'ERR_INTERACTION';
        throw fail(code, `refused: ${blocking.map(describe).join('; ')}. To prescribe anyway, resend with override: { reason }`, { findings: blocking, warnings: findings.filter((f) => !isBlocking(f)) });
      }
      // An override with nothing to override is not stored: there was no refusal to record.
      const override: SafetyOverride | null = blocking.length ? { reason: body.override!.reason, by: actor.user.id, findings: blocking } : null;
      const { rows } = await tx
        .query(
          `INSERT INTO prescriptions (id, patient_id, doctor_id, appointment_id, medicines, lab_tests, revisit_after_days, remarks, refills_allowed, safety_override)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10::jsonb) RETURNING ${COLS}`,
          [
            randomUUID(),
            body.patientId,
            doctorId,
            body.appointmentId ?? null,
            JSON.stringify(body.medicines),
            JSON.stringify(body.labTests),
            body.revisitAfterDays ?? null,
            body.remarks ?? null,
            body.refillsAllowed,
            override ? JSON.stringify(override) : null,
          ],
        )
        .catch((e) => refusal(e, 'prescription'));
      return { p: toPrescription(rows[0]!), findings, override };
    });
    const warnings = findings.filter((f) => !isBlocking(f));
    this.audit(actor, 'create', p.id, p.patientId, { medicines: p.medicines.length, labTests: p.labTests.length, warnings: warnings.length });
    if (override) this.audit(actor, 'safety-override', p.id, p.patientId, { reason: override.reason, findings: override.findings });
    return { ...p, warnings };
  }

  /**
   * The safety check's findings for `body`, inside `tx`: locks the patient's row (FOR UPDATE) and
   * reads its allergies, the lines of its active prescriptions and the candidate interactions.
   */
  private async check(tx: Queryable, body: NewPrescription): Promise<Finding[]> {
    const { rows: patient } = await tx.query<{ allergies: unknown }>('SELECT allergies FROM patients WHERE id = $1 FOR UPDATE', [body.patientId]);
    if (!patient[0]) throw Errors.validation(`body.patientId: patient '${body.patientId}' not found`, [{ path: 'body.patientId', message: 'not found' }]);
    if (body.medicines.length === 0) return [];
    const allergies = ((json(patient[0].allergies) as unknown[] | null) ?? []).filter((a): a is string => typeof a === 'string');
    const { rows: past } = await tx.query<{ id: string; medicines: unknown; refills_allowed: number; created_at: unknown }>(
      'SELECT id, medicines, refills_allowed, created_at FROM prescriptions WHERE patient_id = $1',
      [body.patientId],
    );
    const now = new Date();
    const active: ActiveMedicine[] = past.flatMap((r) =>
      (json(r.medicines) as Medicine[])
        .filter((m) => courseActive(new Date(isoAt(r.created_at)), m.durationDays, r.refills_allowed, now))
        .map((m) => ({ prescriptionId: r.id, itemName: m.itemName, ingredients: m.ingredients, classes: m.classes })),
    );
    const interactions = await this.interactions.candidates(tx, searchText([...body.medicines, ...active]));
    return checkPrescription({ medicines: body.medicines, allergies, active, interactions });
  }

  /** Newest first; a patient account sees only its own and its family's. */
  async list(actor: Actor, q: PrescriptionQuery): Promise<Page<Prescription>> {
    const scope = await visiblePatients(this.deps.db, actor.user);
    const where = new Where().when(q.patientId, 'patient_id = ?').when(q.doctorId, 'doctor_id = ?').when(q.appointmentId, 'appointment_id = ?');
    if (scope) where.add('patient_id = ANY(?::uuid[])', scope);
    const result = await page(this.deps.db, { columns: COLS, from: 'prescriptions', where, orderBy: 'created_at DESC, id', limit: q.limit, offset: q.offset }, toPrescription);
    this.audit(actor, 'list', null, q.patientId ?? null, { count: result.items.length, doctorId: q.doctorId ?? null });
    return result;
  }

  /** One prescription with its dispensings; someone else's answers like a missing one. */
  async read(actor: Actor, id: string): Promise<Prescription & { dispensings: Dispensing[] }> {
    const { rows } = await this.deps.db.query(`SELECT ${COLS} FROM prescriptions WHERE id = $1`, [id]);
    const scope = rows[0] ? await visiblePatients(this.deps.db, actor.user) : null;
    if (!rows[0] || (scope && !scope.includes(rows[0].patient_id as string))) throw Errors.notFound('prescription', id);
    const p = toPrescription(rows[0]);
    this.audit(actor, 'read', id, p.patientId);
    return { ...p, dispensings: await this.dispensings(this.deps.db, id) };
  }

  private async dispensings(db: Queryable, prescriptionId: string): Promise<Dispensing[]> {
    const { rows } = await db.query(
      `SELECT d.id, d.item_id, s.item_name, d.quantity, d.fill_number, d.pharmacist_id, d.at
       FROM dispensings d JOIN stock_items s ON s.id = d.item_id WHERE d.prescription_id = $1 ORDER BY d.fill_number, d.id`,
      [prescriptionId],
    );
    return rows.map((r) => ({
      id: r.id as number,
      itemId: r.item_id as string,
      itemName: r.item_name as string,
      quantity: r.quantity as number,
      fillNumber: r.fill_number as number,
      pharmacistId: (r.pharmacist_id as string | null) ?? null,
      at: isoAt(r.at),
    }));
  }

  /**
   * One fill: every stock-linked medicine's quantity taken from stock in one transaction — all or
   * nothing — with a movement and a dispensing row each; counts one fill.
   */
  async dispense(actor: Actor, id: string, reference: string | undefined) {
    const out = await this.deps.db.transaction(async (tx) => {
      // Locked: two pharmacists filling the same prescription at once get fills 1 and 2, not 1 twice.
      const { rows } = await tx.query(`SELECT ${COLS} FROM prescriptions WHERE id = $1 FOR UPDATE`, [id]);
      if (!rows[0]) throw Errors.notFound('prescription', id);
      const p = toPrescription(rows[0]);
      if (p.fillsRemaining <= 0) throw fail('ERR_NO_FILLS_LEFT', `no fills remain: ${p.refillsUsed} of ${p.refillsAllowed + 1} used`);
      // In item-id order: two fills touching the same items lock them in the same order (no deadlock).
      const lines = p.medicines.filter((m) => m.stockItemId).sort((a, b) => a.stockItemId!.localeCompare(b.stockItemId!));
      if (lines.length === 0) throw fail('ERR_NOTHING_TO_DISPENSE', 'no medicine on this prescription is dispensed from stock');
      const fillNumber = p.refillsUsed + 1;
      const dispensed = [];
      for (const m of lines) {
        const { item } = await this.stock.moveIn(tx, {
          itemId: m.stockItemId!,
          delta: -m.quantity,
          kind: 'dispense',
          reason: `prescription fill ${fillNumber}`,
          reference: reference ?? `prescription:${id}`,
          actorId: actor.user.id,
        });
        await tx.query('INSERT INTO dispensings (prescription_id, item_id, quantity, fill_number, pharmacist_id) VALUES ($1, $2, $3, $4, $5)', [id, item.id, m.quantity, fillNumber, actor.user.id]);
        dispensed.push({ itemId: item.id, itemName: item.itemName, quantity: m.quantity, left: item.quantity });
      }
      const updated = await tx.query(`UPDATE prescriptions SET refills_used = refills_used + 1 WHERE id = $1 RETURNING ${COLS}`, [id]);
      return { prescription: toPrescription(updated.rows[0]!), fillNumber, dispensed };
    });
    this.audit(actor, 'dispense', id, out.prescription.patientId, { fillNumber: out.fillNumber, items: out.dispensed.map((d) => ({ itemId: d.itemId, quantity: d.quantity })) });
    return out;
  }
}
