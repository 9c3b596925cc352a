// Admission control for device connections: when the node is overloaded, a new connection is
// refused at CONNECT with return code 3 ("server unavailable", MQTT 3.1.1 §3.2.2.3) instead of
// being admitted into a server that can no longer keep up. Devices already connected keep their
// latency; a refused device retries later (its own back-off) and is let in once the load falls.
// Every refusal is counted, and the bed whose device was refused shows "device offline" (a
// technical alarm) instead of looking monitored. Pure: time and lag samples are passed in.

export interface AdmissionOptions {
  /** Event-loop delay (p99 over a sample period, ms) above which the node counts as overloaded; 0 = never refuse. */
  maxLagMs: number;
  /** How long the node stays "overloaded" after the last sample over the bar (hysteresis, ms). */
  holdMs: number;
}

export const DEFAULT_ADMISSION: AdmissionOptions = { maxLagMs: 250, holdMs: 5000 };

export class Admission {
  private overloadedUntil = 0;
  private lastLagMs = 0;

  constructor(private readonly opts: AdmissionOptions = DEFAULT_ADMISSION) {}

  /**
   * One measurement: the event loop's p99 delay over the last period, and whether the database
   * writer is behind (its buffer past the mark where readings would soon go to disk or be held).
   */
  sample(lagMs: number, writerBehind: boolean, now: number): void {
    this.lastLagMs = lagMs;
    if (this.opts.maxLagMs <= 0) return;
    if (lagMs > this.opts.maxLagMs || writerBehind) this.overloadedUntil = now + this.opts.holdMs;
  }

  admit(now: number): boolean {
    return this.opts.maxLagMs <= 0 || now >= this.overloadedUntil;
  }

  /** For logs and metrics. */
  state(now: number): { overloaded: boolean; lagMs: number } {
    return { overloaded: !this.admit(now), lagMs: this.lastLagMs };
  }
}
