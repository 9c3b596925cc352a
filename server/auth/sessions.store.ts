// The `sessions` table: one row per login, holding the hash of its refresh token. Every statement
// the session service (sessions.ts) runs lives here; the service keeps the rules (rotation, reuse
// detection, the in-memory revoked set).
import type { Driver, Queryable } from '../../db/driver.ts';
import { isoAt } from '../../db/rows.ts';

export interface SessionRow {
  userId: string;
  refreshHash: string;
  expiresAt: string;
  revokedAt: string | null;
}

export class SessionStore {
  constructor(private readonly db: Driver) {}

  /** Sessions revoked within the last `seconds`, with when (ms). */
  async revokedWithin(seconds: number): Promise<{ sid: string; revokedAt: number }[]> {
    const { rows } = await this.db.query<{ id: string; revoked_at: unknown }>(
      `SELECT id, revoked_at FROM sessions WHERE revoked_at IS NOT NULL AND revoked_at > now() - make_interval(secs => $1)`,
      [seconds],
    );
    return rows.map((r) => ({ sid: r.id, revokedAt: new Date(isoAt(r.revoked_at)).getTime() }));
  }

  async insert(s: { sid: string; userId: string; refreshHash: string; expiresAt: Date; ip: string | null }): Promise<void> {
    await this.db.query('INSERT INTO sessions (id, user_id, refresh_hash, expires_at, ip) VALUES ($1, $2, $3, $4, $5)', [
      s.sid,
      s.userId,
      s.refreshHash,
      s.expiresAt.toISOString(),
      s.ip,
    ]);
  }

  async find(sid: string): Promise<SessionRow | null> {
    const { rows } = await this.db.query<{ user_id: string; refresh_hash: string; expires_at: unknown; revoked_at: unknown }>(
      'SELECT user_id, refresh_hash, expires_at, revoked_at FROM sessions WHERE id = $1',
      [sid],
    );
    const r = rows[0];
    return r ? { userId: r.user_id, refreshHash: r.refresh_hash, expiresAt: isoAt(r.expires_at), revokedAt: r.revoked_at ? isoAt(r.revoked_at) : null } : null;
  }

  /**
   * Compare-and-set of the refresh hash of a live session: of two concurrent refreshes with the
   * same token only one wins. False: the hash had changed (or the session ended) meanwhile.
   */
  async swapHash(sid: string, from: string, to: string): Promise<boolean> {
    const { rows } = await this.db.query('UPDATE sessions SET refresh_hash = $3 WHERE id = $1 AND refresh_hash = $2 AND revoked_at IS NULL RETURNING id', [sid, from, to]);
    return rows.length > 0;
  }

  /** End one session; true when it was live. */
  async revoke(sid: string): Promise<boolean> {
    const { rows } = await this.db.query('UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [sid]);
    return rows.length > 0;
  }

  /** End every live session of a user except `keepSid`; the sids ended. */
  async revokeAllOf(userId: string, keepSid: string | null, tx: Queryable = this.db): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>(
      'UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2::uuid) RETURNING id',
      [userId, keepSid],
    );
    return rows.map((r) => r.id);
  }
}
