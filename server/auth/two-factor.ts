// Two-factor sign-in: an account's TOTP secret (set up, then turned on by a first code), its ten
// recovery codes, and the login challenge that sits between a right password and the tokens.
// The rules live here; the SQL in two-factor.store.ts; the TOTP and sealing arithmetic in totp.ts;
// the HTTP side (limits, audit, answers) in server/http/two-factor.routes.ts.
//
// A challenge token is `{id}.{32 random bytes}` kept as SHA-256, like a refresh token: it is not a
// JWT, so no route that takes an access token accepts it. It is spent by the login it completes,
// expires (5 minutes to type a code, 15 to set up an app), and dies after 5 wrong codes.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Driver } from '../../db/driver.ts';
import type { Role } from '../domain/roles.ts';
import { fail } from '../errors.ts';
import { hashSecret, verifySecret } from './passwords.ts';
import { isRecoveryShaped, newRecoveryCodes, newTotpSecret, normaliseRecoveryCode, openSecret, otpauthUri, sealSecret, sha256, totpStep } from './totp.ts';
import { TwoFactorStore, type ChallengeRow } from './two-factor.store.ts';

const SID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type Purpose = 'verify' | 'enrol';

export interface TwoFactorOptions {
  /** Roles that must have 2FA on (REQUIRE_2FA_ROLES). */
  requiredRoles?: readonly Role[];
  /** How long a login's code step may take. */
  verifyTtlMs?: number;
  /** How long a forced enrolment may take (scanning, typing a first code). */
  enrolTtlMs?: number;
  /** Wrong codes one challenge takes before it is spent. */
  maxChallengeFailures?: number;
}

/** The outcome of a code: which factor it was, or why it was refused. */
export type CodeResult =
  | { ok: true; method: 'totp' | 'recovery'; recoveryCodesLeft: number | null }
  | { ok: false; reason: 'wrong' | 'reused' | 'unreadable' };

export type ChallengeResult = { ok: true; challenge: ChallengeRow } | { ok: false; reason: 'invalid' | 'expired' | 'used' | 'wrong-purpose' };

export class TwoFactorService {
  private readonly store: TwoFactorStore;
  private readonly required: ReadonlySet<Role>;
  readonly verifyTtlMs: number;
  readonly enrolTtlMs: number;
  readonly maxChallengeFailures: number;

  constructor(
    private readonly db: Driver,
    private readonly key: Buffer,
    opts: TwoFactorOptions = {},
  ) {
    this.store = new TwoFactorStore(db);
    this.required = new Set(opts.requiredRoles ?? []);
    this.verifyTtlMs = opts.verifyTtlMs ?? 5 * 60_000;
    this.enrolTtlMs = opts.enrolTtlMs ?? 15 * 60_000;
    this.maxChallengeFailures = opts.maxChallengeFailures ?? 5;
  }

  /** Whether REQUIRE_2FA_ROLES names this role. */
  isRequired(role: Role): boolean {
    return this.required.has(role);
  }

  /** Whether 2FA is on, and how many recovery codes are unused (null when off). */
  async status(userId: string): Promise<{ enabled: boolean; recoveryCodesLeft: number | null }> {
    const on = await this.isEnabled(userId);
    return { enabled: on, recoveryCodesLeft: on ? (await this.store.unusedRecoveryCodes(userId)).length : null };
  }

  async isEnabled(userId: string): Promise<boolean> {
    return Boolean((await this.store.totp(userId))?.enabledAt);
  }

  /** A new secret for the account, pending until `enable`; ERR_ILLEGAL_TRANSITION when 2FA is on. */
  async setup(user: { id: string; email: string }): Promise<{ secret: string; otpauthUri: string }> {
    const secret = newTotpSecret();
    if (!(await this.store.putPending(user.id, sealSecret(this.key, secret, user.id)))) {
      throw fail('ERR_ILLEGAL_TRANSITION', 'two-factor sign-in is already on for this account; turn it off first (DELETE /api/auth/2fa) to set up a new authenticator');
    }
    return { secret, otpauthUri: otpauthUri(secret, user.email) };
  }

  /**
   * Turn the pending secret on with a first code from it; the ten recovery codes, shown once.
   * ERR_ILLEGAL_TRANSITION without a pending secret or when on already; ERR_VALIDATION for a code
   * that does not match it.
   */
  async enable(userId: string, code: string): Promise<string[]> {
    const row = await this.store.totp(userId);
    if (row?.enabledAt) throw fail('ERR_ILLEGAL_TRANSITION', 'two-factor sign-in is already on for this account');
    if (!row) throw fail('ERR_ILLEGAL_TRANSITION', 'no authenticator is being set up: call POST /api/auth/2fa/setup first');
    const secret = openSecret(this.key, row.secretEnc, userId);
    const step = secret === null ? null : totpStep(secret, code);
    if (step === null) throw fail('ERR_VALIDATION', 'body.code: is not the current code of the authenticator being set up (check the device clock)', [{ path: 'body.code', message: 'is not the current code of the authenticator being set up' }]);
    const codes = newRecoveryCodes();
    const hashes = await Promise.all(codes.map((c) => hashSecret(normaliseRecoveryCode(c))));
    const enabled = await this.db.transaction(async (tx) => {
      // The code that turned it on is spent: it cannot also complete a login.
      if (!(await this.store.takeStep(userId, step, tx))) return false;
      return this.store.enable(tx, userId, hashes);
    });
    if (!enabled) throw fail('ERR_ILLEGAL_TRANSITION', 'two-factor sign-in was turned on meanwhile, or this code was already used');
    return codes;
  }

  /** Check a code of an account with 2FA on: a TOTP code (once per time step) or an unused recovery code (spent). */
  async check(userId: string, code: string): Promise<CodeResult> {
    const row = await this.store.totp(userId);
    if (!row?.enabledAt) return { ok: false, reason: 'wrong' };
    const typed = code.trim();
    if (/^\d[\d\s]*$/.test(typed)) {
      const secret = openSecret(this.key, row.secretEnc, userId);
      if (secret === null) return { ok: false, reason: 'unreadable' };
      const step = totpStep(secret, typed);
      if (step === null) return { ok: false, reason: 'wrong' };
      return (await this.store.takeStep(userId, step)) ? { ok: true, method: 'totp', recoveryCodesLeft: null } : { ok: false, reason: 'reused' };
    }
    if (!isRecoveryShaped(typed)) return { ok: false, reason: 'wrong' };
    const normal = normaliseRecoveryCode(typed);
    const unused = await this.store.unusedRecoveryCodes(userId);
    const matches = await Promise.all(unused.map((c) => verifySecret(normal, c.hash)));
    const hit = unused[matches.indexOf(true)];
    if (!hit) return { ok: false, reason: 'wrong' };
    if (!(await this.store.useRecoveryCode(userId, hit.n))) return { ok: false, reason: 'reused' };
    return { ok: true, method: 'recovery', recoveryCodesLeft: unused.length - 1 };
  }

  /** Turn 2FA off (the secret and recovery codes are deleted); false when it was not set up. */
  disable(userId: string): Promise<boolean> {
    return this.store.remove(userId);
  }

  // ---------------------------------------------------------------- login challenges

  /** A new challenge token for the account. */
  async issue(userId: string, purpose: Purpose): Promise<{ token: string; expiresIn: number }> {
    const id = randomUUID();
    const token = `${id}.${randomBytes(32).toString('base64url')}`;
    const ttl = purpose === 'verify' ? this.verifyTtlMs : this.enrolTtlMs;
    await this.store.insertChallenge({ id, userId, tokenHash: sha256(token), purpose, expiresAt: new Date(Date.now() + ttl) });
    return { token, expiresIn: Math.round(ttl / 1000) };
  }

  /** The live challenge a token names, for `purpose`; not spent by looking. */
  async open(token: string, purpose: Purpose): Promise<ChallengeResult> {
    const id = token.split('.', 1)[0] ?? '';
    if (!SID.test(id) || token.length > 200) return { ok: false, reason: 'invalid' };
    const c = await this.store.challenge(id);
    if (!c || !timingSafeEqual(Buffer.from(sha256(token)), Buffer.from(c.tokenHash))) return { ok: false, reason: 'invalid' };
    if (c.usedAt) return { ok: false, reason: 'used' };
    if (new Date(c.expiresAt).getTime() <= Date.now()) return { ok: false, reason: 'expired' };
    if (c.purpose !== purpose) return { ok: false, reason: 'wrong-purpose' };
    return { ok: true, challenge: c };
  }

  /** Spend a challenge; false when another request spent it first. */
  spend(id: string): Promise<boolean> {
    return this.store.useChallenge(id);
  }

  /** Count a wrong code; true when the challenge is now spent. */
  async failed(id: string): Promise<boolean> {
    return (await this.store.failChallenge(id, this.maxChallengeFailures)) >= this.maxChallengeFailures;
  }
}
