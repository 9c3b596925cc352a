// Trend alarms: a sustained change from the patient's own recent baseline, so deterioration is
// seen before a fixed limit is crossed. Pure: no clock (time is passed in), no I/O; inputs are
// never mutated.
//
// Per parameter two time-aware EWMAs run side by side (alpha = 1 − exp(−dt/τ), so irregular
// sampling weighs correctly): a slow one (the baseline, τ 45 min) and a fast one (τ 2 min, which
// smooths single-reading noise). The rule's threshold is baseline ± change; while the fast average
// (or the reading itself) sits beyond it the baseline is frozen, so a sustained change does not
// become the new normal. A sustained step of at least `change` therefore always fires, after the
// fast average's lag plus `sustainMs`.
import type { Condition } from './model.ts';
import { PLAUSIBLE } from '../vitals.ts';

export type TrendParameter = 'hr' | 'spo2' | 'rr' | 'temp' | 'sbp';

export interface TrendRule {
  parameter: TrendParameter;
  direction: 'up' | 'down';
  /** Percent of the baseline when `relative`, else in the parameter's own unit. */
  change: number;
  relative: boolean;
  /** How long the fast average must stay beyond the threshold before the condition holds. */
  sustainMs: number;
  baselineTauMs: number;
  fastTauMs: number;
  /** Warm-up: the baseline is learned for this long before deviations from it count. */
  minHistoryMs: number;
  priority: 'low' | 'medium';
}

const MIN = 60_000;
const COMMON = { baselineTauMs: 45 * MIN, fastTauMs: 2 * MIN, minHistoryMs: 20 * MIN } as const;

export const DEFAULT_TREND_RULES: TrendRule[] = [
  { parameter: 'hr', direction: 'up', change: 20, relative: true, sustainMs: 10 * MIN, priority: 'medium', ...COMMON },
  { parameter: 'spo2', direction: 'down', change: 3, relative: false, sustainMs: 15 * MIN, priority: 'medium', ...COMMON },
  { parameter: 'rr', direction: 'up', change: 30, relative: true, sustainMs: 10 * MIN, priority: 'low', ...COMMON },
  { parameter: 'temp', direction: 'up', change: 1.0, relative: false, sustainMs: 30 * MIN, priority: 'low', ...COMMON },
  { parameter: 'sbp', direction: 'down', change: 20, relative: true, sustainMs: 10 * MIN, priority: 'medium', ...COMMON },
];

/** A parameter silent for longer than this starts over: a stale baseline must not fire. */
export const TREND_GAP_MS = 10 * MIN;

export interface TrendParameterState {
  baseline: number;
  fast: number;
  /** First reading of the current (gap-free) history. */
  firstTs: number;
  lastTs: number;
  /** Reading time at which the fast average crossed the threshold; null while inside it. */
  exceedSince: number | null;
}

export interface TrendState {
  [parameter: string]: TrendParameterState;
}

export const EMPTY_TREND_STATE: TrendState = {};

/**
 * The state is keyed by parameter, so one rule per parameter: when a list holds several rules for
 * one parameter, the first one wins.
 */
function rulesByParameter(rules: readonly TrendRule[]): TrendRule[] {
  const seen = new Set<string>();
  return rules.filter((r) => (seen.has(r.parameter) ? false : (seen.add(r.parameter), true)));
}

/** baseline ± change, in the rule's direction. */
export function trendThreshold(rule: TrendRule, baseline: number): number {
  const delta = rule.relative ? (Math.abs(baseline) * rule.change) / 100 : rule.change;
  return rule.direction === 'up' ? baseline + delta : baseline - delta;
}

function beyond(rule: TrendRule, value: number, threshold: number): boolean {
  return rule.direction === 'up' ? value >= threshold : value <= threshold;
}

function ewma(prev: number, value: number, dt: number, tau: number): number {
  return prev + (1 - Math.exp(-dt / tau)) * (value - prev);
}

function step(rule: TrendRule, s: TrendParameterState, ts: number, value: number): TrendParameterState {
  const dt = ts - s.lastTs;
  const fast = ewma(s.fast, value, dt, rule.fastTauMs);
  const history = ts - s.firstTs;

  if (history < rule.minHistoryMs) {
    // Warm-up. The baseline is the time-weighted mean of the history so far (a plain EWMA started
    // from the first reading would keep that one reading — often a probe still settling — as the
    // baseline for most of an hour), it is never frozen, and deviations are not yet tracked: a
    // frozen baseline built from a few minutes of data would make its own false alarms.
    const alpha = Math.max(1 - Math.exp(-dt / rule.baselineTauMs), dt / history);
    return { baseline: s.baseline + alpha * (value - s.baseline), fast, firstTs: s.firstTs, lastTs: ts, exceedSince: null };
  }

  const threshold = trendThreshold(rule, s.baseline);
  const fastBeyond = beyond(rule, fast, threshold);
  // Frozen while the fast average is beyond the threshold, and also for a single reading beyond
  // it: otherwise the baseline creeps after a step change during the minutes the fast average
  // needs to get there, and a step a little larger than `change` (temp 36.8 → 38.0) never fires.
  // Noise that far out is rare, and skipping it only pauses the baseline.
  const frozen = fastBeyond || beyond(rule, value, threshold);
  return {
    baseline: frozen ? s.baseline : ewma(s.baseline, value, dt, rule.baselineTauMs),
    fast,
    firstTs: s.firstTs,
    lastTs: ts,
    exceedSince: fastBeyond ? (s.exceedSince ?? ts) : null,
  };
}

/**
 * Fold one reading into the trend state. `values` holds the numeric vitals of the reading; absent
 * or non-finite values leave their parameter untouched. A reading not newer than a parameter's
 * last one is ignored for that parameter (late or duplicate delivery).
 */
export function updateTrends(
  state: TrendState,
  ts: number,
  values: Partial<Record<string, number>>,
  rules: TrendRule[] = DEFAULT_TREND_RULES,
): TrendState {
  const next: TrendState = { ...state };
  for (const rule of rulesByParameter(rules)) {
    const p = rule.parameter;
    let s = next[p];
    if (s && ts - s.lastTs > TREND_GAP_MS) {
      // Silent too long: forget it, whether or not a value arrives now.
      delete next[p];
      s = undefined;
    }
    const value = values[p];
    if (value === undefined || !Number.isFinite(value)) continue;
    if (!s) {
      next[p] = { baseline: value, fast: value, firstTs: ts, lastTs: ts, exceedSince: null };
    } else if (ts > s.lastTs) {
      next[p] = step(rule, s, ts, value);
    }
  }
  return next;
}

const LABEL: Record<TrendParameter, string> = { hr: 'HR', spo2: 'SpO2', rr: 'RR', temp: 'Temp', sbp: 'SBP' };

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
 * One condition per rule whose deviation has held for `sustainMs`, after at least `minHistoryMs`
 * of history, and whose parameter has been heard from within the gap limit.
 */
export function trendConditions(state: TrendState, now: number, rules: TrendRule[] = DEFAULT_TREND_RULES): Condition[] {
  const out: Condition[] = [];
  for (const rule of rulesByParameter(rules)) {
    const p = rule.parameter;
    const s = state[p];
    if (!s || s.exceedSince === null) continue;
    if (now - s.lastTs > TREND_GAP_MS) continue;
    if (now - s.firstTs < rule.minHistoryMs) continue;
    const held = now - s.exceedSince;
    if (held < rule.sustainMs) continue;

    const threshold = trendThreshold(rule, s.baseline);
    const change = rule.relative ? `${rule.change}%` : fmt(p, rule.change);
    const diff = rule.relative && s.baseline !== 0
      ? `${signed(String(Math.round(((s.fast - s.baseline) / Math.abs(s.baseline)) * 100)))}%`
      : signed(fmt(p, s.fast - s.baseline));
    out.push({
      key: `trend:${p}`,
      kind: 'trend',
      category: 'physiological',
      priority: rule.priority,
      parameter: p,
      value: roundFor(p, s.fast),
      limit: Math.round(threshold * 10) / 10,
      rule: `${p} ${rule.direction} ≥${change} from baseline ${fmt(p, s.baseline)} for ${minutes(rule.sustainMs)}`,
      message:
        `${LABEL[p]} ${rule.direction === 'up' ? 'rising' : 'falling'}: ${fmt(p, s.fast)} ${PLAUSIBLE[p].unit}` +
        ` vs baseline ${fmt(p, s.baseline)} (${diff}) for ${minutes(held)}`,
      delayMs: 0,
    });
  }
  return out;
}
