// Doctor schedules and appointments: the per-entity code the generic resource mechanism leaves
// out, because booking has rules (inside the schedule, not on leave, not in the past, one live
// booking per slot, a queue token per doctor and day). The rules are pure (appointments.ts);
// the guarantees are the database's: the unique indexes appointments_slot and appointments_token
// (db/migrations/003_records.sql) refuse a double booking even when two requests race.
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { Queryable } from '../../db/driver.ts';
import { DbError } from '../../db/driver.ts';
import { type AppContext, allow, auditOf, handler } from '../http/context.ts';
import { calendarDate, idParam, parse, uuid } from '../http/validate.ts';
import { describeRoute } from '../http/openapi.ts';
import { Errors } from '../errors.ts';
import { dbConflict } from './resource.ts';
import { assertVisible, patientScope } from './scope.ts';
import {
  TRANSITIONS,
  addDays,
  canTransition,
  localNow,
  nextFreeSlots,
  scheduleProblems,
  slotKey,
  slotProblem,
  type AppointmentAction,
  type AppointmentStatus,
  type Leave,
  type Shift,
} from './appointments.ts';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time HH:MM (00:00–23:59)');
const date = calendarDate;

const scheduleBody = z.strictObject({
  shifts: z.array(z.strictObject({ dayOfWeek: z.number().int().min(0, '0 = Sunday … 6 = Saturday').max(6, '0 = Sunday … 6 = Saturday'), startTime: hhmm, endTime: hhmm })).max(100),
  leave: z.array(z.strictObject({ fromDate: date, toDate: date, reason: z.string().trim().max(200).nullable().optional() })).max(500).default([]),
});

const slotsQuery = z.strictObject({
  from: date.optional(),
  days: z.coerce.number().int().min(1).max(90).default(14),
  preferredDays: z
    .string()
    .regex(/^[0-6](,[0-6])*$/, 'must be days of the week 0–6, comma-separated (0 = Sunday)')
    .transform((s) => [...new Set(s.split(',').map(Number))])
    .optional(),
  fromTime: hhmm.optional(),
  toTime: hhmm.optional(),
  urgent: z.stringbool().default(false),
  limit: z.coerce.number().int().min(1).max(200).default(20),
});

const bookBody = z.strictObject({
  patientId: uuid,
  doctorId: uuid,
  date,
  time: hhmm,
  priority: z.enum(['normal', 'urgent']).default('normal'),
  reason: z.string().trim().max(1000).nullable().optional(),
});

const rescheduleBody = z.strictObject({ date, time: hhmm });

const listQuery = z.strictObject({
  doctorId: uuid.optional(),
  patientId: uuid.optional(),
  date: date.optional(),
  status: z.enum(['pending', 'confirmed', 'completed', 'cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});


// ---------------------------------------------------------------- storage

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
  createdAt: string;
  updatedAt: string;
}

const SELECT_APPOINTMENT = `SELECT a.id, a.patient_id, p.name AS patient_name, a.doctor_id, d.name AS doctor_name,
    a.date::text AS date, to_char(a.time, 'HH24:MI') AS time, a.token_number, a.status, a.priority, a.reason,
    a.created_at, a.updated_at
  FROM appointments a JOIN patients p ON p.id = a.patient_id JOIN doctors d ON d.id = a.doctor_id`;

const toAppointment = (r: Record<string, unknown>): Appointment => ({
  id: r.id as string,
  patientId: r.patient_id as string,
  patientName: r.patient_name as string,
  doctorId: r.doctor_id as string,
  doctorName: r.doctor_name as string,
  date: r.date as string,
  time: r.time as string,
  tokenNumber: Number(r.token_number),
  status: r.status as AppointmentStatus,
  priority: r.priority as 'normal' | 'urgent',
  reason: (r.reason as string | null) ?? null,
  createdAt: new Date(r.created_at as string).toISOString(),
  updatedAt: new Date(r.updated_at as string).toISOString(),
});

async function getAppointment(db: Queryable, id: string): Promise<Appointment | null> {
  const { rows } = await db.query(`${SELECT_APPOINTMENT} WHERE a.id = $1`, [id]);
  return rows[0] ? toAppointment(rows[0]) : null;
}

export async function loadSchedule(db: Queryable, doctorId: string): Promise<{ shifts: Shift[]; leave: (Leave & { id: string })[] }> {
  const s = await db.query<{ day_of_week: number; start_time: string; end_time: string }>(
    `SELECT day_of_week, to_char(start_time, 'HH24:MI') AS start_time, to_char(end_time, 'HH24:MI') AS end_time
     FROM doctor_shifts WHERE doctor_id = $1 ORDER BY day_of_week, start_time`,
    [doctorId],
  );
  const l = await db.query<{ id: string; from_date: string; to_date: string; reason: string | null }>(
    `SELECT id, from_date::text AS from_date, to_date::text AS to_date, reason FROM doctor_leave WHERE doctor_id = $1 ORDER BY from_date, to_date`,
    [doctorId],
  );
  return {
    shifts: s.rows.map((r) => ({ dayOfWeek: Number(r.day_of_week), startTime: r.start_time, endTime: r.end_time })),
    leave: l.rows.map((r) => ({ id: r.id, fromDate: r.from_date, toDate: r.to_date, reason: r.reason })),
  };
}

interface DoctorRow {
  name: string;
  room: string | null;
  slotMinutes: number;
  userId: string | null;
}

/**
 * The doctor, optionally locking its row for this transaction: bookings of one doctor then take
 * turns, so tokens come out in booking order without retries. The unique indexes remain the
 * guarantee (a writer that skipped the lock would get 23505, not a double booking). NO KEY
 * UPDATE: bookings of one doctor queue behind each other, but foreign-key checks from other
 * tables (prescriptions naming the doctor) are not held up.
 */
export async function findDoctor(db: Queryable, id: string, lock = false): Promise<DoctorRow> {
  const { rows } = await db.query<{ name: string; room: string | null; slot_minutes: number; user_id: string | null }>(
    `SELECT name, room, slot_minutes, user_id FROM doctors WHERE id = $1 AND archived_at IS NULL${lock ? ' FOR NO KEY UPDATE' : ''}`,
    [id],
  );
  const r = rows[0];
  if (!r) throw Errors.notFound('doctor', id);
  return { name: r.name, room: r.room, slotMinutes: Number(r.slot_minutes), userId: r.user_id };
}

/** A doctor account acts only on its own schedule and queue. */
export async function assertOwnDoctor(req: Request, ctx: AppContext, doctorId: string): Promise<void> {
  if (req.user?.role !== 'doctor') return;
  const { rows } = await ctx.db.driver.query<{ user_id: string | null }>('SELECT user_id FROM doctors WHERE id = $1', [doctorId]);
  if (!rows[0]) throw Errors.notFound('doctor', doctorId);
  if (rows[0].user_id !== req.user.id) throw Errors.forbidden('a doctor may only manage their own schedule and queue');
}

const nextToken = async (tx: Queryable, doctorId: string, day: string): Promise<number> =>
  // A counter per doctor and day: a number is never handed out twice, not even after the
  // appointment holding it moved to another day (migration 005).
  Number(
    (
      await tx.query<{ n: number }>(
        `INSERT INTO queue_token_counters (doctor_id, date, last_token) VALUES ($1, $2, 1)
         ON CONFLICT (doctor_id, date) DO UPDATE SET last_token = queue_token_counters.last_token + 1
         RETURNING last_token AS n`,
        [doctorId, day],
      )
    ).rows[0]!.n,
  );

/** Refuse a slot that is in the past or outside the doctor's schedule (read inside `tx`). */
async function checkSlot(tx: Queryable, doctorId: string, slotMinutes: number, day: string, time: string): Promise<void> {
  const now = localNow();
  if (`${day} ${time}` < `${now.date} ${now.time}`) throw Errors.validation(`${day} ${time} is in the past (now ${now.date} ${now.time}, hospital time)`);
  const { shifts, leave } = await loadSchedule(tx, doctorId);
  const problem = slotProblem(day, time, shifts, leave, slotMinutes);
  if (problem) throw Errors.conflict(`not bookable: ${problem}`);
}

/**
 * A patient account holds at most `cap` live appointments with one doctor on one day (issue 11:
 * one account could otherwise take a doctor's whole day). Read inside the booking transaction,
 * which holds the doctor's row, so two racing bookings cannot both pass. Staff bookings are not
 * capped: the desk may book a follow-up the same day, and every booking is audited.
 */
async function checkDailyCap(tx: Queryable, req: Request, ctx: AppContext, patientId: string, doctorId: string, day: string, except: string | null): Promise<void> {
  if (req.user?.role !== 'patient') return;
  const cap = ctx.policy.bookingsPerPatientPerDoctorPerDay;
  const { rows } = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM appointments
     WHERE patient_id = $1 AND doctor_id = $2 AND date = $3 AND status IN ('pending', 'confirmed') AND ($4::uuid IS NULL OR id <> $4::uuid)`,
    [patientId, doctorId, day, except],
  );
  if (Number(rows[0]!.n) >= cap) {
    throw Errors.conflict(`the patient already holds ${rows[0]!.n} appointment(s) with this doctor on ${day} (at most ${cap} a day); cancel one or ask the front desk`);
  }
}

const TOKEN_RETRIES = 5;

/**
 * Run a booking transaction; a slot collision is "slot taken" (409), a token collision (a
 * concurrent writer that got the same number) is retried a few times.
 */
async function withSlotGuard<T>(ctx: AppContext, day: string, time: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.db.driver.transaction(fn);
    } catch (err) {
      if (err instanceof DbError && err.code === '23505') {
        if (err.message.includes('appointments_slot')) throw Errors.conflict(`slot taken: the doctor already has an appointment on ${day} at ${time}`);
        if (err.message.includes('appointments_token') && attempt < TOKEN_RETRIES) continue;
      }
      return dbConflict(err, 'appointment');
    }
  }
}

// ---------------------------------------------------------------- schedules: /api/doctors/{id}/…

export function scheduleRoutes(ctx: AppContext): Router {
  const r = Router();

  describeRoute({ method: 'get', path: '/api/doctors/{id}/schedule', tag: 'doctors', summary: "A doctor's weekly shifts and leave", permission: 'doctors:read' });
  r.get(
    '/:id/schedule',
    allow('doctors:read'),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const doctor = await findDoctor(ctx.db.driver, id);
      res.json({ doctorId: id, slotMinutes: doctor.slotMinutes, ...(await loadSchedule(ctx.db.driver, id)) });
    }),
  );

  describeRoute({ method: 'put', path: '/api/doctors/{id}/schedule', tag: 'doctors', summary: "Replace a doctor's weekly shifts and leave (a doctor: their own)", permission: 'schedules:manage', body: scheduleBody });
  r.put(
    '/:id/schedule',
    allow('schedules:manage'),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const body = parse(scheduleBody, req.body, 'body');
      const problems = scheduleProblems(body.shifts, body.leave);
      if (problems.length > 0) throw Errors.validation(problems.map((p) => `body.${p}`).join('; '));
      await assertOwnDoctor(req, ctx, id);
      const schedule = await ctx.db.driver.transaction(async (tx) => {
        const doctor = await findDoctor(tx, id, true);
        await tx.query('DELETE FROM doctor_shifts WHERE doctor_id = $1', [id]);
        await tx.query('DELETE FROM doctor_leave WHERE doctor_id = $1', [id]);
        for (const s of body.shifts) await tx.query('INSERT INTO doctor_shifts (doctor_id, day_of_week, start_time, end_time) VALUES ($1, $2, $3, $4)', [id, s.dayOfWeek, s.startTime, s.endTime]);
        for (const l of body.leave) await tx.query('INSERT INTO doctor_leave (id, doctor_id, from_date, to_date, reason) VALUES ($1, $2, $3, $4, $5)', [randomUUID(), id, l.fromDate, l.toDate, l.reason ?? null]);
        return { doctorId: id, slotMinutes: doctor.slotMinutes, ...(await loadSchedule(tx, id)) };
      });
      ctx.audit(auditOf(req, 'update', 'schedule', id, null, { shifts: body.shifts.length, leave: body.leave.length }));
      res.json(schedule);
    }),
  );

  describeRoute({ method: 'get', path: '/api/doctors/{id}/slots', tag: 'doctors', summary: 'Next free slots (preferred days/times first; urgent: the earliest)', permission: 'doctors:read', query: slotsQuery });
  r.get(
    '/:id/slots',
    allow('doctors:read'),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const q = parse(slotsQuery, req.query, 'query');
      const now = localNow();
      const from = q.from && q.from > now.date ? q.from : now.date;
      const doctor = await findDoctor(ctx.db.driver, id);
      const { shifts, leave } = await loadSchedule(ctx.db.driver, id);
      const { rows } = await ctx.db.driver.query<{ date: string; time: string }>(
        `SELECT date::text AS date, to_char(time, 'HH24:MI') AS time FROM appointments
         WHERE doctor_id = $1 AND status <> 'cancelled' AND date BETWEEN $2 AND $3`,
        [id, from, addDays(from, q.days - 1)],
      );
      const preferred = q.preferredDays || q.fromTime || q.toTime ? { dayOfWeek: q.preferredDays, fromTime: q.fromTime, toTime: q.toTime } : undefined;
      const items = nextFreeSlots({
        from,
        days: q.days,
        shifts,
        leave,
        slotMinutes: doctor.slotMinutes,
        booked: new Set(rows.map((b) => slotKey(b.date, b.time))),
        preferred,
        urgent: q.urgent,
        limit: q.limit,
        notBefore: now,
      });
      res.json({ doctorId: id, slotMinutes: doctor.slotMinutes, from, days: q.days, urgent: q.urgent, items });
    }),
  );
  return r;
}

// ---------------------------------------------------------------- appointments: /api/appointments

export function appointmentRoutes(ctx: AppContext): Router {
  const r = Router();
  const base = '/api/appointments';

  /** The appointment, or 404 when missing or outside a patient account's scope. */
  async function visible(req: Request, id: string): Promise<Appointment> {
    const a = await getAppointment(ctx.db.driver, id);
    await assertVisible(ctx, req.user!, a?.patientId, 'appointment', id);
    return a!;
  }

  describeRoute({ method: 'post', path: base, tag: 'appointments', summary: 'Book an appointment (a patient: for themselves or family)', permission: 'appointments:book', body: bookBody, status: 201 });
  r.post(
    '/',
    allow('appointments:book'),
    handler(async (req, res) => {
      const b = parse(bookBody, req.body, 'body');
      // Urgency jumps the queue: a clinician's call, not the patient's.
      if (req.user!.role === 'patient' && b.priority === 'urgent') throw Errors.forbidden('only staff may book an urgent appointment');
      const scope = await patientScope(ctx, req.user!);
      if (scope && !scope.includes(b.patientId)) throw Errors.forbidden('a patient may only book for themselves or their family');
      const id = randomUUID();
      await withSlotGuard(ctx, b.date, b.time, async (tx) => {
        const doctor = await findDoctor(tx, b.doctorId, true);
        const patient = await tx.query('SELECT 1 FROM patients WHERE id = $1 AND archived_at IS NULL', [b.patientId]);
        if (patient.rows.length === 0) throw Errors.notFound('patient', b.patientId);
        await checkSlot(tx, b.doctorId, doctor.slotMinutes, b.date, b.time);
        await checkDailyCap(tx, req, ctx, b.patientId, b.doctorId, b.date, null);
        const token = await nextToken(tx, b.doctorId, b.date);
        await tx.query(
          `INSERT INTO appointments (id, patient_id, doctor_id, date, time, token_number, priority, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [id, b.patientId, b.doctorId, b.date, b.time, token, b.priority, b.reason ?? null],
        );
      });
      const a = (await getAppointment(ctx.db.driver, id))!;
      ctx.audit(auditOf(req, 'create', 'appointment', id, a.patientId, { doctorId: a.doctorId, date: a.date, time: a.time, tokenNumber: a.tokenNumber, priority: a.priority }));
      res.status(201).json(a);
    }),
  );

  describeRoute({ method: 'get', path: base, tag: 'appointments', summary: 'List appointments (a patient: their own and family)', permission: 'appointments:read', query: listQuery });
  r.get(
    '/',
    allow('appointments:read'),
    handler(async (req, res) => {
      const q = parse(listQuery, req.query, 'query');
      const where: string[] = [];
      const params: unknown[] = [];
      const p = (v: unknown) => `$${params.push(v)}`;
      if (q.doctorId) where.push(`a.doctor_id = ${p(q.doctorId)}`);
      if (q.patientId) where.push(`a.patient_id = ${p(q.patientId)}`);
      if (q.date) where.push(`a.date = ${p(q.date)}`);
      if (q.status) where.push(`a.status = ${p(q.status)}`);
      const scope = await patientScope(ctx, req.user!);
      if (scope) where.push(`a.patient_id = ANY(${p(scope)}::uuid[])`);
      const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
      const { rows } = await ctx.db.driver.query(
        `${SELECT_APPOINTMENT.replace('SELECT ', 'SELECT count(*) OVER ()::int AS __total, ')} ${w}
         ORDER BY a.date, a.time, a.token_number LIMIT ${p(q.limit)} OFFSET ${p(q.offset)}`,
        params,
      );
      res.json({ items: rows.map(toAppointment), total: Number(rows[0]?.__total ?? 0), limit: q.limit, offset: q.offset });
    }),
  );

  describeRoute({ method: 'get', path: `${base}/{id}`, tag: 'appointments', summary: 'Get one appointment', permission: 'appointments:read' });
  r.get(
    '/:id',
    allow('appointments:read'),
    handler(async (req, res) => {
      res.json(await visible(req, idParam(req.params.id)));
    }),
  );

  describeRoute({ method: 'put', path: `${base}/{id}/reschedule`, tag: 'appointments', summary: 'Move to another slot (a new token when the date changes)', permission: 'appointments:change', body: rescheduleBody });
  r.put(
    '/:id/reschedule',
    allow('appointments:change'),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const b = parse(rescheduleBody, req.body, 'body');
      const before = await visible(req, id);
      await withSlotGuard(ctx, b.date, b.time, async (tx) => {
        const doctor = await findDoctor(tx, before.doctorId, true);
        const { rows } = await tx.query<{ status: AppointmentStatus; date: string; token_number: number }>(
          'SELECT status, date::text AS date, token_number FROM appointments WHERE id = $1 FOR UPDATE',
          [id],
        );
        const cur = rows[0]!;
        if (!canTransition('reschedule', cur.status)) throw Errors.conflict(`cannot reschedule a ${cur.status} appointment`);
        await checkSlot(tx, before.doctorId, doctor.slotMinutes, b.date, b.time);
        if (cur.date !== b.date) await checkDailyCap(tx, req, ctx, before.patientId, before.doctorId, b.date, id);
        const token = cur.date === b.date ? Number(cur.token_number) : await nextToken(tx, before.doctorId, b.date);
        await tx.query('UPDATE appointments SET date = $2, time = $3, token_number = $4, updated_at = now() WHERE id = $1', [id, b.date, b.time, token]);
      });
      const a = (await getAppointment(ctx.db.driver, id))!;
      ctx.audit(auditOf(req, 'reschedule', 'appointment', id, a.patientId, { from: { date: before.date, time: before.time }, to: { date: a.date, time: a.time }, tokenNumber: a.tokenNumber }));
      res.json(a);
    }),
  );

  const transition = (action: Exclude<AppointmentAction, 'reschedule'>, permission: 'appointments:change' | 'appointments:manage', summary: string) => {
    const to = TRANSITIONS[action].to;
    describeRoute({ method: 'put', path: `${base}/{id}/${action}`, tag: 'appointments', summary, permission });
    r.put(
      `/:id/${action}`,
      allow(permission),
      handler(async (req, res) => {
        const id = idParam(req.params.id);
        const before = await visible(req, id);
        // The status check is in the UPDATE itself: two racing requests cannot both pass it.
        const { rows } = await ctx.db.driver.query(
          `UPDATE appointments SET status = $2, updated_at = now() WHERE id = $1 AND status = ANY($3::text[]) RETURNING id`,
          [id, to, TRANSITIONS[action].from],
        );
        if (rows.length === 0) {
          const now = await getAppointment(ctx.db.driver, id);
          throw Errors.conflict(`cannot ${action} a ${now?.status ?? before.status} appointment (allowed from: ${TRANSITIONS[action].from.join(', ')})`);
        }
        const a = (await getAppointment(ctx.db.driver, id))!;
        ctx.audit(auditOf(req, action, 'appointment', id, a.patientId, { from: before.status, to }));
        res.json(a);
      }),
    );
  };
  transition('confirm', 'appointments:manage', 'Confirm a pending appointment');
  transition('complete', 'appointments:manage', 'Mark an appointment completed');
  transition('cancel', 'appointments:change', 'Cancel an appointment (the slot becomes free; the token is not reused)');
  return r;
}

