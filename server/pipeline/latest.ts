// The latest value of each parameter for one patient, merged across devices and manual
// observations, and the subset of it that is still fresh. Pure.
import { VITAL_KEYS, type Reading, type ReadingSource, type VitalKey, type VitalValues } from './vitals.ts';

export interface Stamped<T> {
  value: T;
  ts: number;
  source: ReadingSource;
  deviceId: string | null;
}

type Slot = { [K in VitalKey]?: Stamped<NonNullable<VitalValues[K]>> };

/**
 * Latest values kept per source: a nurse's manual observation stays usable for its own (longer)
 * freshness window even after a newer device value has gone stale.
 */
export interface LatestValues {
  device: Slot;
  manual: Slot;
}

export const EMPTY_LATEST: LatestValues = { device: {}, manual: {} };

export interface Freshness {
  /** How long a streamed (device) value stays usable for scoring. */
  deviceMs: number;
  /** How long a manual observation stays usable for scoring. */
  manualMs: number;
}

export const DEFAULT_FRESHNESS: Freshness = { deviceMs: 5 * 60_000, manualMs: 12 * 3600_000 };

/** Merge a reading, keeping per parameter whichever value was measured last (out-of-order safe). */
export function mergeReading(latest: LatestValues, reading: Reading): LatestValues {
  const slot = latest[reading.source];
  let next: Slot | undefined;
  for (const key of VITAL_KEYS) {
    const value = reading.values[key];
    if (value === undefined) continue;
    const current = slot[key];
    if (current && current.ts > reading.ts) continue;
    next ??= { ...slot };
    (next as Record<string, Stamped<unknown>>)[key] = {
      value,
      ts: reading.ts,
      source: reading.source,
      deviceId: reading.deviceId,
    };
  }
  return next ? { ...latest, [reading.source]: next } : latest;
}

export function isFresh(stamp: Stamped<unknown>, now: number, freshness: Freshness): boolean {
  const window = stamp.source === 'manual' ? freshness.manualMs : freshness.deviceMs;
  return now - stamp.ts <= window;
}

function newest<T>(a: Stamped<T> | undefined, b: Stamped<T> | undefined): Stamped<T> | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.ts > a.ts ? b : a;
}

/** The newest value of a parameter, optionally only among those still fresh at `now`. */
export function latestOf(latest: LatestValues, key: VitalKey, fresh?: { now: number; freshness: Freshness }): Stamped<unknown> | undefined {
  let d: Stamped<unknown> | undefined = latest.device[key];
  let m: Stamped<unknown> | undefined = latest.manual[key];
  if (fresh) {
    if (d && !isFresh(d, fresh.now, fresh.freshness)) d = undefined;
    if (m && !isFresh(m, fresh.now, fresh.freshness)) m = undefined;
  }
  return newest(d, m);
}

/** The values still inside their freshness window at `now` (newest fresh one per parameter). */
export function freshValues(latest: LatestValues, now: number, freshness: Freshness): VitalValues {
  const out: Record<string, unknown> = {};
  for (const key of VITAL_KEYS) {
    const stamp = latestOf(latest, key, { now, freshness });
    if (stamp) out[key] = stamp.value;
  }
  return out as VitalValues;
}

/** The newest value of every parameter ever seen, with its time, regardless of freshness. */
export function stampedValues(latest: LatestValues): Partial<Record<VitalKey, { value: unknown; ts: number; source: ReadingSource }>> {
  const out: Partial<Record<VitalKey, { value: unknown; ts: number; source: ReadingSource }>> = {};
  for (const key of VITAL_KEYS) {
    const stamp = latestOf(latest, key);
    if (stamp) out[key] = { value: stamp.value, ts: stamp.ts, source: stamp.source };
  }
  return out;
}
