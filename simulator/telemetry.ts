// The device side of the protocol (docs/device-protocol.md): topics, payloads, publish timing. Pure.
import type { Acvpu, VitalValues } from '../server/domain/index.ts';

export const statusTopic = (deviceId: string) => `devices/${deviceId}/status`;
export const vitalsTopic = (deviceId: string) => `devices/${deviceId}/vitals`;
export const errorsTopic = (deviceId: string) => `devices/${deviceId}/errors`;

export interface TelemetryPayload extends VitalValues {
  ts: number;
  seq: number;
}

/** The o2/acvpu values last sent, and when. */
export interface CategoricalMemo {
  o2: boolean;
  acvpu: Acvpu;
  ts: number;
}

/** How often a device with assessments repeats o2 and ACVPU when unchanged. */
export const CATEGORICAL_REFRESH_MS = 30_000;

export interface PayloadOptions {
  /**
   * The device reports o2 and ACVPU itself (--device-assessments: e.g. a monitor with an O2 flow
   * sensor and a gateway relaying the chart). Off by default: oxygen and consciousness are clinical
   * assessments a nurse records through the observations API, never a device's silent default.
   */
  assessments?: boolean;
  /** With assessments: repeat them at least this often (ms). */
  refreshMs?: number;
}

/**
 * One telemetry message. Numeric vitals go in every message; o2 and acvpu never, unless the device
 * reports assessments: then in the first message, when they change, and every `refreshMs`.
 */
export function buildPayload(
  ts: number,
  seq: number,
  vitals: VitalValues,
  last: CategoricalMemo | null,
  options: PayloadOptions = {},
): { payload: TelemetryPayload; memo: CategoricalMemo | null } {
  const { o2, acvpu, ...numeric } = vitals;
  const payload: TelemetryPayload = { ts, seq, ...numeric };
  if (!options.assessments) return { payload, memo: last };
  if (o2 === undefined || acvpu === undefined) return { payload: { ...payload, ...pick(o2, acvpu) }, memo: last };
  const due = last === null || last.o2 !== o2 || last.acvpu !== acvpu || ts - last.ts >= (options.refreshMs ?? CATEGORICAL_REFRESH_MS);
  if (!due) return { payload, memo: last };
  return { payload: { ...payload, o2, acvpu }, memo: { o2, acvpu, ts } };
}

function pick(o2: boolean | undefined, acvpu: Acvpu | undefined): Partial<VitalValues> {
  const out: Partial<VitalValues> = {};
  if (o2 !== undefined) out.o2 = o2;
  if (acvpu !== undefined) out.acvpu = acvpu;
  return out;
}

/**
 * Phase offsets (ms) that spread `count` devices evenly over one publish period, so a ward at
 * 1 reading/s sends a steady trickle rather than a burst on every second boundary.
 */
export function spreadOffsets(count: number, periodMs: number): number[] {
  return Array.from({ length: count }, (_, i) => (i * periodMs) / count);
}

/**
 * The next tick strictly after `nowMs` on the grid anchorMs + k·periodMs (k ≥ 0).
 * Ticks missed while the event loop was busy are skipped, not burst out.
 */
export function nextTickTime(anchorMs: number, periodMs: number, nowMs: number): number {
  if (nowMs < anchorMs) return anchorMs;
  const k = Math.floor((nowMs - anchorMs) / periodMs) + 1;
  return anchorMs + k * periodMs;
}
