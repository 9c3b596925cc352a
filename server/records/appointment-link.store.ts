// The appointment a bill or a prescription names (the consultation it is for): it must exist and
// be the same patient's. A bad one is the request's fault (400), named by its field.
import type { Queryable } from '../../db/driver.ts';
import { Errors } from '../errors.ts';

/** The doctor of `appointmentId`, after checking it is `patientId`'s. */
export async function linkedAppointment(db: Queryable, appointmentId: string, patientId: string): Promise<{ doctorId: string }> {
  const { rows } = await db.query<{ patient_id: string; doctor_id: string }>('SELECT patient_id, doctor_id FROM appointments WHERE id = $1', [appointmentId]);
  if (!rows[0]) throw Errors.validation(`body.appointmentId: appointment '${appointmentId}' not found`);
  if (rows[0].patient_id !== patientId) throw Errors.validation('body.appointmentId: the appointment is for another patient');
  return { doctorId: rows[0].doctor_id };
}
