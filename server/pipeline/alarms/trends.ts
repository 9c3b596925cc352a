// Trend alarms: a sustained change from the patient's own baseline, so slow deterioration is seen
// before a fixed limit or NEWS2 is crossed. Pure: no clock (time is passed in), no I/O; inputs are
// never mutated (new objects are returned; unchanged parts, e.g. the bucket ring, are shared).
//
// ── What is compared ─────────────────────────────────────────────────────────────────────────
// Per parameter (state per parameter; rules judged per rule — RR has a rising and a falling rule):
// - the **fast average** (time-aware EWMA, τ 2 min, alpha = 1 − exp(−dt/τ)): the short-term value
//   judged. It restarts from the first reading after a gap (> 10 min), so for a cuff or a nurse's
//   reading (minutes to hours apart) it *is* that reading;
// - the **short baseline** (EWMA, τ 45 min): today's rule, kept. It counts once it has 20 min of
//   data (rule.minHistoryMs; warm-up: the mean of the readings so far, or the median when the
//   warm-up was a few intermittent readings). Then:
//   - frozen while the fast average — or the reading itself — is beyond the threshold, as before,
//     so a sustained change does not become the new normal;
//   - continuous parameters: held while the fast average has drifted beyond a quarter of the change
//     in a rule's direction (HOLD_FRACTION), for at most 2 h (HOLD_MAX_MS). A slow drift is then
//     measured from where it started, even with too little history for the bucket baselines; a
//     shift that stays inside the threshold for 2 h becomes the new short baseline. Not for
//     intermittent samples: one noisy cuff reading would hold it, and holding only on low readings
//     would bias the baseline upwards;
//   - otherwise each reading moves it by at most alpha × half the rule's change (winsorised), so a
//     spike or an artefact barely moves it, in either direction;
// - two baselines from coarse history — 30-min buckets (sum and count) kept for 24 h:
//   - the **recent baseline**: the median of the bucket means 1–4 h before (≥ 2 buckets);
//   - the **long baseline**: the median of the bucket means 4–24 h before (≥ 4 buckets).
//   They catch a slow drift, which the 45-min EWMA follows: an EWMA lags a ramp of r per hour by
//   at most r·τ (HR +25/min per hour: 19/min, less than 20 % of the rising baseline), so against
//   it alone such a rise never fires. The long one needs 4 h of history; the recent one covers a
//   patient monitored for less (a rise starting 30 min after admission). Medians of 30-min means
//   are robust: spikes average out in their bucket, odd buckets fall out of the median.
// A rule's condition holds when the fast average is beyond baseline ± change against ANY of the
// three baselines, for the rule's sustain time (counted from the reading at which it crossed).
//
// ── Gaps (a gap: more than TREND_GAP_MS = 10 min without a reading of the parameter) ─────────
// - Nothing is reset by a gap (issue: a gap used to reset the baseline at the worse level and
//   clear the alarm). The short baseline stays as it was; the gap counts as at most 10 min of
//   baseline time, so the first reading after it moves the baseline at most 1 − e^(−10/45) ≈ 20 %
//   of the (winsorised) way, and not at all when it is beyond the threshold. The bucket baselines
//   are time-bucketed: a gap is just buckets without data.
// - A gap neither ends nor restarts a deviation: if the readings on both sides are beyond the
//   threshold it is one episode (its sustain time counts from its start); a reading inside ends it.
// - While a continuous parameter has been silent > 10 min, trendConditions reports nothing for it
//   (old data is not evidence of a current deviation); the engine holds open alarms whose
//   parameter has no fresh value, as absence of data is not recovery.
// - After 24 h (TREND_HISTORY_MS) of silence a parameter starts over: its history has run out.
//
// ── Intermittent parameters (rule.intermittent: SBP, temperature — a cuff or a nurse every
//    15 min to 4 h; a streamed arterial line or temperature probe is handled by the same rules) ─
// - No warm-up by wall time: 30 min of *data* (their minHistoryMs), where a reading after a gap
//   counts 10 min, so a reading is judged once three earlier readings formed the short baseline —
//   their median, so one wrong reading among them does not become the baseline.
// - The short baseline is then an average of earlier readings: each reading moves it
//   1 − e^(−10/45) ≈ 20 % of the (winsorised) way — an EWMA over about five readings. The recent
//   and long baselines are the medians of the readings' 30-min buckets.
// - Each reading after a gap is a sample. The condition holds once `confirmReadings` consecutive
//   samples are beyond the threshold (SBP: 2 — a single cuff reading can be wrong; temperature:
//   1, the latest reading — as the 38.5 °C limit, which has no delay either), or once readings
//   beyond it span `sustainMs` (a stream). It persists until a reading comes back inside, for up
//   to 12 h without any reading (INTERMITTENT_STALE_MS, the longest RCP observation interval).
//
// ── SpO2 ─────────────────────────────────────────────────────────────────────────────────────
// - Scale 2 (RCP NEWS2 chart 1, hypercapnic respiratory failure, prescribed target 88–92 %): a fall
//   within or above the target range is not deterioration. Falling rules compare against each
//   baseline capped at 92 (SCALE2_TARGET_HIGH): 96 → 91 does not fire, 92 → 88 does.
// - A change of air/oxygen (ctx.onOxygen false ↔ true between readings; null = unknown never
//   counts as a change) restarts all SpO2 baselines and its deviations: SpO2 on oxygen is not
//   comparable with SpO2 on air. Removing oxygen (SpO2 falls as expected) does not fire; starting
//   oxygen (SpO2 rises) does not leave a low baseline that would hide a later fall. The price: no
//   SpO2 trend for the 20 min warm-up after the change (limits and NEWS2 still apply).
//
// Thresholds, sustain times and their reasons: DEFAULT_TREND_RULES. Checked on simulated courses
// against the first limit and NEWS2 alarm, and on stable noisy patients: trend-courses.test.ts.
//
// State is plain JSON data (numbers, arrays, objects; −1 marks an empty bucket). Memory: a
// parameter holds 48 bucket means (~0.4 KB) and a few numbers; five parameters ≈ 3.7 KB of heap
// per patient (2.6 KB as JSON).
// Per reading the work is O(1); the medians (≤ 40 numbers) are re-taken only when a reading opens
// a new 30-min bucket.
import type { Condition } from '../../domain/alarms.ts';
import { PLAUSIBLE } from '../../domain/vitals.ts';

export type TrendParameter = 'hr' | 'spo2' | 'rr' | 'temp' | 'sbp' | 'dbp';

export interface TrendRule {
  /** Condition key; `trend:{parameter}` when absent. Unique per rule list (first one wins). */
  key?: string;
  parameter: TrendParameter;
  direction: 'up' | 'down';
  /** Percent of the baseline when `relative`, else in the parameter's own unit. */
  change: number;
  relative: boolean;
  /**
   * Relative rules: the change is at least this much, in the parameter's own unit (20 % of a HR
   * of 55 is 11/min, within day-to-night variation).
   */
  minChange?: number;
  /**
   * How long the fast average must stay beyond the threshold before the condition holds
   * (intermittent rules: how long readings beyond it must span, if not confirmed sooner).
   */
  sustainMs: number;
  /**
   * The averages are per parameter: τ, warm-up and `intermittent` are taken from the first rule of
   * the parameter in the list.
   */
  baselineTauMs: number;
  fastTauMs: number;
  /** Warm-up: this much data (a reading after a gap counts 10 min) before deviations count. */
  minHistoryMs: number;
  /** Measured now and then (cuff, nurse): each reading is a sample, confirmed by the next ones. */
  intermittent: boolean;
  /** Intermittent rules: consecutive samples beyond the threshold that make the condition hold. */
  confirmReadings: number;
  priority: 'low' | 'medium';
}

export interface TrendContext {
  /** RCP NEWS2 SpO2 scale of the patient. */
  spo2Scale: 1 | 2;
  /** Current air/oxygen status if known (null = unknown). */
  onOxygen: boolean | null;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const COMMON = { baselineTauMs: 45 * MIN, fastTauMs: 2 * MIN, minHistoryMs: 20 * MIN } as const;
const CONTINUOUS = { ...COMMON, intermittent: false, confirmReadings: 1 } as const;
const INTERMITTENT = { ...COMMON, intermittent: true, confirmReadings: 2 } as const;

/**
 * The defaults. Each was checked against simulated courses (test/unit/trend-courses.test.ts): it
 * fires before a limit or NEWS2 alarm would, with 6 h or only 30 min of history, and 20 stable
 * noisy patients × 24 h stay quiet.
 */
export const DEFAULT_TREND_RULES: TrendRule[] = [
  // Tachycardia: the earliest sign of sepsis, bleeding, hypovolaemia. +20 % (75 → 90) is beyond
  // day-to-night variation (±4–5 %) and is where NEWS2 starts scoring; at least 12/min, so a low
  // baseline (55) does not fire on its afternoon peak. 10 min rules out exertion and pain.
  { parameter: 'hr', direction: 'up', change: 20, relative: true, minChange: 12, sustainMs: 10 * MIN, priority: 'medium', ...CONTINUOUS },
  // Hypoxaemia: 3 points (97 → 94) is beyond oximeter noise (±1–2) and well above the NEWS2 scale-1
  // band that scores 3 (≤ 91). 5 min (was 15): the fast average (τ 2 min) already ignores motion
  // dips of seconds, and on scale 2 the threshold (92 − 3 = 89) is only 1 point above the scale-2
  // low limit (88), so with a longer hold a fall of 2–3 points per hour met the limit first.
  { parameter: 'spo2', direction: 'down', change: 3, relative: false, sustainMs: 5 * MIN, priority: 'medium', ...CONTINUOUS },
  // Tachypnoea: the most sensitive single predictor of deterioration. +30 % (16 → 21) is where
  // NEWS2 starts scoring 2; at least 4/min (a low baseline of 10–12). Low priority: talking and
  // exertion raise RR for minutes.
  { parameter: 'rr', direction: 'up', change: 30, relative: true, minChange: 4, sustainMs: 10 * MIN, priority: 'low', ...CONTINUOUS },
  // Opioid-induced respiratory depression: RR falls slowly over hours after a dose, while NEWS2
  // scores only ≤ 11 (1) and ≤ 8 (3). −25 % (16 → 12), at least 3/min, for 10 min: with RR
  // falling 4/min per hour it fires 25–45 min before NEWS2 scores RR 3. Medium: the response
  // (sedation score, naloxone) is urgent.
  { key: 'trend:rr-down', parameter: 'rr', direction: 'down', change: 25, relative: true, minChange: 3, sustainMs: 10 * MIN, priority: 'medium', ...CONTINUOUS },
  // Fever (infection, sepsis). +0.8 °C: a rise of 1 °C per hour read every 30 min gives one
  // reading ≥ +0.8 before one exceeds the 38.5 limit (+1.0 would sit on the reading at +1.0);
  // day-to-night variation (±0.25) stays well inside. One reading, as the 38.5 °C limit (no delay)
  // and NEWS2 treat temperature; a probe: 15 min. Judged on one reading, so the short baseline
  // first needs three readings (30 min of data: a probe also takes minutes to settle), lest one
  // falsely low reading (a thermometer not in place) in a baseline of two make the next normal
  // one look like a rise. Low priority: NEWS2 scores temperature ≤ 2.
  { parameter: 'temp', direction: 'up', change: 0.8, relative: false, sustainMs: 15 * MIN, priority: 'low', ...INTERMITTENT, confirmReadings: 1, minHistoryMs: 30 * MIN },
  // Falling blood pressure: shock (septic, haemorrhagic). −15 % (130 → 110), at least 15 mmHg: with
  // a cuff every 15 min a fall of 20 mmHg per hour is confirmed by two readings before SBP reaches
  // 90 (NEWS2 3, limit); at −20 % the second reading would often come with SBP ≤ 90. Two readings, as a
  // cuff reading can be wrong (movement); an arterial line: 10 min.
  { parameter: 'sbp', direction: 'down', change: 15, relative: true, minChange: 15, sustainMs: 10 * MIN, priority: 'medium', ...INTERMITTENT, minHistoryMs: 30 * MIN },
];

/** A parameter silent for longer than this has a gap: its fast average restarts. */
export const TREND_GAP_MS = 10 * MIN;
/** Intermittent rules: a condition is reported from a reading at most this old (RCP: 12-hourly). */
export const INTERMITTENT_STALE_MS = 12 * HOUR;
/** Silent for longer than this, a parameter starts over (its long history has run out). */
export const TREND_HISTORY_MS = 24 * HOUR;
/** Long baseline: bucket size, ring length (24 h), the window's recent end (4 h) and minimum data. */
export const LONG_BUCKET_MS = 30 * MIN;
export const LONG_BUCKETS = 48;
export const LONG_SKIP_BUCKETS = 8;
export const LONG_MIN_BUCKETS = 4;
/** Recent baseline: buckets 1–4 h before (indexes current − 7 … current − 2), at least 2 with data. */
export const RECENT_SKIP_BUCKETS = 2;
export const RECENT_MIN_BUCKETS = 2;
/**
 * A warm-up of at most this many readings (intermittent samples) ends with the median of them, not
 * the mean: one wrong reading among the first three must not become the baseline.
 */
export const WARM_READINGS = 3;
/** A reading moves the short baseline by at most alpha × this share of the rule's change. */
export const WINSOR_FRACTION = 0.5;
/**
 * Continuous parameters: the short baseline is held while the fast average is beyond this share of
 * the change in a rule's direction…
 */
export const HOLD_FRACTION = 0.25;
/** …for at most this long. */
export const HOLD_MAX_MS = 2 * HOUR;
/** RCP NEWS2 scale 2: top of the prescribed target range 88–92 %. */
export const SCALE2_TARGET_HIGH = 92;

/** The deviation of one rule, present only while the fast average is beyond its threshold. */
export interface TrendExceed {
  /** Time of the first reading of the deviation. */
  since: number;
  /** Readings of the deviation that were samples (each after a gap); streamed readings count by time. */
  samples: number;
}

export interface TrendParameterState {
  /** Short baseline (EWMA τ baselineTauMs). */
  baseline: number;
  /** Fast average (EWMA τ fastTauMs), restarted after a gap. */
  fast: number;
  /** Readings folded into the short baseline (counts the warm-up mean). */
  n: number;
  /**
   * The first readings (at most WARM_READINGS) while warming up; null once ready or when the
   * warm-up holds more readings (a stream, whose warm-up baseline is the mean).
   */
  warm: number[] | null;
  /** Data time behind the short baseline: the sum of min(dt, TREND_GAP_MS). */
  dataMs: number;
  lastTs: number;
  /** Continuous parameters: since when the short baseline has been held (see HOLD_FRACTION); else null. */
  holdSince: number | null;
  /** Last known air/oxygen status (SpO2 only; null = never known). */
  o2: boolean | null;
  /** Index (ts / LONG_BUCKET_MS) of the bucket being filled, and its sum and count. */
  bucket: number;
  bucketSum: number;
  bucketCount: number;
  /** Means of completed buckets, slot = index mod LONG_BUCKETS; −1 = no data. Never mutated. */
  means: number[];
  /** Recent baseline for `bucket` (median of the 1–4 h bucket means), or null without enough data. */
  recent: number | null;
  /** Long baseline for `bucket` (median of the 4–24 h bucket means), or null without enough data. */
  long: number | null;
  /** Deviations by rule key. */
  exceed: Record<string, TrendExceed>;
}

export interface TrendState {
  [parameter: string]: TrendParameterState;
}

export const EMPTY_TREND_STATE: TrendState = Object.freeze({}) as TrendState;

const EMPTY_RING: number[] = Object.freeze(new Array<number>(LONG_BUCKETS).fill(-1)) as number[];
const NO_EXCEED: Record<string, TrendExceed> = Object.freeze({}) as Record<string, TrendExceed>;

export function ruleKey(rule: TrendRule): string {
  return rule.key ?? `trend:${rule.parameter}`;
}

const grouped = new WeakMap<readonly TrendRule[], Map<TrendParameter, TrendRule[]>>();

/**
 * Rules with unique keys (the first wins), grouped by parameter in list order. Cached per list: a
 * rule list is configuration, treated as immutable.
 */
function rulesByParameter(rules: readonly TrendRule[]): Map<TrendParameter, TrendRule[]> {
  const cached = grouped.get(rules);
  if (cached) return cached;
  const seen = new Set<string>();
  const out = new Map<TrendParameter, TrendRule[]>();
  for (const r of rules) {
    const k = ruleKey(r);
    if (seen.has(k)) continue;
    seen.add(k);
    const list = out.get(r.parameter);
    if (list) list.push(r);
    else out.set(r.parameter, [r]);
  }
  grouped.set(rules, out);
  return out;
}

/** baseline ± change, in the rule's direction. */
export function trendThreshold(rule: TrendRule, baseline: number): number {
  const delta = rule.relative ? Math.max((Math.abs(baseline) * rule.change) / 100, rule.minChange ?? 0) : rule.change;
  return rule.direction === 'up' ? baseline + delta : baseline - delta;
}

/** The baseline a rule compares with: on SpO2 scale 2 a fall counts only from 92 down (RCP chart 1). */
function effectiveBaseline(rule: TrendRule, baseline: number, ctx: TrendContext): number {
  return rule.parameter === 'spo2' && rule.direction === 'down' && ctx.spo2Scale === 2 ? Math.min(baseline, SCALE2_TARGET_HIGH) : baseline;
}

function beyond(rule: TrendRule, value: number, threshold: number): boolean {
  return rule.direction === 'up' ? value >= threshold : value <= threshold;
}

function ewma(prev: number, value: number, dt: number, tau: number): number {
  return prev + (1 - Math.exp(-dt / tau)) * (value - prev);
}

const slot = (k: number) => ((k % LONG_BUCKETS) + LONG_BUCKETS) % LONG_BUCKETS;

function median(values: readonly number[]): number {
  const xs = [...values].sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** Median of the completed bucket means `from`–`to` buckets before bucket `current`, given enough of them. */
function bucketMedian(means: readonly number[], current: number, from: number, to: number, min: number): number | null {
  const xs: number[] = [];
  for (let k = current - to; k <= current - from; k++) {
    const m = means[slot(k)]!;
    if (m >= 0) xs.push(m);
  }
  if (xs.length < min) return null;
  return median(xs);
}

function fresh(ts: number, value: number, o2: boolean | null): TrendParameterState {
  return {
    baseline: value,
    fast: value,
    n: 1,
    warm: [value],
    dataMs: 0,
    lastTs: ts,
    holdSince: null,
    o2,
    bucket: Math.floor(ts / LONG_BUCKET_MS),
    bucketSum: value,
    bucketCount: 1,
    means: EMPTY_RING,
    recent: null,
    long: null,
    exceed: NO_EXCEED,
  };
}

type Buckets = Pick<TrendParameterState, 'bucket' | 'bucketSum' | 'bucketCount' | 'means' | 'recent' | 'long'>;

/** Fold `value` at `ts` into the 30-min buckets; a new bucket closes the old one and re-takes the medians. */
function addToBuckets(s: TrendParameterState, ts: number, value: number): Buckets {
  const k = Math.floor(ts / LONG_BUCKET_MS);
  if (k <= s.bucket) return { bucket: s.bucket, bucketSum: s.bucketSum + value, bucketCount: s.bucketCount + 1, means: s.means, recent: s.recent, long: s.long };
  const means = s.means.slice();
  // Two decimals are plenty for a median of 30-min means, and keep the state small as JSON.
  means[slot(s.bucket)] = s.bucketCount > 0 ? Math.round((s.bucketSum / s.bucketCount) * 100) / 100 : -1;
  // Buckets skipped over (no data) and the new one: empty. Over 24 h on, that clears them all.
  for (let j = s.bucket + 1; j <= Math.min(k, s.bucket + LONG_BUCKETS); j++) means[slot(j)] = -1;
  return {
    bucket: k,
    bucketSum: value,
    bucketCount: 1,
    means,
    recent: bucketMedian(means, k, RECENT_SKIP_BUCKETS, LONG_SKIP_BUCKETS - 1, RECENT_MIN_BUCKETS),
    long: bucketMedian(means, k, LONG_SKIP_BUCKETS, LONG_BUCKETS - 1, LONG_MIN_BUCKETS),
  };
}

function step(rules: readonly TrendRule[], prev: TrendParameterState | undefined, ts: number, value: number, ctx: TrendContext): TrendParameterState {
  const p = rules[0]!.parameter;
  const o2Now = p === 'spo2' ? ctx.onOxygen : null;
  if (!prev || ts - prev.lastTs > TREND_HISTORY_MS) return fresh(ts, value, o2Now);
  // SpO2 on oxygen is not comparable with SpO2 on air: a change of oxygen starts SpO2 over.
  if (o2Now !== null && prev.o2 !== null && o2Now !== prev.o2) return fresh(ts, value, o2Now);

  const cfg = rules[0]!;
  const dt = ts - prev.lastTs;
  const gap = dt > TREND_GAP_MS;
  const dtBase = Math.min(dt, TREND_GAP_MS);
  const fast = gap ? value : ewma(prev.fast, value, dt, cfg.fastTauMs);
  const n = Math.min(prev.n + 1, 1e9);
  const dataMs = prev.dataMs + dtBase;
  const buckets = addToBuckets(prev, ts, value);
  const ready = dataMs >= cfg.minHistoryMs;
  const o2 = o2Now ?? prev.o2;
  // The short baseline the reading is judged against: at the end of a warm-up of a few samples,
  // their median.
  const base = ready && prev.warm ? median(prev.warm) : prev.baseline;
  const warm = ready || !prev.warm || prev.warm.length >= WARM_READINGS ? null : [...prev.warm, value];

  let frozen = false;
  let held = false;
  let winsor = Infinity;
  let exceed = prev.exceed;
  let exceedCopied = false;
  for (const rule of rules) {
    let isBeyond = false;
    if (ready) {
      const b = effectiveBaseline(rule, base, ctx);
      const threshold = trendThreshold(rule, b);
      isBeyond = beyond(rule, fast, threshold);
      // Frozen also for a single reading beyond the threshold: otherwise the baseline creeps
      // after a step change during the minutes the fast average needs to get there.
      if (isBeyond || beyond(rule, value, threshold)) frozen = true;
      winsor = Math.min(winsor, WINSOR_FRACTION * Math.abs(threshold - b));
      if (!rule.intermittent && beyond(rule, fast, b + HOLD_FRACTION * (threshold - b))) held = true;
    }
    if (!isBeyond && buckets.recent !== null) isBeyond = beyond(rule, fast, trendThreshold(rule, effectiveBaseline(rule, buckets.recent, ctx)));
    if (!isBeyond && buckets.long !== null) isBeyond = beyond(rule, fast, trendThreshold(rule, effectiveBaseline(rule, buckets.long, ctx)));

    const key = ruleKey(rule);
    const was = prev.exceed[key];
    if (isBeyond) {
      // A reading after a gap is a sample (a cuff, a nurse, a sensor back); a stream counts by time.
      const next = was ? (gap ? { since: was.since, samples: was.samples + 1 } : was) : { since: ts, samples: gap ? 1 : 0 };
      if (next !== was) {
        if (!exceedCopied) (exceed = { ...exceed }), (exceedCopied = true);
        exceed[key] = next;
      }
    } else if (was) {
      if (!exceedCopied) (exceed = { ...exceed }), (exceedCopied = true);
      delete exceed[key];
    }
  }

  let baseline = base;
  let holdSince: number | null = null;
  if (!ready) {
    // Warm-up: the mean of the readings so far, never frozen (a frozen baseline built from a few
    // minutes of data would make its own false alarms; a probe settling on its first reading is
    // outweighed by the next ones).
    baseline += Math.max(1 - Math.exp(-dtBase / cfg.baselineTauMs), 1 / n) * (value - baseline);
  } else if (frozen) {
    holdSince = prev.holdSince;
  } else {
    if (held) holdSince = prev.holdSince ?? ts;
    if (holdSince === null || ts - holdSince >= HOLD_MAX_MS) {
      const toward = baseline + Math.min(winsor, Math.max(-winsor, value - baseline));
      baseline = ewma(baseline, toward, dtBase, cfg.baselineTauMs);
    }
  }

  return { baseline, fast, n, warm, dataMs, lastTs: ts, holdSince, o2, ...buckets, exceed: Object.keys(exceed).length === 0 ? NO_EXCEED : exceed };
}

/**
 * Fold one reading into the trend state. `ts` is its effective time (epoch ms); `values` holds its
 * numeric vitals; absent or non-finite values leave their parameter untouched. A reading not newer
 * than a parameter's last one is ignored for that parameter (late or duplicate delivery).
 */
export function updateTrends(
  state: TrendState,
  ts: number,
  values: Partial<Record<string, number>>,
  ctx: TrendContext,
  rules: TrendRule[] = DEFAULT_TREND_RULES,
): TrendState {
  let next: TrendState | null = null;
  for (const [p, list] of rulesByParameter(rules)) {
    const value = values[p];
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const prev = state[p];
    if (prev && ts <= prev.lastTs) continue;
    next ??= { ...state };
    next[p] = step(list, prev, ts, value, ctx);
  }
  return next ?? state;
}

const LABEL: Record<TrendParameter, string> = { hr: 'HR', spo2: 'SpO2', rr: 'RR', temp: 'Temp', sbp: 'SBP', dbp: 'DBP' };

/** As charted: one decimal for temperature, integers for the rest. */
function roundFor(parameter: TrendParameter, v: number): number {
  return parameter === 'temp' ? Math.round(v * 10) / 10 : Math.round(v);
}

function fmt(parameter: TrendParameter, v: number): string {
  return parameter === 'temp' ? roundFor(parameter, v).toFixed(1) : String(roundFor(parameter, v));
}

function signed(n: string): string {
  return n.startsWith('-') ? n : `+${n}`;
}

function minutes(ms: number): string {
  return `${Math.floor(ms / MIN)} min`;
}

/**
 * One condition per rule whose deviation holds now: continuous rules after `sustainMs` beyond the
 * threshold, while the parameter has been heard from within 10 min; intermittent rules once
 * confirmed by `confirmReadings` samples (or spanning `sustainMs`), from a reading at most 12 h old.
 * The baseline named is the short one when the fast average is beyond it, else the 1–4 h one, else
 * the 4–24 h one.
 */
export function trendConditions(state: TrendState, now: number, ctx: TrendContext, rules: TrendRule[] = DEFAULT_TREND_RULES): Condition[] {
  const out: Condition[] = [];
  for (const [p, list] of rulesByParameter(rules)) {
    const s = state[p];
    if (!s) continue;
    for (const rule of list) {
      const key = ruleKey(rule);
      const ex = s.exceed[key];
      if (!ex) continue;
      const age = now - s.lastTs;
      if (age > (rule.intermittent ? INTERMITTENT_STALE_MS : TREND_GAP_MS)) continue;
      const held = rule.intermittent ? s.lastTs - ex.since : now - ex.since;
      if (held < rule.sustainMs && !(rule.intermittent && ex.samples >= rule.confirmReadings)) continue;

      // Which baseline it is beyond (under the current context): the short one first.
      let baseline: number | null = null;
      let which = '';
      const short = s.dataMs >= list[0]!.minHistoryMs ? s.baseline : null;
      for (const [b, label] of [[short, ''], [s.recent, '1–4 h'], [s.long, '4–24 h']] as const) {
        if (b !== null && beyond(rule, s.fast, trendThreshold(rule, effectiveBaseline(rule, b, ctx)))) {
          baseline = b;
          which = label;
          break;
        }
      }
      if (baseline === null) continue;
      const b = effectiveBaseline(rule, baseline, ctx);
      const capped = b !== baseline;

      const threshold = trendThreshold(rule, b);
      // A relative rule whose floor applies reads as the absolute change it is.
      const floored = rule.relative && rule.minChange !== undefined && (Math.abs(b) * rule.change) / 100 < rule.minChange;
      const change = floored ? fmt(p, rule.minChange!) : rule.relative ? `${rule.change}%` : fmt(p, rule.change);
      const diff = rule.relative && b !== 0 ? `${signed(String(Math.round(((s.fast - b) / Math.abs(b)) * 100)))}%` : signed(fmt(p, s.fast - b));
      const cap = capped ? ` (SpO2 scale 2: baseline capped at ${SCALE2_TARGET_HIGH})` : '';
      const how = rule.intermittent ? `on ${rule.confirmReadings} reading${rule.confirmReadings === 1 ? '' : 's'} or for ${minutes(rule.sustainMs)}` : `for ${minutes(rule.sustainMs)}`;
      const span = `for ${minutes(Math.max(0, held))}${rule.intermittent && ex.samples > 0 ? `, ${ex.samples} reading${ex.samples === 1 ? '' : 's'}` : ''}`;
      out.push({
        key,
        kind: 'trend',
        category: 'physiological',
        priority: rule.priority,
        parameter: p,
        value: roundFor(p, s.fast),
        limit: Math.round(threshold * 10) / 10,
        rule: `${p} ${rule.direction} ≥${change} from baseline ${fmt(p, b)}${which ? ` (${which} baseline)` : ''}${cap} ${how}`,
        message:
          `${LABEL[p]} ${rule.direction === 'up' ? 'rising' : 'falling'}: ${fmt(p, s.fast)} ${PLAUSIBLE[p].unit}` +
          ` vs ${which ? `${which} ` : ''}baseline ${fmt(p, b)} (${diff}) ${span}`,
        delayMs: 0,
      });
    }
  }
  return out;
}
