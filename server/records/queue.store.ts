// Storage of the waiting-room queue: today's last call and how many wait, and calling the next
// patient (urgent first, then token order), recorded in queue_calls and audited. The doctor and
// its row lock come from the appointments store, which owns the doctors' reads for the feature.
import { isoAt } from '../../db/rows.ts';
import { fail } from '../errors.ts';
import type { QueueCalledEvent, QueueState } from '../domain/events.ts';
import { auditEntry, type Actor, type RepoDeps } from './repository.ts';
import { displayName, localNow } from './appointments.ts';
import type { AppointmentStore } from './appointments.store.ts';

/** Still waiting in a queue ($1 doctor, $2 day): booked, not cancelled or completed, not yet called. */
const WAITING = `a.doctor_id = $1 AND a.date = $2 AND a.status IN ('pending', 'confirmed')
  AND NOT EXISTS (SELECT 1 FROM queue_calls q WHERE q.appointment_id = a.id)`;

export class QueueStore {
  constructor(
    private readonly deps: RepoDeps,
    private readonly appointments: AppointmentStore,
  ) {}

  /** A live doctor's queue on `day`: the last call (name shortened for the waiting room) and how many wait. */
  async queueState(doctorId: string, day = localNow().date): Promise<QueueState> {
    const db = this.deps.db;
    const doctor = await this.appointments.doctor(doctorId);
    const last = await db.query<{ token_number: number; called_at: unknown; name: string | null }>(
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
      current: c ? { doctorId, room: doctor.room, date: day, tokenNumber: c.token_number, patientName: displayName(c.name ?? ''), calledAt: isoAt(c.called_at) } : null,
      waiting: waiting.rows[0]?.n ?? 0,
    };
  }

  /**
   * Call the next patient of a doctor's queue on `day`: urgent first, then token order (the order
   * of booking). A doctor: their own queue. ERR_QUEUE_EMPTY when nobody waits. Audited ('call').
   */
  async callNext(actor: Actor, doctorId: string, day: string): Promise<{ call: QueueCalledEvent; appointmentId: string; patientId: string }> {
    await this.appointments.assertOwnDoctor(actor, doctorId);
    const called = await this.deps.db.transaction(async (tx) => {
      // The doctor row lock makes two simultaneous "next" presses call two different patients.
      const doctor = await this.appointments.doctor(doctorId, tx, true);
      const { rows } = await tx.query<{ id: string; token_number: number; patient_id: string; name: string }>(
        `SELECT a.id, a.token_number, a.patient_id, p.name FROM appointments a JOIN patients p ON p.id = a.patient_id
         WHERE ${WAITING} ORDER BY (a.priority = 'urgent') DESC, a.token_number LIMIT 1`,
        [doctorId, day],
      );
      const next = rows[0];
      if (!next) throw fail('ERR_QUEUE_EMPTY', `nobody is waiting for ${doctor.name} today (${day})`);
      const ins = await tx.query<{ called_at: unknown }>(
        'INSERT INTO queue_calls (doctor_id, date, token_number, appointment_id) VALUES ($1, $2, $3, $4) RETURNING called_at',
        [doctorId, day, next.token_number, next.id],
      );
      const call: QueueCalledEvent = { doctorId, room: doctor.room, date: day, tokenNumber: next.token_number, patientName: displayName(next.name), calledAt: isoAt(ins.rows[0]!.called_at) };
      return { call, appointmentId: next.id, patientId: next.patient_id };
    });
    this.deps.audit(auditEntry(actor, 'call', 'queue', called.appointmentId, called.patientId, { doctorId, tokenNumber: called.call.tokenNumber }));
    return called;
  }
}
