// The waiting-room queue: the doctor (or a nurse, the front desk) calls the next token; the call
// is recorded in queue_calls and pushed to the display's Socket.IO room `queue:{doctorId}`.
// Order: urgent appointments first, then token order (the order of booking) — an urgent
// patient is not made to wait behind routine ones, and among equals first booked is first seen.
import { Router } from 'express';
import type { Queryable } from '../../db/driver.ts';
import { type AppContext, allow, auditOf, handler } from '../http/context.ts';
import { idParam } from '../http/validate.ts';
import { describeRoute } from '../http/openapi.ts';
import { Errors } from '../errors.ts';
import type { QueueCalledEvent, QueueState } from '../domain/events.ts';
import { displayName, localNow } from './appointments.ts';
import { assertOwnDoctor, findDoctor } from './appointments.routes.ts';


/** Still waiting: booked for that day, not cancelled or completed, not yet called. */
const WAITING = `a.doctor_id = $1 AND a.date = $2 AND a.status IN ('pending', 'confirmed')
  AND NOT EXISTS (SELECT 1 FROM queue_calls q WHERE q.appointment_id = a.id)`;

export async function queueState(db: Queryable, doctorId: string, day = localNow().date): Promise<QueueState> {
  const doctor = await findDoctor(db, doctorId);
  const last = await db.query<{ token_number: number; called_at: string; name: string | null }>(
    `SELECT q.token_number, q.called_at, p.name FROM queue_calls q
     LEFT JOIN appointments a ON a.id = q.appointment_id LEFT JOIN patients p ON p.id = a.patient_id
     WHERE q.doctor_id = $1 AND q.date = $2 ORDER BY q.called_at DESC LIMIT 1`,
    [doctorId, day],
  );
  const waiting = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM appointments a WHERE ${WAITING}`, [doctorId, day]);
  const c = last.rows[0];
  return {
    doctorId,
    doctorName: doctor.name,
    room: doctor.room,
    date: day,
    current: c
      ? { doctorId, room: doctor.room, date: day, tokenNumber: Number(c.token_number), patientName: displayName(c.name ?? ''), calledAt: new Date(c.called_at).toISOString() }
      : null,
    waiting: Number(waiting.rows[0]?.n ?? 0),
  };
}

export function queueRoutes(ctx: AppContext): Router {
  const r = Router();
  const channel = ctx.queue;
  channel.state = (doctorId) => queueState(ctx.db.driver, doctorId);

  describeRoute({ method: 'get', path: '/api/queue/{doctorId}', tag: 'queue', summary: "Today's current call and how many are waiting", permission: 'queue:watch' });
  r.get(
    '/:doctorId',
    allow('queue:watch'),
    handler(async (req, res) => {
      res.json(await queueState(ctx.db.driver, idParam(req.params.doctorId, 'doctorId')));
    }),
  );

  describeRoute({ method: 'post', path: '/api/queue/{doctorId}/next', tag: 'queue', summary: 'Call the next patient (urgent first, then token order); a doctor: their own queue', permission: 'queue:call' });
  r.post(
    '/:doctorId/next',
    allow('queue:call'),
    handler(async (req, res) => {
      const doctorId = idParam(req.params.doctorId, 'doctorId');
      await assertOwnDoctor(req, ctx, doctorId);
      const day = localNow().date;
      const called = await ctx.db.driver.transaction(async (tx) => {
        // The doctor row lock makes two simultaneous "next" presses call two different patients.
        const doctor = await findDoctor(tx, doctorId, true);
        const { rows } = await tx.query<{ id: string; token_number: number; patient_id: string; name: string }>(
          `SELECT a.id, a.token_number, a.patient_id, p.name FROM appointments a JOIN patients p ON p.id = a.patient_id
           WHERE ${WAITING} ORDER BY (a.priority = 'urgent') DESC, a.token_number LIMIT 1`,
          [doctorId, day],
        );
        const next = rows[0];
        if (!next) throw Errors.conflict(`nobody is waiting for ${doctor.name} today (${day})`);
        const ins = await tx.query<{ called_at: string }>(
          'INSERT INTO queue_calls (doctor_id, date, token_number, appointment_id) VALUES ($1, $2, $3, $4) RETURNING called_at',
          [doctorId, day, next.token_number, next.id],
        );
        const ev: QueueCalledEvent = {
          doctorId,
          room: doctor.room,
          date: day,
          tokenNumber: Number(next.token_number),
          patientName: displayName(next.name),
          calledAt: new Date(ins.rows[0]!.called_at).toISOString(),
        };
        return { ev, appointmentId: next.id, patientId: next.patient_id };
      });
      channel.publish(called.ev);
      ctx.audit(auditOf(req, 'call', 'queue', called.appointmentId, called.patientId, { doctorId, tokenNumber: called.ev.tokenNumber }));
      const state = await queueState(ctx.db.driver, doctorId, day);
      res.json({ call: called.ev, appointmentId: called.appointmentId, waiting: state.waiting });
    }),
  );
  return r;
}
