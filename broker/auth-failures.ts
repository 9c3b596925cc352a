// Failed device authentications, keyed by (device id, source address), with exponential backoff.
// Keyed by the pair, an attacker guessing from one address locks out only that pair: the device
// itself, connecting from its own address, is not affected (issue 11, finding 4). After
// `maxFailures` failures the pair is locked for `lockoutMs`; once that lock has run out, each
// further failure locks it again for twice as long as the previous lock, up to `maxLockoutMs`
// (OWASP Authentication Cheat Sheet: account lockout with an increasing delay). A success, or a
// quiet spell as long as the longest lock, forgets the pair. Pure: time is passed in.

export interface AuthFailureOptions {
  /** Failures before the first lock. */
  maxFailures: number;
  /** Length of the first lock; each later lock doubles it. */
  lockoutMs: number;
  /** The longest lock. */
  maxLockoutMs: number;
  /** Pairs tracked at most; the oldest are forgotten past it (bounded memory under a spray). */
  maxEntries?: number;
}

interface Entry {
  failures: number;
  /** Locks so far (0: not yet locked). */
  lockouts: number;
  lockedUntil: number;
  lastFailureAt: number;
}

/** A new lock, to be logged and recorded as a security event. */
export interface Lockout {
  failures: number;
  lockouts: number;
  lockedForMs: number;
  until: number;
}

export class AuthFailures {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;

  constructor(private readonly opts: AuthFailureOptions) {
    this.maxEntries = opts.maxEntries ?? 100_000;
  }

  private static key(deviceId: string, address: string): string {
    return `${deviceId}\u0000${address}`;
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.lockedUntil <= now && now - e.lastFailureAt > this.opts.maxLockoutMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** The end of the pair's current lock, or null when it may try. */
  lockedUntil(deviceId: string, address: string, now: number): number | null {
    const e = this.live(AuthFailures.key(deviceId, address), now);
    return e && e.lockedUntil > now ? e.lockedUntil : null;
  }

  /** Count a failure; returns the lock it started, if it started one. */
  fail(deviceId: string, address: string, now: number): Lockout | null {
    const key = AuthFailures.key(deviceId, address);
    let e = this.live(key, now);
    if (e) this.entries.delete(key); // re-inserted below: the map stays in order of last failure
    else e = { failures: 0, lockouts: 0, lockedUntil: 0, lastFailureAt: now };
    e.failures++;
    e.lastFailureAt = now;
    this.entries.set(key, e);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    if (e.lockedUntil > now) return null; // already locked (a check raced with this attempt)
    if (e.lockouts === 0 && e.failures < this.opts.maxFailures) return null;
    const lockedForMs = Math.min(this.opts.maxLockoutMs, this.opts.lockoutMs * 2 ** e.lockouts);
    e.lockouts++;
    e.lockedUntil = now + lockedForMs;
    return { failures: e.failures, lockouts: e.lockouts, lockedForMs, until: e.lockedUntil };
  }

  succeed(deviceId: string, address: string): void {
    this.entries.delete(AuthFailures.key(deviceId, address));
  }

  get size(): number {
    return this.entries.size;
  }
}
