// Which patients' records a user may see: everyone's for staff roles (their permission decides),
// only their own — and their linked family members' — for a patient account.
import type { AppContext } from '../http/context.ts';
import type { Principal } from '../auth/tokens.ts';
import { Errors } from '../errors.ts';
import { getPatient } from '../../db/records.ts';

/** null: no patient restriction; otherwise the patient ids this user may see. */
export async function patientScope(ctx: AppContext, user: Principal): Promise<string[] | null> {
  if (user.role !== 'patient') return null;
  const { rows } = await ctx.db.driver.query<{ id: string }>(
    `SELECT u.patient_id AS id FROM users u WHERE u.id = $1 AND u.patient_id IS NOT NULL
     UNION
     SELECT f.member_id FROM users u JOIN patient_family f ON f.patient_id = u.patient_id WHERE u.id = $1`,
    [user.id],
  );
  return rows.map((r) => r.id);
}

/**
 * A record that belongs to `patientId` (null or undefined: no such record). A patient account
 * asking for someone else's gets the same 404 as for a record that does not exist.
 */
export async function assertVisible(ctx: AppContext, user: Principal, patientId: string | null | undefined, what: string, id: string): Promise<void> {
  if (!patientId) throw Errors.notFound(what, id);
  const scope = await patientScope(ctx, user);
  if (scope && !scope.includes(patientId)) throw Errors.notFound(what, id);
}

/** A patient who exists and whom this user may see; otherwise the same 404 as a missing patient. */
export async function assertPatientVisible(ctx: AppContext, user: Principal, patientId: string): Promise<void> {
  const exists = await getPatient(ctx.db.driver, patientId);
  await assertVisible(ctx, user, exists ? patientId : null, 'patient', patientId);
}
