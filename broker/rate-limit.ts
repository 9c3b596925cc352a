// Per-device message rate limit: a token bucket (sustained rate, burst) plus the bookkeeping the
// broker needs to report a flood without flooding the error log itself (one report per device
// per `reportEveryMs`) and to disconnect a device that keeps flooding. Pure: time is passed in.
// `check` refuses (QoS 0: dropped); `reserve` never refuses but says how long to wait (QoS 1:
// the PUBACK and the device's next packets are held back, so a backlog is slowed, not dropped).

export interface RateLimitOptions {
  /** Sustained messages per second. */
  ratePerS: number;
  /** Messages allowed at once after a quiet spell. */
  burst: number;
  /** A device refused continuously for this long is disconnected (default 10 s). */
  disconnectAfterMs?: number;
  /** At most one report per device per this interval (default 1 s). */
  reportEveryMs?: number;
}

export type Verdict =
  | { ok: true }
  /** `report`: messages dropped since the last report, to be recorded now (0: stay quiet). */
  | { ok: false; report: number; disconnect: boolean };

interface DeviceState {
  tokens: number;
  last: number;
  /** Start of the current flood: the first refusal after a refusal-free second. */
  floodSince: number | null;
  lastRefusedAt: number;
  lastReportAt: number;
  unreported: number;
}

export class RateLimiter {
  private readonly devices = new Map<string, DeviceState>();
  private readonly disconnectAfterMs: number;
  private readonly reportEveryMs: number;

  constructor(private readonly opts: RateLimitOptions) {
    this.disconnectAfterMs = opts.disconnectAfterMs ?? 10_000;
    this.reportEveryMs = opts.reportEveryMs ?? 1000;
  }

  /** The device's bucket, refilled at the sustained rate up to `now` (made full on first sight). */
  private refilled(deviceId: string, now: number) {
    let s = this.devices.get(deviceId);
    if (!s) {
      s = { tokens: this.opts.burst, last: now, floodSince: null, lastRefusedAt: -Infinity, lastReportAt: -Infinity, unreported: 0 };
      this.devices.set(deviceId, s);
    }
    s.tokens = Math.min(this.opts.burst, s.tokens + ((now - s.last) / 1000) * this.opts.ratePerS);
    s.last = now;
    return s;
  }

  check(deviceId: string, now: number): Verdict {
    const s = this.refilled(deviceId, now);
    if (s.tokens >= 1) {
      s.tokens -= 1;
      // A second without refusals ends the flood.
      if (s.floodSince !== null && now - s.lastRefusedAt > 1000) s.floodSince = null;
      return { ok: true };
    }
    if (s.floodSince === null || now - s.lastRefusedAt > 1000) s.floodSince = now;
    s.lastRefusedAt = now;
    s.unreported++;
    let report = 0;
    if (now - s.lastReportAt >= this.reportEveryMs) {
      report = s.unreported;
      s.unreported = 0;
      s.lastReportAt = now;
    }
    return { ok: false, report, disconnect: now - s.floodSince >= this.disconnectAfterMs };
  }

  /**
   * Take a token even if there is none: the milliseconds to wait until it would have been there.
   * Tokens go into debt, so messages reserved together are spaced at the sustained rate (and a
   * QoS 0 message from the same device meanwhile is refused by `check`).
   */
  reserve(deviceId: string, now: number): number {
    const s = this.refilled(deviceId, now);
    s.tokens -= 1;
    return s.tokens >= 0 ? 0 : Math.ceil((-s.tokens / this.opts.ratePerS) * 1000);
  }

  /** The device's connection is gone: forget its flood (its bucket is kept by a reconnect anyway). */
  forget(deviceId: string): void {
    this.devices.delete(deviceId);
  }
}
