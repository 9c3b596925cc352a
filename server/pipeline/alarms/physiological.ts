// Physiological alarm conditions: per-patient limits (with delay and hysteresis) and NEWS2 bands
// (with the RCP's recommended response). Pure: the caller passes fresh values, the score and
// what is open now.
import { NUMERIC_VITALS, type NumericVital, type VitalValues } from '../../domain/vitals.ts';
import { effectiveLimits } from '../score/limits.ts';
import type { AlarmLimits } from '../../domain/alarms.ts';
import { bandOfThreshold, maxSubScore } from '../score/news2.ts';
import { BAND_RANK, BAND_THRESHOLD, type News2Band, type News2Result } from '../../domain/news2.ts';
import type { AlarmPriority, Condition } from '../../domain/alarms.ts';

export interface LimitPolicy {
  /** The violation must hold this long before the alarm fires. */
  delayMs: Record<NumericVital, number>;
  /** Once open, the alarm clears only when the value is back inside the limit by this margin. */
  margin: Record<NumericVital, number>;
  /** Beyond these the alarm is high priority instead of medium. */
  extreme: Partial<Record<NumericVital, { low?: number; high?: number }>>;
}

export const DEFAULT_LIMIT_POLICY: LimitPolicy = {
  // Continuous signals are noisy: 10 s of violation before alarming. Intermittent ones (NIBP,
  // temperature) arrive seldom and mean what they say at once.
  delayMs: { hr: 10_000, spo2: 10_000, rr: 10_000, temp: 0, sbp: 0, dbp: 0 },
  margin: { hr: 5, spo2: 2, rr: 2, temp: 0.3, sbp: 5, dbp: 5 },
  extreme: { hr: { low: 40, high: 150 }, spo2: { low: 85 }, rr: { low: 6, high: 35 }, sbp: { low: 80, high: 220 } },
};

const NAMES: Record<NumericVital, string> = { hr: 'Heart rate', spo2: 'SpO2', rr: 'Respiration rate', temp: 'Temperature', sbp: 'Systolic BP', dbp: 'Diastolic BP' };
const UNITS: Record<NumericVital, string> = { hr: '/min', spo2: '%', rr: '/min', temp: '°C', sbp: 'mmHg', dbp: 'mmHg' };

/** What is open now, by condition key: its limit and value tell which side it fired on. */
export type OpenView = Record<string, { limit: number | null; value: number | null; priority: AlarmPriority }>;

export function limitConditions(
  values: VitalValues,
  overrides: AlarmLimits | null,
  open: OpenView,
  policy: LimitPolicy = DEFAULT_LIMIT_POLICY,
  spo2Scale: 1 | 2 = 1,
): Condition[] {
  const limits = effectiveLimits(overrides, spo2Scale);
  const out: Condition[] = [];
  for (const p of NUMERIC_VITALS) {
    const value = values[p];
    if (value === undefined) continue;
    const { low, high } = limits[p];
    const key = `limit:${p}`;
    const was = open[key];
    const margin = policy.margin[p];
    let side: 'low' | 'high' | null = null;
    if (low !== undefined && value < low) side = 'low';
    else if (high !== undefined && value > high) side = 'high';
    else if (was && was.limit !== null && was.value !== null) {
      // Hysteresis: an open alarm holds until the value is back inside by the margin.
      // Which side it fired on: the limit it carries says (its value may now sit in the margin).
      const firedLow = was.limit === low ? true : was.limit === high ? false : was.value < was.limit;
      if (firedLow && low !== undefined && value < low + margin) side = 'low';
      if (!firedLow && high !== undefined && value > high - margin) side = 'high';
    }
    if (!side) continue;
    const limit = side === 'low' ? low! : high!;
    const ext = policy.extreme[p];
    // Once high, it stays high until the value is back from the extreme by the margin too:
    // no flipping between medium and high on every reading of a value hovering at the edge.
    const slack = was?.priority === 'high' ? margin : 0;
    const extreme =
      side === 'low' ? ext?.low !== undefined && value <= ext.low + slack : ext?.high !== undefined && value >= ext.high - slack;
    const delay = policy.delayMs[p];
    out.push({
      key,
      kind: 'limit',
      category: 'physiological',
      priority: extreme ? 'high' : 'medium',
      parameter: p,
      value,
      limit,
      rule: `${p} ${side === 'low' ? '<' : '>'} ${limit}${delay ? ` for ${delay / 1000} s` : ''}`,
      message: `${NAMES[p]} ${side} ${value} ${UNITS[p]} (limit ${limit})`,
      delayMs: delay,
    });
  }
  return out;
}

// RCP NEWS2 (2017), chart 4: clinical response to the NEWS2 trigger thresholds.
export const NEWS2_RESPONSE: Record<News2Band, string> = {
  low: 'ward-based response: assessment by a registered nurse',
  'low-medium': 'urgent ward-based response: a registered nurse to inform the medical team',
  medium: 'urgent response: inform the medical team immediately; at least hourly observations',
  high: 'emergency response: inform the medical team immediately; assessment by a critical-care team; continuous monitoring',
};

export interface News2Policy {
  /**
   * Priority of the alarm when a single parameter scores 3 and the total is 0–4 (RCP chart 4:
   * "urgent ward-based response"). Medium by default: the RCP asks for a registered nurse to
   * inform the medical team, the same urgency class as a total of 5–6.
   */
  singleThreePriority: AlarmPriority;
}

export const DEFAULT_NEWS2_POLICY: News2Policy = { singleThreePriority: 'medium' };

const BAND_RULE: Record<News2Band, string> = { low: 'NEWS2 0–4', 'low-medium': 'a single NEWS2 parameter scores 3', medium: 'NEWS2 5–6', high: 'NEWS2 ≥ 7' };

function bandPriority(band: News2Band, policy: News2Policy): AlarmPriority | null {
  if (band === 'high') return 'high';
  if (band === 'medium') return 'medium';
  if (band === 'low-medium') return policy.singleThreePriority;
  return null;
}

/**
 * Hysteresis (RCP chart 2 bands, one step of slack): an open alarm steps down a band only once the
 * score is clearly below it — high (≥ 7) holds while the total is ≥ 6, medium (≥ 5) while ≥ 4, and
 * low-medium (a single 3) while some parameter still scores ≥ 2 — so a score bouncing on an edge
 * does not open and close alarms, or restart escalation, on every reading.
 */
function holdsBand(band: News2Band, score: News2Result): boolean {
  if (band === 'high') return score.total >= 6;
  if (band === 'medium') return score.total >= 4;
  if (band === 'low-medium') return maxSubScore(score) >= 2;
  return false;
}

/**
 * NEWS2 band alarms (RCP chart 2 thresholds, chart 4 responses), immediate: the score is computed
 * from persistence-filtered values (the median of the last minute of each streamed parameter), so
 * an artefact cannot drive it. A score from partial data (a stale or missing parameter) never
 * lowers an open NEWS2 alarm: absent data is not recovery.
 */
export function news2Conditions(score: News2Result | null, open: OpenView, policy: News2Policy = DEFAULT_NEWS2_POLICY): Condition[] {
  const was = open['news2:total'];
  // The band's trigger is kept as the alarm's `limit`: it tells which band an open alarm is in.
  const wasBand = was ? bandOfThreshold(was.limit) : null;
  if (!score) return was && wasBand ? [hold(was, wasBand, policy, 'no current score')] : [];
  const lower = wasBand !== null && BAND_RANK[score.band] < BAND_RANK[wasBand];
  if (was && wasBand && lower) {
    if (score.partial) return [hold(was, wasBand, policy, `now ${score.total} from partial data`)];
    if (holdsBand(wasBand, score)) return [hold({ ...was, value: score.total }, wasBand, policy, `now ${score.total}, within 1 of the threshold`)];
  }
  const priority = bandPriority(score.band, policy);
  if (!priority) return [];
  const missing = score.partial ? `; missing ${score.missing.join(', ')}` : '';
  return [
    {
      key: 'news2:total',
      kind: 'news2',
      category: 'physiological',
      priority,
      parameter: 'news2',
      value: score.total,
      limit: BAND_THRESHOLD[score.band] ?? null,
      rule: BAND_RULE[score.band],
      message: `NEWS2 ${score.partial ? '≥ ' : ''}${score.total} (${score.band}${missing}): ${NEWS2_RESPONSE[score.band]}`,
      delayMs: 0,
    },
  ];
}

function hold(was: OpenView[string], band: News2Band, policy: News2Policy, why: string): Condition {
  return {
    key: 'news2:total',
    kind: 'news2',
    category: 'physiological',
    priority: bandPriority(band, policy) ?? was.priority,
    parameter: 'news2',
    value: was.value,
    limit: was.limit,
    rule: BAND_RULE[band],
    message: `NEWS2 ${was.value} (${band}; ${why}): ${NEWS2_RESPONSE[band]}`,
    delayMs: 0,
  };
}
