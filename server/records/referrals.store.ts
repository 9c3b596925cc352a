// Referrals storage: every statement of the feature, the one row mapping, who sees which referral,
// and the audit entry of every read and change (a referral names a patient and a clinical reason).
//
// Who sees a referral: an admin and the front desk (which books accepted ones) every one; a doctor
// those it concerns — made by them, sent to them, taken by them, or sent to a speciality of theirs
// (any other answers 404, as a missing one); a patient account its own and its family's (scope.ts).
// Booking links a referral inside the appointment's own booking transaction (referralForBooking,
// markBooked, called by appointments.store.ts), and cancelling that appointment reopens it.
import { randomUUID } from 'node:crypto';
import type { Queryable, Row } from '../../db/driver.ts';
import { Where, iso, isoAt, page, type Page } from '../../db/rows.ts';
import type { Principal } from '../domain/roles.ts';
import { Errors, fail } from '../errors.ts';
import { auditEntry, refusal, type Actor, type RepoDeps } from './repository.ts';
import { visiblePatients } from './scope.ts';
import { REFERRAL_TRANSITIONS, receiver, transitionProblem, type ReferralStatus, type Urgency } from './referrals.ts';

export interface Referral {
  id: string;
  patientId: string;
  patientName: string;
  fromDoctorId: string;
  fromDoctorName: string;
  /** Exactly one of toDoctorId and toSpeciality is set. */
  toDoctorId: string | null;
  toDoctorName: string | null;
  toSpeciality: string | null;
  reason: string;
  urgency: Urgency;
  status: ReferralStatus;
  /** The doctor who accepted or declined (for a speciality referral: who took it). */
  respondedBy: string | null;
  respondedByName: string | null;
  responseNote: string | null;
  respondedAt: string | null;
  /** The appointment booked from it, while it is booked. */
  appointmentId: string | null;
  bookedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewReferral {
  patientId: string;
  toDoctorId?: string | undefined;
  toSpeciality?: string | undefined;
  reason: string;
  urgency: Urgency;
}

export interface ReferralFilter {
  direction?: 'incoming' | 'outgoing' | undefined;
  /** Whose referrals (incoming or outgoing, or both); a doctor account: its own, the default. */
  doctorId?: string | undefined;
  patientId?: string | undefined;
  status?: ReferralStatus | undefined;
  urgency?: Urgency | undefined;
  limit: number;
  offset: number;
}

const COLS = `r.id, r.patient_id, p.name AS patient_name, r.from_doctor_id, fd.name AS from_doctor_name, r.to_doctor_id,
  td.name AS to_doctor_name, r.to_speciality, r.reason, r.urgency, r.status, r.responded_by, rd.name AS responded_by_name,
  r.response_note, r.responded_at, r.appointment_id, r.booked_at, r.created_at, r.updated_at`;
const FROM = `referrals r JOIN patients p ON p.id = r.patient_id JOIN doctors fd ON fd.id = r.from_doctor_id
  LEFT JOIN doctors td ON td.id = r.to_doctor_id LEFT JOIN doctors rd ON rd.id = r.responded_by`;

const toReferral = (r: Row): Referral => ({
  id: r.id as string,
  patientId: r.patient_id as string,
  patientName: r.patient_name as string,
  fromDoctorId: r.from_doctor_id as string,
  fromDoctorName: r.from_doctor_name as string,
  toDoctorId: (r.to_doctor_id as string | null) ?? null,
  toDoctorName: (r.to_doctor_name as string | null) ?? null,
  toSpeciality: (r.to_speciality as string | null) ?? null,
  reason: r.reason as string,
  urgency: r.urgency as Urgency,
  status: r.status as ReferralStatus,
  respondedBy: (r.responded_by as string | null) ?? null,
  respondedByName: (r.responded_by_name as string | null) ?? null,
  responseNote: (r.response_note as string | null) ?? null,
  respondedAt: iso(r.responded_at),
  appointmentId: (r.appointment_id as string | null) ?? null,
  bookedAt: iso(r.booked_at),
  createdAt: isoAt(r.created_at),
  updatedAt: isoAt(r.updated_at),
});

/** A doctor as the referral rules need it; specialities lower-case. */
interface DoctorRef {
  id: string;
  name: string;
  specialities: string[];
}

const lowerAll = (v: unknown): string[] => ((typeof v === 'string' ? JSON.parse(v) : v) as string[]).map((s) => s.toLowerCase());

/** The SQL condition "referral r concerns doctor ?" — the doctor's id and lower-case specialities. */
const CONCERNS = {
  outgoing: 'r.from_doctor_id = ?',
  incoming: '(r.to_doctor_id = ? OR r.responded_by = ? OR lower(r.to_speciality) = ANY(?::text[]))',
};

export async function findReferral(db: Queryable, id: string, lock = false): Promise<Referral | null> {
  // FOR UPDATE of the referral row only: the joined rows are read, not held.
  const { rows } = await db.query(`SELECT ${COLS} FROM ${FROM} WHERE r.id = $1${lock ? ' FOR UPDATE OF r' : ''}`, [id]);
  return rows[0] ? toReferral(rows[0]) : null;
}

// ---------------------------------------------------------------- booking (appointments.store.ts)

/**
 * The accepted referral an appointment is being booked from, locked for the booking's
 * transaction. The appointment must be for the referral's patient (else it is "not found": a
 * patient account learns nothing of others' referrals) and with its receiving doctor — the one it
 * was sent to, or the one who took a speciality referral. Only an accepted one may be booked.
 */
export async function referralForBooking(tx: Queryable, referralId: string, patientId: string, doctorId: string): Promise<Referral> {
  const r = await findReferral(tx, referralId, true);
  if (!r || r.patientId !== patientId) throw Errors.validation(`body.referralId: referral '${referralId}' not found for patient '${patientId}'`);
  const problem = transitionProblem('book', r);
  if (problem) throw fail('ERR_ILLEGAL_TRANSITION', problem);
  const assigned = r.toDoctorId ?? r.respondedBy!;
  if (doctorId !== assigned) {
    const name = r.toDoctorName ?? r.respondedByName;
    throw Errors.validation(`body.doctorId: referral '${referralId}' is to be booked with ${name} ('${assigned}'), who ${r.toDoctorId ? 'received' : 'accepted'} it`);
  }
  return r;
}

/** The referral now booked with `appointmentId` (its row is held by referralForBooking). */
export async function markBooked(tx: Queryable, referralId: string, appointmentId: string): Promise<void> {
  await tx.query(`UPDATE referrals SET status = 'booked', appointment_id = $2, booked_at = now(), updated_at = now() WHERE id = $1`, [referralId, appointmentId]);
}

/** The referral booked with a cancelled appointment is accepted again, to be booked anew; its id, or null. */
export async function reopenReferral(tx: Queryable, appointmentId: string): Promise<{ id: string; patientId: string } | null> {
  const { from, to } = REFERRAL_TRANSITIONS.reopen;
  const { rows } = await tx.query<{ id: string; patient_id: string }>(
    `UPDATE referrals SET status = $2, appointment_id = NULL, booked_at = NULL, updated_at = now()
     WHERE appointment_id = $1 AND status = ANY($3::text[]) RETURNING id, patient_id`,
    [appointmentId, to, from],
  );
  return rows[0] ? { id: rows[0].id, patientId: rows[0].patient_id } : null;
}

// ---------------------------------------------------------------- the store

export class ReferralStore {
  constructor(private readonly deps: RepoDeps) {}

  private audit(actor: Actor, action: string, id: string | null, patientId: string | null, details?: unknown): void {
    this.deps.audit(auditEntry(actor, action, 'referral', id, patientId, details));
  }

  private async doctor(where: 'id' | 'user_id', value: string, db: Queryable = this.deps.db): Promise<(DoctorRef & { archived: boolean }) | null> {
    const { rows } = await db.query<{ id: string; name: string; specialities: unknown; archived_at: unknown }>(
      `SELECT id, name, specialities, archived_at FROM doctors WHERE ${where} = $1`,
      [value],
    );
    const d = rows[0];
    return d ? { id: d.id, name: d.name, specialities: lowerAll(d.specialities), archived: d.archived_at !== null } : null;
  }

  /** The live doctor record of a doctor account, or null (not linked, archived). */
  private async own(user: Principal): Promise<DoctorRef | null> {
    if (user.role !== 'doctor') return null;
    const d = await this.doctor('user_id', user.id);
    return d && !d.archived ? d : null;
  }

  /** Does `user` see referral `r`? (Permission checked already.) */
  private async sees(user: Principal, r: Referral): Promise<boolean> {
    if (user.role === 'patient') return ((await visiblePatients(this.deps.db, user)) ?? []).includes(r.patientId);
    if (user.role !== 'doctor') return true;
    const me = await this.own(user);
    if (!me) return false;
    return [r.fromDoctorId, r.toDoctorId, r.respondedBy].includes(me.id) || (r.toSpeciality !== null && me.specialities.includes(r.toSpeciality.toLowerCase()));
  }

  /** The referral if `actor` may see it, else the same 404 as a missing one. Not audited: the caller's next step is. */
  async visible(actor: Actor, id: string): Promise<Referral> {
    const r = await findReferral(this.deps.db, id);
    if (!r || !(await this.sees(actor.user, r))) throw Errors.notFound('referral', id);
    return r;
  }

  async read(actor: Actor, id: string): Promise<Referral> {
    const r = await this.visible(actor, id);
    this.audit(actor, 'read', id, r.patientId);
    return r;
  }

  /** A doctor account refers as its own doctor record, to another doctor or to a speciality offered here. Audited. */
  async create(actor: Actor, b: NewReferral): Promise<Referral> {
    const me = await this.own(actor.user);
    if (!me) throw Errors.forbidden('your account is not linked to a doctor record');
    const db = this.deps.db;
    const patient = await db.query<{ archived_at: unknown }>('SELECT archived_at FROM patients WHERE id = $1', [b.patientId]);
    if (!patient.rows[0]) throw Errors.validation(`body.patientId: patient '${b.patientId}' not found`);
    if (patient.rows[0].archived_at !== null) throw Errors.archived('patient', b.patientId);
    let toSpeciality: string | null = null;
    if (b.toDoctorId) {
      if (b.toDoctorId === me.id) throw Errors.validation('body.toDoctorId: a doctor cannot refer a patient to themself');
      const to = await this.doctor('id', b.toDoctorId);
      if (!to) throw Errors.validation(`body.toDoctorId: doctor '${b.toDoctorId}' not found`);
      if (to.archived) throw Errors.validation(`body.toDoctorId: doctor '${b.toDoctorId}' (${to.name}) is archived`);
    } else {
      toSpeciality = await this.offered(b.toSpeciality!, me.id);
    }
    const id = randomUUID();
    await db
      .query('INSERT INTO referrals (id, patient_id, from_doctor_id, to_doctor_id, to_speciality, reason, urgency) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        id,
        b.patientId,
        me.id,
        b.toDoctorId ?? null,
        toSpeciality,
        b.reason,
        b.urgency,
      ])
      .catch((e) => refusal(e, 'referral'));
    const r = (await findReferral(db, id))!;
    this.audit(actor, 'create', id, r.patientId, { toDoctorId: r.toDoctorId, toSpeciality: r.toSpeciality, urgency: r.urgency });
    return r;
  }

  /**
   * The speciality as the doctors spell it, when a live doctor other than the referrer offers it
   * (case-insensitive): a referral nobody can take would wait for ever.
   */
  private async offered(speciality: string, referrer: string): Promise<string> {
    const { rows } = await this.deps.db.query<{ s: string; id: string }>(
      'SELECT s, d.id FROM doctors d, jsonb_array_elements_text(d.specialities) s WHERE d.archived_at IS NULL',
    );
    // By code point, not the database's collation: 'Cardiology' before 'cardiology' on either driver.
    rows.sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
    const key = speciality.toLowerCase();
    const others = rows.filter((r) => r.s.toLowerCase() === key && r.id !== referrer);
    if (others[0]) return others[0].s;
    if (rows.some((r) => r.s.toLowerCase() === key)) throw Errors.validation(`body.toSpeciality: you are the only doctor here offering '${speciality}'`);
    const all = new Map<string, string>();
    for (const r of rows) if (!all.has(r.s.toLowerCase())) all.set(r.s.toLowerCase(), r.s);
    const offered = [...all.values()].sort((a, b) => a.localeCompare(b));
    throw Errors.validation(`body.toSpeciality: no doctor here offers '${speciality}' (offered: ${offered.join(', ') || 'none'})`);
  }

  /**
   * Newest first. A doctor: only the referrals that concern it (direction: made by it, or sent to
   * it, taken by it or sent to one of its specialities); a patient account: its own and its family's.
   * Audited once per list: the filters, the count and the patients shown.
   */
  async list(actor: Actor, f: ReferralFilter): Promise<Page<Referral>> {
    const user = actor.user;
    const where = new Where().when(f.patientId, 'r.patient_id = ?').when(f.status, 'r.status = ?').when(f.urgency, 'r.urgency = ?');
    let whose: DoctorRef | null = null;
    if (user.role === 'doctor') {
      const me = await this.own(user);
      if (f.doctorId && f.doctorId !== me?.id) throw Errors.forbidden('a doctor may only list the referrals that concern them (leave out doctorId)');
      // An account with no doctor record: no referral concerns it.
      if (!me) return { items: [], total: 0, limit: f.limit, offset: f.offset };
      whose = me;
    } else if (f.doctorId) {
      const d = await this.doctor('id', f.doctorId);
      if (!d) throw Errors.validation(`query.doctorId: doctor '${f.doctorId}' not found`);
      whose = d;
    } else if (f.direction) {
      throw Errors.validation('query.direction: name the doctor (query.doctorId) whose incoming or outgoing referrals to list');
    }
    if (whose) {
      if (f.direction === 'outgoing') where.add(CONCERNS.outgoing, whose.id);
      else if (f.direction === 'incoming') where.add(CONCERNS.incoming, whose.id, whose.id, whose.specialities);
      else where.add(`(${CONCERNS.outgoing} OR ${CONCERNS.incoming})`, whose.id, whose.id, whose.id, whose.specialities);
    }
    const scope = await visiblePatients(this.deps.db, user);
    if (scope) where.add('r.patient_id = ANY(?::uuid[])', scope);
    const result = await page(this.deps.db, { columns: COLS, from: FROM, where, orderBy: 'r.created_at DESC, r.id', limit: f.limit, offset: f.offset }, toReferral);
    const patients = [...new Set(result.items.map((r) => r.patientId))];
    const filters = Object.fromEntries(Object.entries({ direction: f.direction, doctorId: f.doctorId, patientId: f.patientId, status: f.status, urgency: f.urgency }).filter(([, v]) => v !== undefined));
    this.audit(actor, 'list', null, patients.length === 1 ? patients[0]! : (f.patientId ?? null), { count: result.items.length, filters, patients });
    return result;
  }

  /**
   * Accept or decline, by the receiving side: the doctor it was sent to, or any doctor of the
   * speciality it was sent to — never its referrer. The status check is in the UPDATE, so two
   * doctors of a speciality accepting at once cannot both take it. Audited.
   */
  async respond(actor: Actor, id: string, action: 'accept' | 'decline', note: string | undefined): Promise<Referral> {
    const r = await this.visible(actor, id);
    const me = (await this.own(actor.user))!; // visible() to a doctor means it has a record
    if (r.fromDoctorId === me.id) throw Errors.forbidden(`a doctor may not ${action} their own referral`);
    if (r.toDoctorId ? r.toDoctorId !== me.id : !me.specialities.includes(r.toSpeciality!.toLowerCase())) {
      throw Errors.forbidden(`only ${receiver(r)} may ${action} this referral`);
    }
    const { from, to } = REFERRAL_TRANSITIONS[action];
    const { rows } = await this.deps.db.query(
      `UPDATE referrals SET status = $2, responded_by = $3, response_note = $4, responded_at = now(), updated_at = now()
       WHERE id = $1 AND status = ANY($5::text[]) RETURNING id`,
      [id, to, me.id, note ?? null, from],
    );
    const after = (await findReferral(this.deps.db, id))!;
    if (!rows[0]) throw fail('ERR_ILLEGAL_TRANSITION', transitionProblem(action, after) ?? `cannot ${action} referral '${id}'`);
    this.audit(actor, action, id, after.patientId, { from: r.status, to, note: note !== undefined });
    return after;
  }
}
