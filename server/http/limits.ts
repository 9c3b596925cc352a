// Failure counters for the sign-in paths (docs/api.md "Rate limits"): in memory, per process.
import type { Request, Response } from 'express';
import { type AppError, Errors } from '../errors.ts';

/** Failures per key within a window; at `max` the key waits until the window ends. */
export class FailureLimiter {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();
  constructor(
    private readonly max = 10,
    private readonly windowMs = 15 * 60_000,
  ) {}
  retryAfter(key: string, now = Date.now()): number {
    const f = this.failures.get(key);
    if (!f || f.resetAt <= now) return 0;
    return f.count >= this.max ? Math.ceil((f.resetAt - now) / 1000) : 0;
  }
  fail(key: string, now = Date.now()): void {
    const f = this.failures.get(key);
    if (!f || f.resetAt <= now) this.failures.set(key, { count: 1, resetAt: now + this.windowMs });
    else f.count++;
    if (this.failures.size > 100_000) this.failures.clear(); // bounded memory under a spray
  }
  succeed(key: string): void {
    this.failures.delete(key);
  }
}

/** The 429 for the longest of `waits` (seconds), with Retry-After; null when none is due. */
export function limited(res: Response, waits: number[], message = (wait: number) => `too many failed attempts; try again in ${wait} s`): AppError | null {
  const wait = Math.max(0, ...waits);
  if (wait <= 0) return null;
  res.setHeader('Retry-After', String(wait));
  return Errors.tooManyRequests(message(wait));
}

export const ipOf = (req: Request) => req.ip ?? 'unknown';

/**
 * The login lockout's counters, shared by the password step and the code step: per address and
 * e-mail (10), per address (100), and per account for second factors whatever the address (10).
 */
export interface LoginLimits {
  perAccount: FailureLimiter;
  perAddress: FailureLimiter;
  perUserCode: FailureLimiter;
}
