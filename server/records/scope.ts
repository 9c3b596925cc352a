// What a user may see, in one place, on top of the permission table (server/auth/permissions.ts):
// - rows: which patients' records — everyone's for staff roles, only their own and their linked
//   family members' for a patient account (patientScope);
// - wards: a ward-bound account (a kiosk's wall display) sees only the patients on its own wards
//   (wardScope), and nothing of them but the live view;
// - fields: which fields of a record a role sees (fieldsFor: need to know, e.g. a pharmacist sees a
//   patient's name, id, date of birth and allergies, not their address). The per-role field lists
//   are declared on each spec (`views` in specs.ts), nowhere else.
import type { AppContext } from '../http/context.ts';
import type { Principal, Role } from '../domain/roles.ts';
import type { Queryable } from '../../db/driver.ts';
import { AppError, Errors } from '../errors.ts';
import { getPatient, patientsOfAccount, wardsOfUser } from '../../db/records.ts';

/** null: no patient restriction; otherwise the patient ids this user may see. */
export function patientScope(ctx: AppContext, user: Principal): Promise<string[] | null> {
  return visiblePatients(ctx.db.driver, user);
}

/** null: no patient restriction (staff); otherwise the patient ids this account may see. */
export async function visiblePatients(db: Queryable, user: Principal): Promise<string[] | null> {
  if (user.role !== 'patient') return null;
  return patientsOfAccount(db, user.id);
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

// ---------------------------------------------------------------- wards

/** Roles bound to wards: a wall display shows its own wards and nothing else. */
export const WARD_BOUND_ROLES: readonly Role[] = ['kiosk'];

/**
 * null: no ward restriction (the permission decides); otherwise the wards this account is bound to
 * (none at all for a kiosk created before wards existed: it then sees no patient). Read from the
 * database on every call, so an admin's change applies to the next request at once.
 */
export async function wardScope(db: Queryable, user: Principal): Promise<string[] | null> {
  if (!WARD_BOUND_ROLES.includes(user.role)) return null;
  return wardsOfUser(db, user.id);
}

/** The 403 for a ward-bound account reaching outside its wards; names its wards and `what` it asked for. */
export function outsideWards(user: Principal, wards: readonly string[], what: string): AppError {
  if (wards.length === 0) {
    return Errors.forbidden(`this ${user.role} account is bound to no ward, so it may only show queue displays: an admin sets its wards (PUT /api/users/${user.id}/wards)`);
  }
  return Errors.forbidden(`a ${user.role} may only see the patients of its ward${wards.length === 1 ? '' : 's'} ${wards.map((w) => `'${w}'`).join(', ')}: ${what}`);
}

/**
 * For a ward-bound account, a patient now on one of its wards (the patient's current ward: one
 * moved away drops out of its view at once); otherwise 403 naming the account's wards. Other
 * accounts pass without a query.
 */
export async function assertOnWards(db: Queryable, user: Principal, patientId: string): Promise<void> {
  const wards = await wardScope(db, user);
  if (!wards) return;
  const ward = (await getPatient(db, patientId))?.ward ?? null;
  if (ward === null || !wards.includes(ward)) throw outsideWards(user, wards, `patient '${patientId}' is not on ${wards.length === 1 ? 'it' : 'them'}`);
}

// ---------------------------------------------------------------- fields

/** Per role, the fields of a record that role sees; a role not named sees every field. */
export type Views = Partial<Record<Role, readonly string[]>>;

/** The fields of a record `role` sees (need to know); null: all of them. */
export function fieldsFor(spec: { views?: Views }, role: Role): readonly string[] | null {
  return spec.views?.[role] ?? null;
}

/** A record cut down to `fields` (null: unchanged). */
export function project(row: Record<string, unknown>, fields: readonly string[] | null): Record<string, unknown> {
  if (!fields) return row;
  return Object.fromEntries(fields.filter((f) => f in row).map((f) => [f, row[f]]));
}

/** The 403 for a query that would filter, sort or search on a field the role does not see. */
export function hiddenField(title: string, role: Role, fields: readonly string[], param: string): AppError {
  return Errors.forbidden(`role '${role}' may only see a ${title}'s ${fields.join(', ')}: ${param} is not one of them`);
}
