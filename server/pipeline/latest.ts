// The latest value of each parameter for one patient, merged across devices and manual
// observations, and the subset of it that is still fresh. Pure, but for the sample window at the
// end (mutable by design: it runs for every reading of every bed).
//
// Freshness rules (docs/alarms.md §2, "Freshness"):
// - The age of a value is measured from `at` = min(measurement time, receipt time): a device whose
//   clock runs fast cannot keep a value fresh, and back-filled history is as old as it says.
// - Continuous device parameters (HR, SpO2, RR) are fresh for `deviceMs`; device values measured
//   now and then (cuff BP, temperature, a device-sent O2 flag or ACVPU) for `intermittentMs`;
//   manual observations for `manualMs`, which the engine narrows to the patient's RCP monitoring
//   interval (a nurse's value counts no longer than the next set is due).
// - Consciousness (ACVPU) and air/oxygen are clinical assessments: a fresh manual value wins over
//   any device value, newer or not; a device value counts only when no fresh manual one exists.
//   Every other parameter: the newest fresh value wins, whichever its source.
import { ASSESSMENT_VITALS, CONTINUOUS_VITALS, VITAL_KEYS, type Freshness, type Reading, type ReadingSource, type VitalKey, type VitalValues } from '../domain/vitals.ts';

export interface Stamped<T> {
  value: T;
  /** Measurement time (the device's or the nurse's), epoch ms. Orders values. */
  ts: number;
  /** min(ts, receipt time): the age of the value counts from here. */
  at: number;
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

/** Parameters a monitor streams beat to beat / breath to breath. */
export const CONTINUOUS: ReadonlySet<VitalKey> = new Set(CONTINUOUS_VITALS);
/** Parameters that are clinical assessments: a nurse's value wins over a device's. */
export const ASSESSMENTS: ReadonlySet<VitalKey> = new Set(ASSESSMENT_VITALS);

/** Merge a reading, keeping per parameter whichever value was measured last (out-of-order safe). */
export function mergeReading(latest: LatestValues, reading: Reading): LatestValues {
  const slot = latest[reading.source];
  const at = Math.min(reading.ts, reading.receivedAt);
  let next: Slot | undefined;
  for (const key of VITAL_KEYS) {
    const value = reading.values[key];
    if (value === undefined) continue;
    const current = slot[key];
    if (current && current.ts > reading.ts) continue;
    next ??= { ...slot };
    (next as Record<string, Stamped<unknown>>)[key] = { value, ts: reading.ts, at, source: reading.source, deviceId: reading.deviceId };
  }
  return next ? { ...latest, [reading.source]: next } : latest;
}

/** The freshness window of one parameter from one source. */
export function windowOf(key: VitalKey, source: ReadingSource, f: Freshness): number {
  if (source === 'manual') return Math.min(f.manualMs, f.manualByKey?.[key] ?? f.manualMs);
  return CONTINUOUS.has(key) ? f.deviceMs : f.intermittentMs;
}

export function isFresh(stamp: Stamped<unknown>, key: VitalKey, now: number, f: Freshness): boolean {
  return now - stamp.at <= windowOf(key, stamp.source, f);
}

/** When a value stops being fresh, epoch ms. */
export function freshUntil(stamp: Stamped<unknown>, key: VitalKey, f: Freshness): number {
  return stamp.at + windowOf(key, stamp.source, f);
}

function newest<T>(a: Stamped<T> | undefined, b: Stamped<T> | undefined): Stamped<T> | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.ts > a.ts ? b : a;
}

/**
 * The value of a parameter that counts: without `fresh`, the newest ever seen; with it, only
 * fresh values, a fresh manual assessment (ACVPU, O2) winning over any device value.
 */
export function latestOf(latest: LatestValues, key: VitalKey, fresh?: { now: number; freshness: Freshness }): Stamped<unknown> | undefined {
  let d: Stamped<unknown> | undefined = latest.device[key];
  let m: Stamped<unknown> | undefined = latest.manual[key];
  if (!fresh) return newest(d, m);
  if (d && !isFresh(d, key, fresh.now, fresh.freshness)) d = undefined;
  if (m && !isFresh(m, key, fresh.now, fresh.freshness)) m = undefined;
  if (m && ASSESSMENTS.has(key)) return m;
  return newest(d, m);
}

/** The values still inside their freshness window at `now`, each with the stamp it came from. */
export function freshStamps(latest: LatestValues, now: number, freshness: Freshness): Partial<Record<VitalKey, Stamped<unknown>>> {
  const out: Partial<Record<VitalKey, Stamped<unknown>>> = {};
  const fresh = { now, freshness };
  for (const key of VITAL_KEYS) {
    const stamp = latestOf(latest, key, fresh);
    if (stamp) out[key] = stamp;
  }
  return out;
}

/** The values still inside their freshness window at `now` (the one that counts per parameter). */
export function freshValues(latest: LatestValues, now: number, freshness: Freshness): VitalValues {
  const out: Record<string, unknown> = {};
  for (const [key, stamp] of Object.entries(freshStamps(latest, now, freshness))) out[key] = stamp!.value;
  return out as VitalValues;
}

export interface ShownValue {
  value: unknown;
  ts: number;
  at: number;
  source: ReadingSource;
}

/**
 * What a display shows per parameter, regardless of freshness (the display greys stale ones):
 * the newest value — but for the assessments (ACVPU, O2), a manual one while it is fresh, as the
 * score does, so the tile and the score never disagree on who assessed the patient.
 */
export function stampedValues(latest: LatestValues, now?: number, freshness?: Freshness): Partial<Record<VitalKey, ShownValue>> {
  const out: Partial<Record<VitalKey, ShownValue>> = {};
  for (const key of VITAL_KEYS) {
    let stamp = latestOf(latest, key);
    if (ASSESSMENTS.has(key) && now !== undefined && freshness) stamp = latestOf(latest, key, { now, freshness }) ?? stamp;
    if (stamp) out[key] = { value: stamp.value, ts: stamp.ts, at: stamp.at, source: stamp.source };
  }
  return out;
}

// ── Persistence filter for scoring ───────────────────────────────────────────────────────────
// NEWS2 is scored from the median of the last minute of each continuous device parameter, so a
// motion artefact (a spike lasting seconds) can neither open, re-band nor close a NEWS2 alarm; a
// real change moves the median within about half the window. Limit alarms keep the raw value and
// their own alarm condition delay (IEC 60601-1-8 §6.1.2.2 / 201.6.1.2 of the particular standards).

export const MEDIAN_WINDOW_MS = 60_000;
/**
 * At most this many samples per parameter: a monitor at 1 Hz has 60 in the window; a device
 * flushing a backlog or streaming fast must not make each median a sort of thousands.
 */
export const MEDIAN_MAX_SAMPLES = 120;

/** Recent device samples per continuous parameter: [at, value] pairs, oldest first. Mutable. */
export type SampleWindow = Partial<Record<VitalKey, number[]>>;

/** Append a device sample and drop what fell out of the window. Mutates `w`. */
export function addSample(w: SampleWindow, key: VitalKey, at: number, value: number, spanMs = MEDIAN_WINDOW_MS): void {
  const list = (w[key] ??= []);
  // Keep time order (late readings are rare; insert from the end).
  let i = list.length;
  while (i > 0 && list[i - 2]! > at) i -= 2;
  if (i === list.length) list.push(at, value);
  else list.splice(i, 0, at, value);
  const newestAt = list[list.length - 2]!;
  let drop = Math.max(0, list.length - 2 * MEDIAN_MAX_SAMPLES);
  while (drop < list.length && list[drop]! < newestAt - spanMs) drop += 2;
  if (drop > 0) list.splice(0, drop);
}

/** Median of the samples within `spanMs` before `now`; undefined when there are none. */
export function windowMedian(w: SampleWindow, key: VitalKey, now: number, spanMs = MEDIAN_WINDOW_MS): number | undefined {
  const list = w[key];
  if (!list || list.length === 0) return undefined;
  // One scratch array for every call (this runs for every continuous parameter of every bed each
  // second): a typed array sorts numerically without a comparator and leaves no garbage.
  if (list.length / 2 > medianScratch.length) medianScratch = new Float64Array(list.length / 2);
  let n = 0;
  for (let i = 0; i < list.length; i += 2) if (list[i]! >= now - spanMs) medianScratch[n++] = list[i + 1]!;
  if (n === 0) return undefined;
  const values = medianScratch.subarray(0, n).sort();
  const mid = n >> 1;
  return n % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

let medianScratch = new Float64Array(MEDIAN_MAX_SAMPLES);
