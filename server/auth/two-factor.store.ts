// The tables of two-factor sign-in (db/migrations/012_two_factor.sql): an account's sealed TOTP
// secret, its recovery code hashes, and the login challenges between password and code. Every
// statement the service (two-factor.ts) runs lives here; the "once only" rules are compare-and-set
// UPDATEs, so two requests racing with the same code or token cannot both win.
import type { Driver, Queryable } from '../../db/driver.ts';
import { isoAt } from '../../db/rows.ts';

export interface TotpRow {
  secretEnc: string;
  enabledAt: string | null;
  lastStep: number | null;
}

export interface ChallengeRow {
  id: string;
  userId: string;
  tokenHash: string;
  purpose: 'verify' | 'enrol';
  expiresAt: string;
  usedAt: string | null;
  failures: number;
}

export class TwoFactorStore {
  constructor(private readonly db: Driver) {}

  async totp(userId: string, tx: Queryable = this.db): Promise<TotpRow | null> {
    const { rows } = await tx.query<{ secret_enc: string; enabled_at: unknown; last_step: unknown }>(
      'SELECT secret_enc, enabled_at, last_step FROM user_totp WHERE user_id = $1',
      [userId],
    );
    const r = rows[0];
    return r ? { secretEnc: r.secret_enc, enabledAt: r.enabled_at ? isoAt(r.enabled_at) : null, lastStep: r.last_step === null ? null : Number(r.last_step) } : null;
  }

  /** A new pending secret (replacing a pending one); false when 2FA is already on. */
  async putPending(userId: string, secretEnc: string): Promise<boolean> {
    const { rows } = await this.db.query(
      `INSERT INTO user_totp (user_id, secret_enc) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, last_step = NULL, created_at = now()
         WHERE user_totp.enabled_at IS NULL
       RETURNING user_id`,
      [userId, secretEnc],
    );
    return rows.length > 0;
  }

  /** Take time step `step` for the account: false when it (or a later one) was taken already. */
  async takeStep(userId: string, step: number, tx: Queryable = this.db): Promise<boolean> {
    const { rows } = await tx.query('UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2) RETURNING user_id', [userId, step]);
    return rows.length > 0;
  }

  /** Turn the pending secret on with its recovery code hashes; false when it was on already. */
  async enable(tx: Queryable, userId: string, codeHashes: string[]): Promise<boolean> {
    const { rows } = await tx.query('UPDATE user_totp SET enabled_at = now() WHERE user_id = $1 AND enabled_at IS NULL RETURNING user_id', [userId]);
    if (rows.length === 0) return false;
    await tx.query('DELETE FROM user_recovery_codes WHERE user_id = $1', [userId]);
    for (const [i, hash] of codeHashes.entries()) {
      await tx.query('INSERT INTO user_recovery_codes (user_id, n, code_hash) VALUES ($1, $2, $3)', [userId, i + 1, hash]);
    }
    return true;
  }

  /** Turn 2FA off: the secret and the recovery codes go. True when there was something to remove. */
  async remove(userId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM user_recovery_codes WHERE user_id = $1', [userId]);
      const { rows } = await tx.query('DELETE FROM user_totp WHERE user_id = $1 RETURNING user_id', [userId]);
      return rows.length > 0;
    });
  }

  async unusedRecoveryCodes(userId: string): Promise<{ n: number; hash: string }[]> {
    const { rows } = await this.db.query<{ n: number; code_hash: string }>('SELECT n, code_hash FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL ORDER BY n', [userId]);
    return rows.map((r) => ({ n: Number(r.n), hash: r.code_hash }));
  }

  /** Spend recovery code `n`; false when it was spent meanwhile. */
  async useRecoveryCode(userId: string, n: number): Promise<boolean> {
    const { rows } = await this.db.query('UPDATE user_recovery_codes SET used_at = now() WHERE user_id = $1 AND n = $2 AND used_at IS NULL RETURNING n', [userId, n]);
    return rows.length > 0;
  }

  // ---------------------------------------------------------------- login challenges

  async insertChallenge(c: { id: string; userId: string; tokenHash: string; purpose: 'verify' | 'enrol'; expiresAt: Date }): Promise<void> {
    // Expired challenges of a day ago are swept as new ones are made (they prove nothing any more).
    await this.db.query(`DELETE FROM mfa_challenges WHERE expires_at < now() - interval '1 day'`);
    await this.db.query('INSERT INTO mfa_challenges (id, user_id, token_hash, purpose, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      c.id,
      c.userId,
      c.tokenHash,
      c.purpose,
      c.expiresAt.toISOString(),
    ]);
  }

  async challenge(id: string): Promise<ChallengeRow | null> {
    const { rows } = await this.db.query<{ id: string; user_id: string; token_hash: string; purpose: 'verify' | 'enrol'; expires_at: unknown; used_at: unknown; failures: number }>(
      'SELECT id, user_id, token_hash, purpose, expires_at, used_at, failures FROM mfa_challenges WHERE id = $1',
      [id],
    );
    const r = rows[0];
    return r
      ? { id: r.id, userId: r.user_id, tokenHash: r.token_hash, purpose: r.purpose, expiresAt: isoAt(r.expires_at), usedAt: r.used_at ? isoAt(r.used_at) : null, failures: Number(r.failures) }
      : null;
  }

  /** Spend a challenge; false when it was spent meanwhile (two requests with one token: one wins). */
  async useChallenge(id: string, tx: Queryable = this.db): Promise<boolean> {
    const { rows } = await tx.query('UPDATE mfa_challenges SET used_at = now() WHERE id = $1 AND used_at IS NULL RETURNING id', [id]);
    return rows.length > 0;
  }

  /** Count a wrong code against a challenge; at `max` it is spent. The new count. */
  async failChallenge(id: string, max: number): Promise<number> {
    const { rows } = await this.db.query<{ failures: number }>(
      'UPDATE mfa_challenges SET failures = failures + 1, used_at = CASE WHEN failures + 1 >= $2 THEN now() ELSE used_at END WHERE id = $1 RETURNING failures',
      [id, max],
    );
    return Number(rows[0]?.failures ?? max);
  }
}
