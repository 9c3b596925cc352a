// The `admissions` table: every statement of the admissions feature (admissions.routes.ts only
// wires). The database decides conflicts — one current occupant per bed, one current admission per
// patient (unique partial indexes `admissions_bed`, `admissions_patient`, 003_records.sql) — and a
// refusal is told apart by the constraint's name. The patient is read through the patients
// Repository; its ward and bed follow the admission in the same transaction.
import { randomUUID } from 'node:crypto';
import type { DbError, Queryable, Row } from '../../db/driver.ts';
import { Where, iso, isoAt, page, type Page } from '../../db/rows.ts';
import type { Patient } from '../../db/records.ts';
import { type AppError, Errors, fail } from '../errors.ts';
import { Repository, auditEntry, refusal, type Actor, type RepoDeps } from './repository.ts';
import { visiblePatients } from './scope.ts';
import { patientSpec } from './specs.ts';

export interface Admission {
  id: string;
  patientId: string;
  patientName: string;
  ward: string;
  bed: string;
  admittedAt: string;
  dischargedAt: string | null;
}

export interface AdmissionFilter {
  ward?: string | undefined;
  patientId?: string | undefined;
  /** true: patients in a bed now; false: discharged ones. */
  current?: boolean | undefined;
  limit: number;
  offset: number;
}

const FROM = 'admissions a JOIN patients p ON p.id = a.patient_id';
const COLS = 'a.id, a.patient_id, p.name AS patient_name, a.ward, a.bed, a.admitted_at, a.discharged_at';
const toAdmission = (r: Row): Admission => ({
  id: r.id as string,
  patientId: r.patient_id as string,
  patientName: r.patient_name as string,
  ward: r.ward as string,
  bed: r.bed as string,
  admittedAt: isoAt(r.admitted_at),
  dischargedAt: iso(r.discharged_at),
});

type PatientRecord = Patient & Record<string, unknown>;

/**
 * The refusals of an admission to `ward`/`bed`, by constraint name (never by message or detail):
 * the bed's current admission, the patient's current admission, or a patient placed in that bed
 * without one. Pure.
 */
export function admissionConstraints(ward: string, bed: string): Record<string, (e: DbError) => AppError> {
  const occupied = () => fail('ERR_BED_OCCUPIED', `bed ${bed} on ward ${ward} is occupied`);
  return {
    admissions_patient: () => fail('ERR_ALREADY_ADMITTED', 'the patient is already admitted: discharge first'),
    admissions_bed: occupied,
    patients_ward_bed: occupied,
  };
}

export class AdmissionStore {
  private readonly patients: Repository<PatientRecord>;

  constructor(private readonly deps: RepoDeps) {
    this.patients = new Repository<PatientRecord>(patientSpec, deps);
  }

  private async get(id: string, db: Queryable = this.deps.db): Promise<Admission | null> {
    const { rows } = await db.query(`SELECT ${COLS} FROM ${FROM} WHERE a.id = $1`, [id]);
    return rows[0] ? toAdmission(rows[0]) : null;
  }

  /** Newest first, within the actor's patient scope; the list is audited (names are clinical data). */
  async list(actor: Actor, q: AdmissionFilter): Promise<Page<Admission>> {
    const scope = await visiblePatients(this.deps.db, actor.user);
    const where = new Where()
      .when(q.ward, 'a.ward = ?')
      .when(q.patientId, 'a.patient_id = ?')
      .when(scope, 'a.patient_id = ANY(?::uuid[])');
    if (q.current === true) where.add('a.discharged_at IS NULL');
    if (q.current === false) where.add('a.discharged_at IS NOT NULL');
    const result = await page(this.deps.db, { columns: COLS, from: FROM, where, orderBy: 'a.admitted_at DESC, a.id', limit: q.limit, offset: q.offset }, toAdmission);
    this.deps.audit(auditEntry(actor, 'list', 'admission', null, q.patientId ?? null, { ward: q.ward ?? null, current: q.current ?? null, count: result.items.length }));
    return result;
  }

  /** One admission the actor may see; otherwise the same 404 as a missing one. Audited by the route. */
  async visible(actor: Actor, id: string): Promise<Admission> {
    const a = await this.get(id);
    const scope = a ? await visiblePatients(this.deps.db, actor.user) : null;
    if (!a || (scope && !scope.includes(a.patientId))) throw Errors.notFound('admission', id);
    return a;
  }

  /** Put a live patient in a free ward bed; the patient's placement follows. */
  async admit(b: { patientId: string; ward: string; bed: string }): Promise<{ admission: Admission; patient: Patient }> {
    return this.deps.db
      .transaction(async (tx) => {
        const before = await this.patients.find(b.patientId, tx);
        if (!before) throw Errors.notFound('patient', b.patientId);
        if (before.archivedAt) throw fail('ERR_ARCHIVED', `patient '${b.patientId}' is archived`);
        const id = randomUUID();
        await tx.query('INSERT INTO admissions (id, patient_id, ward, bed) VALUES ($1, $2, $3, $4)', [id, b.patientId, b.ward, b.bed]);
        // patients_ward_bed also refuses a bed held by a patient placed without an admission.
        await tx.query('UPDATE patients SET ward = $2, bed = $3, updated_at = now() WHERE id = $1', [b.patientId, b.ward, b.bed]);
        return { admission: (await this.get(id, tx))!, patient: (await this.patients.find(b.patientId, tx))! };
      })
      .catch((e) => refusal(e, 'admission', admissionConstraints(b.ward, b.bed)));
  }

  /** Close a current admission and free the bed (only if the patient is still in it). */
  async discharge(id: string): Promise<{ admission: Admission; patient: Patient | null }> {
    return this.deps.db.transaction(async (tx) => {
      const { rows } = await tx.query('UPDATE admissions SET discharged_at = now() WHERE id = $1 AND discharged_at IS NULL RETURNING id', [id]);
      const a = await this.get(id, tx);
      if (!a) throw Errors.notFound('admission', id);
      if (rows.length === 0) throw fail('ERR_ILLEGAL_TRANSITION', `admission '${id}' is already discharged`);
      // Only if the patient is still in this bed (a move through PUT /api/patients wins).
      await tx.query('UPDATE patients SET ward = NULL, bed = NULL, updated_at = now() WHERE id = $1 AND ward = $2 AND bed = $3', [a.patientId, a.ward, a.bed]);
      return { admission: a, patient: await this.patients.find(a.patientId, tx) };
    });
  }
}
