// Login sessions: one row per login in `sessions`, holding the hash of its refresh token. Access
// tokens name their session (`sid`); logout, a password change or a reused refresh token revoke it.
// Revoked sessions are also kept in memory (loaded at start, updated on revoke) so token checks
// never touch the database. One node only: a second node would need the set shared (pub/sub).
//
// Refresh tokens are `{sid}.{32 random bytes, base64url}`, stored as sha256 — random tokens need no
// slow hash. Rotation replaces the hash; presenting an older token of the same session (theft, or
// a replay) no longer matches and revokes the session (OAuth 2.0 Security BCP §4.14.2).
//
// The SQL lives in sessions.store.ts; the account writes that go with logins (self-registration,
// password change) in accounts.store.ts.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Driver, Queryable } from '../../db/driver.ts';
import { SessionStore } from './sessions.store.ts';

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
  private readonly store: SessionStore;
  private readonly revokeListeners = new Set<(sids: string[]) => void>();

  constructor(
    private readonly db: Driver,
    opts: SessionOptions,
  ) {
    this.refreshTtlMs = opts.refreshTtlMs ?? 30 * DAY_MS;
    this.accessTtlMaxMs = opts.accessTtlMaxMs;
    this.store = new SessionStore(db);
  }

  /** Load the sessions revoked recently enough for their access tokens to be alive. */
  async init(): Promise<void> {
    for (const r of await this.store.revokedWithin(Math.ceil(this.accessTtlMaxMs / 1000))) this.revoked.set(r.sid, r.revokedAt);
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
    await this.store.insert({ sid, userId, refreshHash: sha256(refreshToken), expiresAt, ip });
    return { sid, refreshToken, expiresAt };
  }

  /** Exchange a refresh token for a new one; the old one stops working. */
  async rotate(refreshToken: string): Promise<RotateResult> {
    const sid = refreshToken.split('.', 1)[0] ?? '';
    if (!SID.test(sid) || refreshToken.length > 200) return { ok: false, reason: 'invalid' };
    const s = await this.store.find(sid);
    if (!s) return { ok: false, reason: 'invalid' };
    if (s.revokedAt) return { ok: false, reason: 'revoked' };
    if (new Date(s.expiresAt).getTime() <= Date.now()) return { ok: false, reason: 'expired' };
    const presented = sha256(refreshToken);
    if (!timingSafeEqual(Buffer.from(presented), Buffer.from(s.refreshHash))) {
      await this.revoke(sid);
      return { ok: false, reason: 'reused' };
    }
    const next = `${sid}.${randomBytes(32).toString('base64url')}`;
    // Compare-and-set: of two concurrent refreshes with the same token only one wins; the other
    // is a reuse.
    if (!(await this.store.swapHash(sid, presented, sha256(next)))) {
      await this.revoke(sid);
      return { ok: false, reason: 'reused' };
    }
    return { ok: true, sid, userId: s.userId, refreshToken: next };
  }

  /** End one session; true when it was live. */
  async revoke(sid: string): Promise<boolean> {
    const live = await this.store.revoke(sid);
    this.remember([sid]);
    return live;
  }

  /** End every live session of a user except `keepSid`; returns how many ended. */
  async revokeAllOf(userId: string, keepSid?: string, tx: Queryable = this.db): Promise<number> {
    const ended = await this.store.revokeAllOf(userId, keepSid ?? null, tx);
    this.remember(ended);
    return ended.length;
  }

  /** Sessions another cluster node revoked: refused here too from now on, and their sockets closed. */
  revokedElsewhere(sids: string[]): void {
    this.remember(sids);
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
