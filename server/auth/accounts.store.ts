// Account writes that belong with logins: a patient's self-registration (the patient record and
// its 'patient' account in one transaction), the password hash, and the account's patient link.
// The patient record is made by the patients Repository (patientSpec: one mapping of that table,
// its audit entry), never by a second hand-written INSERT.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/driver.ts';
import type { AuditEntry, User } from '../../db/records.ts';
import type { Principal } from '../domain/roles.ts';
import { Repository, type RepoDeps } from '../records/repository.ts';
import { patientSpec } from '../records/specs.ts';

export interface PatientRegistration {
  email: string;
  name: string;
  passwordHash: string;
  dateOfBirth?: string | undefined;
  phone?: string | undefined;
}

/**
 * The patients repository as registration uses it. The record being made is the new account's
 * own, so there is no patient scope to check it against (a patient registering a relative would
 * otherwise be refused by its own scope): who may register is the route's decision.
 */
class RegistrationPatients extends Repository {
  override scope(): Promise<string[] | null> {
    return Promise.resolve(null);
  }
}

/**
 * A patient record and its 'patient' account, in one transaction. The patient's creation is
 * audited by the repository with `by` as the actor (the registering caller), or the new account
 * itself when nobody is signed in.
 */
export async function registerPatient(
  deps: RepoDeps,
  by: { user: Principal | null; ip: string | null },
  r: PatientRegistration,
): Promise<{ user: User & { patientId: string }; patient: Record<string, unknown> & { id: string } }> {
  // The repository's audit entry is held until the transaction commits: a refused account (its
  // e-mail taken) rolls the patient back, and the trail must not show a record that never was.
  const pending: AuditEntry[] = [];
  const patients = new RegistrationPatients(patientSpec, { db: deps.db, audit: (e) => pending.push(e) });
  const userId = randomUUID();
  const email = r.email.toLowerCase();
  const actor = { user: by.user ?? { id: userId, role: 'patient' as const, email, name: r.name }, ip: by.ip };
  const done = await deps.db.transaction(async (tx) => {
    const patient = await patients.create(actor, { name: r.name, ward: null, bed: null, email, phone: r.phone ?? null, dateOfBirth: r.dateOfBirth ?? null }, tx);
    await tx.query(`INSERT INTO users (id, email, name, role, password_hash, patient_id) VALUES ($1, $2, $3, 'patient', $4, $5)`, [
      userId,
      email,
      r.name,
      r.passwordHash,
      patient.id,
    ]);
    return { user: { id: userId, email, name: r.name, role: 'patient' as const, patientId: patient.id as string }, patient: patient as Record<string, unknown> & { id: string } };
  });
  for (const e of pending) deps.audit(e);
  return done;
}

export async function patientIdOfUser(db: Queryable, userId: string): Promise<string | null> {
  const { rows } = await db.query<{ patient_id: string | null }>('SELECT patient_id FROM users WHERE id = $1', [userId]);
  return rows[0]?.patient_id ?? null;
}

export async function setPasswordHash(db: Queryable, userId: string, hash: string): Promise<void> {
  await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, hash]);
}
