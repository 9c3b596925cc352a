// Login sessions: one row per login in `sessions`, holding the hash of its refresh token. Access
// tokens name their session (`sid`); logout, a password change or a reused refresh token revoke it.
// Revoked sessions are also kept in memory (loaded at start, updated on revoke) so token checks
// never touch the database. One node only: a second node would need the set shared (pub/sub).
//
// Refresh tokens are `{sid}.{32 random bytes, base64url}`, stored as sha256 — random tokens need no
// slow hash. Rotation replaces the hash; presenting an older token of the same session (theft, or
// a replay) no longer matches and revokes the session (OAuth 2.0 Security BCP §4.14.2).
//
// The few account writes that belong with sessions (patient self-registration, password change)
// live here too, below, until db/records.ts grows them.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Driver, Queryable } from '../../db/driver.ts';
import { getPatient, type Patient, type User } from '../../db/records.ts';

const DAY_MS = 86_400_000;
const SID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface SessionOptions {
  /** Lifetime of a session (its refresh token), from login. */
  refreshTtlMs?: number;
  /** The longest access-token lifetime: a revoked sid is remembered this long after revocation. */
  accessTtlMaxMs: number;
}

export interface NewSession {
  sid: string;
  refreshToken: string;
  expiresAt: Date;
}

export type RotateResult =
  | { ok: true; sid: string; userId: string; refreshToken: string }
  | { ok: false; reason: 'invalid' | 'expired' | 'revoked' | 'reused' };

export class SessionService {
  /** Revoked sid → when, in ms; pruned once no access token of the session can still be valid. */
  private readonly revoked = new Map<string, number>();
  private lastPrune = Date.now();
  private readonly refreshTtlMs: number;
  private readonly accessTtlMaxMs: number;
  private readonly revokeListeners = new Set<(sids: string[]) => void>();

  constructor(
    private readonly db: Driver,
    opts: SessionOptions,
  ) {
    this.refreshTtlMs = opts.refreshTtlMs ?? 30 * DAY_MS;
    this.accessTtlMaxMs = opts.accessTtlMaxMs;
  }

  /** Load the sessions revoked recently enough for their access tokens to be alive. */
  async init(): Promise<void> {
    const { rows } = await this.db.query<{ id: string; revoked_at: string }>(
      `SELECT id, revoked_at FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at > now() - make_interval(secs => $1)`,
      [Math.ceil(this.accessTtlMaxMs / 1000)],
    );
    for (const r of rows) this.revoked.set(r.id, new Date(r.revoked_at).getTime());
  }

  isRevoked = (sid: string): boolean => this.revoked.has(sid);

  /** Be told about every revocation (the live layer closes those sessions' sockets); returns the unsubscribe. */
  onRevoke(listener: (sids: string[]) => void): () => void {
    this.revokeListeners.add(listener);
    return () => void this.revokeListeners.delete(listener);
  }

  async create(userId: string, ip: string | null): Promise<NewSession> {
    const sid = randomUUID();
    const refreshToken = `${sid}.${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(Date.now() + this.refreshTtlMs);
    await this.db.query('INSERT INTO sessions (id, user_id, refresh_hash, expires_at, ip) VALUES ($1, $2, $3, $4, $5)', [
      sid,
      userId,
      sha256(refreshToken),
      expiresAt.toISOString(),
      ip,
    ]);
    return { sid, refreshToken, expiresAt };
  }

  /** Exchange a refresh token for a new one; the old one stops working. */
  async rotate(refreshToken: string): Promise<RotateResult> {
    const sid = refreshToken.split('.', 1)[0] ?? '';
    if (!SID.test(sid) || refreshToken.length > 200) return { ok: false, reason: 'invalid' };
    const { rows } = await this.db.query<{ user_id: string; refresh_hash: string; expires_at: string; revoked_at: string | null }>(
      'SELECT user_id, refresh_hash, expires_at, revoked_at FROM sessions WHERE id = $1',
      [sid],
    );
    const s = rows[0];
    if (!s) return { ok: false, reason: 'invalid' };
    if (s.revoked_at) return { ok: false, reason: 'revoked' };
    if (new Date(s.expires_at).getTime() <= Date.now()) return { ok: false, reason: 'expired' };
    const presented = sha256(refreshToken);
    if (!timingSafeEqual(Buffer.from(presented), Buffer.from(s.refresh_hash))) {
      await this.revoke(sid);
      return { ok: false, reason: 'reused' };
    }
    const next = `${sid}.${randomBytes(32).toString('base64url')}`;
    // Compare-and-set: of two concurrent refreshes with the same token only one wins; the other
    // is a reuse.
    const upd = await this.db.query('UPDATE sessions SET refresh_hash = $3 WHERE id = $1 AND refresh_hash = $2 AND revoked_at IS NULL RETURNING id', [
      sid,
      presented,
      sha256(next),
    ]);
    if (upd.rowCount === 0) {
      await this.revoke(sid);
      return { ok: false, reason: 'reused' };
    }
    return { ok: true, sid, userId: s.user_id, refreshToken: next };
  }

  /** End one session; true when it was live. */
  async revoke(sid: string): Promise<boolean> {
    const { rows } = await this.db.query<{ id: string }>('UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [sid]);
    this.remember([sid]);
    return rows.length > 0;
  }

  /** End every live session of a user except `keepSid`; returns how many ended. */
  async revokeAllOf(userId: string, keepSid?: string, tx: Queryable = this.db): Promise<number> {
    const { rows } = await tx.query<{ id: string }>(
      'UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2::uuid) RETURNING id',
      [userId, keepSid ?? null],
    );
    this.remember(rows.map((r) => r.id));
    return rows.length;
  }

  private remember(sids: string[]): void {
    const now = Date.now();
    for (const sid of sids) this.revoked.set(sid, now);
    if (now - this.lastPrune > 3600_000) {
      this.lastPrune = now;
      for (const [sid, at] of this.revoked) if (now - at > this.accessTtlMaxMs) this.revoked.delete(sid);
    }
    if (sids.length > 0) for (const l of this.revokeListeners) l(sids);
  }
}

// ---------------------------------------------------------------- account writes

export interface PatientRegistration {
  email: string;
  name: string;
  passwordHash: string;
  dateOfBirth?: string | undefined;
  phone?: string | undefined;
}

/** A patient record and its 'patient' account, in one transaction. */
export async function registerPatient(db: Driver, r: PatientRegistration): Promise<{ user: User & { patientId: string }; patient: Patient }> {
  return db.transaction(async (tx) => {
    const patientId = randomUUID();
    const userId = randomUUID();
    const email = r.email.toLowerCase();
    await tx.query('INSERT INTO patients (id, name, ward, bed, email, phone, date_of_birth) VALUES ($1, $2, NULL, NULL, $3, $4, $5)', [
      patientId,
      r.name,
      email,
      r.phone ?? null,
      r.dateOfBirth ?? null,
    ]);
    await tx.query(`INSERT INTO users (id, email, name, role, password_hash, patient_id) VALUES ($1, $2, $3, 'patient', $4, $5)`, [
      userId,
      email,
      r.name,
      r.passwordHash,
      patientId,
    ]);
    const patient = (await getPatient(tx, patientId))!;
    return { user: { id: userId, email, name: r.name, role: 'patient' as const, patientId }, patient };
  });
}

export async function patientIdOfUser(db: Queryable, userId: string): Promise<string | null> {
  const { rows } = await db.query<{ patient_id: string | null }>('SELECT patient_id FROM users WHERE id = $1', [userId]);
  return rows[0]?.patient_id ?? null;
}

export async function setPasswordHash(db: Queryable, userId: string, hash: string): Promise<void> {
  await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, hash]);
}
