// Storage of schedules and appointments (the waiting-room queue: queue.store.ts): every SQL
// statement of the feature, the row mapping (once per table), the patient scope, the booking transaction and the
// audit entry of every read of appointments (patient names, visit reasons) and every change.
// The rules are pure (appointments.ts); the guarantees are the database's: the unique indexes
// appointments_slot and appointments_token (db/migrations/003_records.sql) refuse a double
// booking even when two requests race, and are recognised here by name, never by message.
import { randomUUID } from 'node:crypto';
import { DbError, type Queryable } from '../../db/driver.ts';
import { Where, isoAt, page, type Page } from '../../db/rows.ts';
import { Errors, fail } from '../errors.ts';
import { Repository, auditEntry, refusal, type Actor, type RepoDeps } from './repository.ts';
import { visiblePatients } from './scope.ts';
import { doctorSpec } from './specs.ts';
import { markBooked, referralForBooking, reopenReferral } from './referrals.store.ts';
import { appointmentMessage } from '../notify/messages.ts';
import type { PatientNotifier } from '../notify/notifications.ts';
import {
  TRANSITIONS,
  addDays,
  canTransition,
  dailyCapProblem,
  localNow,
  nextFreeSlots,
  pastProblem,
  slotKey,
  slotProblem,
  type AppointmentAction,
  type AppointmentStatus,
  type FreeSlot,
  type Leave,
  type Preference,
  type Shift,
  type Slot,
} from './appointments.ts';

export interface Appointment {
  id: string;
  patientId: string;
  patientName: string;
  doctorId: string;
  doctorName: string;
  date: string;
  time: string;
  tokenNumber: number;
  status: AppointmentStatus;
  priority: 'normal' | 'urgent';
  reason: string | null;
  /** The referral it was booked from (kept when the appointment is cancelled and the referral reopened). */
  referralId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Schedule {
  doctorId: string;
  slotMinutes: number;
  shifts: Shift[];
  leave: (Leave & { id: string })[];
}

/** A doctor as the booking needs it, read through the generic doctors repository (specs.ts). */
type DoctorRecord = { id: string; name: string; room: string | null; slotMinutes: number; userId: string | null; archivedAt?: string | null };

export interface BookingInput {
  patientId: string;
  doctorId: string;
  date: string;
  time: string;
  /** Default: normal, or the urgency of the referral it is booked from. */
  priority?: 'normal' | 'urgent' | undefined;
  reason?: string | null;
  referralId?: string | undefined;
}

export interface AppointmentFilter {
  doctorId?: string;
  patientId?: string;
  date?: string;
  status?: AppointmentStatus;
  limit: number;
  offset: number;
}

export interface SlotsQuery {
  from?: string;
  days: number;
  preferredDays?: number[];
  fromTime?: string;
  toTime?: string;
  urgent: boolean;
  limit: number;
}

// ---------------------------------------------------------------- rows

const COLUMNS = `a.id, a.patient_id, p.name AS patient_name, a.doctor_id, d.name AS doctor_name, a.date,
  to_char(a.time, 'HH24:MI') AS time, a.token_number, a.status, a.priority, a.reason, a.referral_id, a.created_at, a.updated_at`;
/** Appointments (or rows shaped like them: an UPDATE's RETURNING) with the names they show. */
const FROM = (source = 'appointments') => `${source} a JOIN patients p ON p.id = a.patient_id JOIN doctors d ON d.id = a.doctor_id`;

const toAppointment = (r: Record<string, unknown>): Appointment => ({
  id: r.id as string,
  patientId: r.patient_id as string,
  patientName: r.patient_name as string,
  doctorId: r.doctor_id as string,
  doctorName: r.doctor_name as string,
  date: r.date as string,
  time: r.time as string,
  tokenNumber: r.token_number as number,
  status: r.status as AppointmentStatus,
  priority: r.priority as 'normal' | 'urgent',
  reason: (r.reason as string | null) ?? null,
  referralId: (r.referral_id as string | null) ?? null,
  createdAt: isoAt(r.created_at),
  updatedAt: isoAt(r.updated_at),
});

// ---------------------------------------------------------------- refusals

const TOKEN_RETRIES = 5;

/**
 * What a booking transaction's failure means, on its `attempt`-th try: a collision on
 * appointments_token (a concurrent writer got the same number) is retried a few times; one on
 * appointments_slot is "slot taken" (ERR_SLOT_TAKEN); anything else as refusal() maps it.
 * By constraint name only: the message text is the database's and may change.
 */
export function bookingRefusal(err: unknown, slot: Slot, attempt: number): 'retry' {
  if (err instanceof DbError && err.constraint === 'appointments_token' && attempt < TOKEN_RETRIES) return 'retry';
  return refusal(err, 'appointment', {
    appointments_slot: () => fail('ERR_SLOT_TAKEN', `slot taken: the doctor already has an appointment on ${slot.date} at ${slot.time}`),
  });
}

// ---------------------------------------------------------------- the store

export class AppointmentStore {
  private readonly doctors: Repository<DoctorRecord>;

  constructor(
    private readonly deps: RepoDeps,
    /** Live appointments a patient account may hold with one doctor on one day (BOOKINGS_PER_PATIENT_PER_DOCTOR_PER_DAY). */
    private readonly bookingsPerPatientPerDoctorPerDay: number,
    /**
     * Patients' notifications (notify/notifications.ts), null when off: enqueued in the change's own
     * transaction, so the outbox row exists iff the booking, move or cancellation committed.
     */
    private readonly notify: PatientNotifier | null = null,
  ) {
    this.doctors = new Repository<DoctorRecord>(doctorSpec, deps);
  }

  private audit(actor: Actor, action: string, resource: string, id: string | null, patientId: string | null, details?: unknown): void {
    this.deps.audit(auditEntry(actor, action, resource, id, patientId, details));
  }

  // ---------------------------------------------------------------- doctors and schedules

  /**
   * The live (not archived) doctor, or 404. With `lock` (inside a transaction) its row is held:
   * bookings of one doctor then take turns, so tokens come out in booking order without retries,
   * and two "next" presses call two different patients. The unique indexes remain the guarantee
   * (a writer that skipped the lock would be refused, not double-booked). NO KEY UPDATE: foreign-
   * key checks from other tables (prescriptions naming the doctor) are not held up.
   */
  async doctor(id: string, db: Queryable = this.deps.db, lock = false): Promise<DoctorRecord> {
    if (lock) await db.query('SELECT 1 FROM doctors WHERE id = $1 FOR NO KEY UPDATE', [id]);
    const d = await this.doctors.find(id, db);
    if (!d || d.archivedAt) throw Errors.notFound('doctor', id);
    return d;
  }

  /** A doctor account acts only on its own schedule and queue; other roles pass without a query. */
  async assertOwnDoctor(actor: Actor, doctorId: string): Promise<void> {
    if (actor.user.role !== 'doctor') return;
    const d = await this.doctors.find(doctorId);
    if (!d) throw Errors.notFound('doctor', doctorId);
    if (d.userId !== actor.user.id) throw Errors.forbidden('a doctor may only manage their own schedule and queue');
  }

  private async shiftsAndLeave(db: Queryable, doctorId: string): Promise<Pick<Schedule, 'shifts' | 'leave'>> {
    const s = await db.query<{ day_of_week: number; start_time: string; end_time: string }>(
      `SELECT day_of_week, to_char(start_time, 'HH24:MI') AS start_time, to_char(end_time, 'HH24:MI') AS end_time
       FROM doctor_shifts WHERE doctor_id = $1 ORDER BY day_of_week, start_time`,
      [doctorId],
    );
    const l = await db.query<{ id: string; from_date: string; to_date: string; reason: string | null }>(
      'SELECT id, from_date, to_date, reason FROM doctor_leave WHERE doctor_id = $1 ORDER BY from_date, to_date',
      [doctorId],
    );
    return {
      shifts: s.rows.map((r) => ({ dayOfWeek: r.day_of_week, startTime: r.start_time, endTime: r.end_time })),
      leave: l.rows.map((r) => ({ id: r.id, fromDate: r.from_date, toDate: r.to_date, reason: r.reason })),
    };
  }

  /** A live doctor's weekly shifts and leave (404 for an unknown or archived doctor). */
  async schedule(doctorId: string, db: Queryable = this.deps.db): Promise<Schedule> {
    const doctor = await this.doctor(doctorId, db);
    return { doctorId, slotMinutes: doctor.slotMinutes, ...(await this.shiftsAndLeave(db, doctorId)) };
  }

  /** Replace a doctor's shifts and leave (already checked: scheduleProblems); a doctor: their own. Audited. */
  async replaceSchedule(actor: Actor, doctorId: string, shifts: readonly Shift[], leave: readonly Leave[]): Promise<Schedule> {
    await this.assertOwnDoctor(actor, doctorId);
    const schedule = await this.deps.db.transaction(async (tx) => {
      await this.doctor(doctorId, tx, true);
      await tx.query('DELETE FROM doctor_shifts WHERE doctor_id = $1', [doctorId]);
      await tx.query('DELETE FROM doctor_leave WHERE doctor_id = $1', [doctorId]);
      for (const s of shifts) await tx.query('INSERT INTO doctor_shifts (doctor_id, day_of_week, start_time, end_time) VALUES ($1, $2, $3, $4)', [doctorId, s.dayOfWeek, s.startTime, s.endTime]);
      for (const l of leave) await tx.query('INSERT INTO doctor_leave (id, doctor_id, from_date, to_date, reason) VALUES ($1, $2, $3, $4, $5)', [randomUUID(), doctorId, l.fromDate, l.toDate, l.reason ?? null]);
      return this.schedule(doctorId, tx);
    });
    this.audit(actor, 'update', 'schedule', doctorId, null, { shifts: shifts.length, leave: leave.length });
    return schedule;
  }

  /** The next free slots of a live doctor from `q.from` (today at the earliest); `now` cuts today's past ones. */
  async freeSlots(doctorId: string, q: SlotsQuery, now: Slot = localNow()): Promise<{ doctorId: string; slotMinutes: number; from: string; days: number; urgent: boolean; items: FreeSlot[] }> {
    const from = q.from && q.from > now.date ? q.from : now.date;
    const { slotMinutes, shifts, leave } = await this.schedule(doctorId);
    const { rows } = await this.deps.db.query<{ date: string; time: string }>(
      `SELECT date, to_char(time, 'HH24:MI') AS time FROM appointments
       WHERE doctor_id = $1 AND status <> 'cancelled' AND date BETWEEN $2 AND $3`,
      [doctorId, from, addDays(from, q.days - 1)],
    );
    const preferred: Preference | undefined = q.preferredDays || q.fromTime || q.toTime ? { dayOfWeek: q.preferredDays, fromTime: q.fromTime, toTime: q.toTime } : undefined;
    const items = nextFreeSlots({
      from,
      days: q.days,
      shifts,
      leave,
      slotMinutes,
      booked: new Set(rows.map((b) => slotKey(b.date, b.time))),
      preferred,
      urgent: q.urgent,
      limit: q.limit,
      notBefore: now,
    });
    return { doctorId, slotMinutes, from, days: q.days, urgent: q.urgent, items };
  }

  // ---------------------------------------------------------------- appointments: reads

  /** The appointment by id, unscoped and unaudited: for the server's own decisions, never a response. */
  async find(id: string, db: Queryable = this.deps.db): Promise<Appointment | null> {
    const { rows } = await db.query(`SELECT ${COLUMNS} FROM ${FROM()} WHERE a.id = $1`, [id]);
    return rows[0] ? toAppointment(rows[0]) : null;
  }

  /** The appointment if `actor` may see it, else the same 404 as a missing one. Not audited: the caller's next step is. */
  async visible(actor: Actor, id: string): Promise<Appointment> {
    const a = await this.find(id);
    const scope = a ? await visiblePatients(this.deps.db, actor.user) : null;
    if (!a || (scope && !scope.includes(a.patientId))) throw Errors.notFound('appointment', id);
    return a;
  }

  /** One appointment for `actor` (404 outside their scope); audited: it shows a name and a visit reason. */
  async read(actor: Actor, id: string): Promise<Appointment> {
    const a = await this.visible(actor, id);
    this.audit(actor, 'read', 'appointment', id, a.patientId);
    return a;
  }

  /**
   * Appointments by date, time and token, a patient account's own and family's only. Audited,
   * once per list: the filters, the count and which patients' appointments were shown.
   */
  async list(actor: Actor, f: AppointmentFilter): Promise<Page<Appointment>> {
    const where = new Where()
      .when(f.doctorId, 'a.doctor_id = ?')
      .when(f.patientId, 'a.patient_id = ?')
      .when(f.date, 'a.date = ?')
      .when(f.status, 'a.status = ?');
    const scope = await visiblePatients(this.deps.db, actor.user);
    if (scope) where.add('a.patient_id = ANY(?::uuid[])', scope);
    const result = await page(this.deps.db, { columns: COLUMNS, from: FROM(), where, orderBy: 'a.date, a.time, a.token_number', limit: f.limit, offset: f.offset }, toAppointment);
    const patients = [...new Set(result.items.map((a) => a.patientId))];
    const filters = Object.fromEntries(Object.entries({ doctorId: f.doctorId, patientId: f.patientId, date: f.date, status: f.status }).filter(([, v]) => v !== undefined));
    this.audit(actor, 'list', 'appointment', null, patients.length === 1 ? patients[0]! : (f.patientId ?? null), { count: result.items.length, filters, patients });
    return result;
  }

  // ---------------------------------------------------------------- appointments: changes

  /**
   * Run a booking transaction, retrying a token collision (bookingRefusal). The transaction holds
   * the doctor's row, so the checks it reads (schedule, daily cap) cannot be raced past.
   */
  private async guarded<T>(slot: Slot, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.db.transaction(fn);
      } catch (err) {
        bookingRefusal(err, slot, attempt);
      }
    }
  }

  /** Refuse a slot in the past (400) or outside the doctor's schedule (ERR_NOT_BOOKABLE), read inside `tx`. */
  private async checkSlot(tx: Queryable, doctorId: string, slotMinutes: number, slot: Slot): Promise<void> {
    const past = pastProblem(slot, localNow());
    if (past) throw Errors.validation(past);
    const { shifts, leave } = await this.shiftsAndLeave(tx, doctorId);
    const problem = slotProblem(slot.date, slot.time, shifts, leave, slotMinutes);
    if (problem) throw fail('ERR_NOT_BOOKABLE', `not bookable: ${problem}`);
  }

  /**
   * A patient account holds at most the daily cap of live appointments with one doctor on one
   * day (ERR_BOOKING_LIMIT). Staff bookings are not capped (the desk may book a same-day
   * follow-up, and every booking is audited) but count. `except`: the appointment being moved.
   */
  private async checkDailyCap(tx: Queryable, actor: Actor, patientId: string, doctorId: string, day: string, except: string | null): Promise<void> {
    if (actor.user.role !== 'patient') return;
    const { rows } = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM appointments
       WHERE patient_id = $1 AND doctor_id = $2 AND date = $3 AND status IN ('pending', 'confirmed') AND ($4::uuid IS NULL OR id <> $4::uuid)`,
      [patientId, doctorId, day, except],
    );
    const problem = dailyCapProblem(rows[0]!.n, this.bookingsPerPatientPerDoctorPerDay, day);
    if (problem) throw fail('ERR_BOOKING_LIMIT', problem);
  }

  /**
   * The next token of a doctor's day, from a counter per doctor and day: a number is never handed
   * out twice, not even after the appointment holding it moved to another day (migration 005).
   */
  private async nextToken(tx: Queryable, doctorId: string, day: string): Promise<number> {
    const { rows } = await tx.query<{ n: number }>(
      `INSERT INTO queue_token_counters (doctor_id, date, last_token) VALUES ($1, $2, 1)
       ON CONFLICT (doctor_id, date) DO UPDATE SET last_token = queue_token_counters.last_token + 1
       RETURNING last_token AS n`,
      [doctorId, day],
    );
    return rows[0]!.n;
  }

  /**
   * Book a slot: staff for anyone, a patient account for itself or its family (not urgent). With
   * `referralId`, from that accepted referral — its patient, its receiving doctor — which becomes
   * booked in the same transaction (its row held: one booking per referral), and whose urgency is
   * the default priority (a clinician's call already, so a patient account may book it). Audited.
   */
  async book(actor: Actor, b: BookingInput): Promise<Appointment> {
    // Urgency jumps the queue: a clinician's call, not the patient's.
    if (actor.user.role === 'patient' && b.priority === 'urgent') throw Errors.forbidden('only staff may book an urgent appointment');
    const scope = await visiblePatients(this.deps.db, actor.user);
    if (scope && !scope.includes(b.patientId)) throw Errors.forbidden('a patient may only book for themselves or their family');
    const id = randomUUID();
    const slot = { date: b.date, time: b.time };
    const a = await this.guarded(slot, async (tx) => {
      const doctor = await this.doctor(b.doctorId, tx, true);
      const patient = await tx.query('SELECT 1 FROM patients WHERE id = $1 AND archived_at IS NULL', [b.patientId]);
      if (patient.rows.length === 0) throw Errors.notFound('patient', b.patientId);
      const referral = b.referralId ? await referralForBooking(tx, b.referralId, b.patientId, b.doctorId) : null;
      await this.checkSlot(tx, b.doctorId, doctor.slotMinutes, slot);
      await this.checkDailyCap(tx, actor, b.patientId, b.doctorId, b.date, null);
      const token = await this.nextToken(tx, b.doctorId, b.date);
      const priority = b.priority ?? (referral?.urgency === 'urgent' ? 'urgent' : 'normal');
      await tx.query(
        'INSERT INTO appointments (id, patient_id, doctor_id, date, time, token_number, priority, reason, referral_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
        [id, b.patientId, b.doctorId, b.date, b.time, token, priority, b.reason ?? null, referral?.id ?? null],
      );
      if (referral) await markBooked(tx, referral.id, id);
      const booked = (await this.find(id, tx))!;
      await this.notify?.enqueue(tx, { kind: 'appointment-booked', patientId: booked.patientId, appointmentId: id, message: appointmentMessage('appointment-booked', booked) });
      return booked;
    });
    this.notify?.kick();
    this.audit(actor, 'create', 'appointment', id, a.patientId, { doctorId: a.doctorId, date: a.date, time: a.time, tokenNumber: a.tokenNumber, priority: a.priority, referralId: a.referralId });
    if (a.referralId) this.audit(actor, 'book', 'referral', a.referralId, a.patientId, { appointmentId: id, doctorId: a.doctorId, date: a.date, time: a.time });
    return a;
  }

  /** Move a live appointment to another slot, with a booking's checks; a new token when the day changes. Audited. */
  async reschedule(actor: Actor, id: string, slot: Slot): Promise<Appointment> {
    const before = await this.visible(actor, id);
    const a = await this.guarded(slot, async (tx) => {
      const doctor = await this.doctor(before.doctorId, tx, true);
      const { rows } = await tx.query<{ status: AppointmentStatus; date: string; token_number: number }>('SELECT status, date, token_number FROM appointments WHERE id = $1 FOR UPDATE', [id]);
      const cur = rows[0]!;
      if (!canTransition('reschedule', cur.status)) throw fail('ERR_ILLEGAL_TRANSITION', `cannot reschedule a ${cur.status} appointment`);
      await this.checkSlot(tx, before.doctorId, doctor.slotMinutes, slot);
      if (cur.date !== slot.date) await this.checkDailyCap(tx, actor, before.patientId, before.doctorId, slot.date, id);
      const token = cur.date === slot.date ? cur.token_number : await this.nextToken(tx, before.doctorId, slot.date);
      await tx.query('UPDATE appointments SET date = $2, time = $3, token_number = $4, updated_at = now() WHERE id = $1', [id, slot.date, slot.time, token]);
      const moved = (await this.find(id, tx))!;
      await this.notify?.enqueue(tx, { kind: 'appointment-rescheduled', patientId: moved.patientId, appointmentId: id, message: appointmentMessage('appointment-rescheduled', moved, before) });
      return moved;
    });
    this.notify?.kick();
    this.audit(actor, 'reschedule', 'appointment', id, a.patientId, { from: { date: before.date, time: before.time }, to: { date: a.date, time: a.time }, tokenNumber: a.tokenNumber });
    return a;
  }

  /**
   * Confirm, complete or cancel; the status check is in the UPDATE itself, so two racing requests
   * cannot both pass it. Cancelling an appointment booked from a referral makes the referral
   * accepted again (in the same transaction), to be booked anew. Audited.
   */
  async transition(actor: Actor, id: string, action: Exclude<AppointmentAction, 'reschedule'>): Promise<Appointment> {
    const before = await this.visible(actor, id);
    const { to, from } = TRANSITIONS[action];
    const moved = await this.deps.db.transaction(async (tx) => {
      const { rows } = await tx.query(
        `WITH moved AS (UPDATE appointments SET status = $2, updated_at = now() WHERE id = $1 AND status = ANY($3::text[]) RETURNING *)
         SELECT ${COLUMNS} FROM ${FROM('moved')}`,
        [id, to, from],
      );
      if (!rows[0]) return null;
      const a = toAppointment(rows[0]);
      const kind = action === 'cancel' ? 'appointment-cancelled' : action === 'confirm' ? 'appointment-confirmed' : null;
      if (kind) await this.notify?.enqueue(tx, { kind, patientId: a.patientId, appointmentId: id, message: appointmentMessage(kind, a) });
      return { a, reopened: action === 'cancel' ? await reopenReferral(tx, id) : null };
    });
    if (moved && action !== 'complete') this.notify?.kick();
    if (!moved) {
      const now = await this.find(id);
      throw fail('ERR_ILLEGAL_TRANSITION', `cannot ${action} a ${now?.status ?? before.status} appointment (allowed from: ${from.join(', ')})`);
    }
    const { a, reopened } = moved;
    this.audit(actor, action, 'appointment', id, a.patientId, { from: before.status, to });
    if (reopened) this.audit(actor, 'reopen', 'referral', reopened.id, reopened.patientId, { cancelledAppointmentId: id });
    return a;
  }
}
