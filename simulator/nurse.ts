// The simulated nurse's planning: when each bed gets a full set of observations, and what goes in
// it. Pure: times are passed in, the HTTP edge is simulator/nurse-runner.ts.
//
// Oxygen and consciousness are clinical assessments: devices do not send them (unless
// --device-assessments), so without a nurse the server's NEWS2 is partial. The nurse charts all
// seven NEWS2 parameters through POST /api/patients/{id}/observations:
// - a first round shortly after the start, bed by bed;
// - then per bed at the minimum monitoring frequency of RCP NEWS2 chart 4 for the score she charted
//   (0 → 12-hourly; 1–4 → 4-hourly; a single parameter 3 or 5–6 → hourly; ≥ 7 → continuous
//   monitoring, and she still charts a full set every 30 min), in scenario time, a minute early;
// - sooner when the score on the monitor calls for a shorter interval than the one she charted
//   (the next set then comes that interval after her last);
// - at once when the scenario changes the patient's oxygen or consciousness (she starts oxygen, or
//   finds the patient newly confused, and charts it);
// - within 5 scenario minutes (not within 15 of her last such response) when the patient's NEWS2
//   band, as she sees it on the monitor (the true values, without artifact), rises above the band
//   she last charted: she responds and reassesses.
import { scoreNews2 } from '../server/pipeline/score/news2.ts';
import type { News2Band } from '../server/domain/index.ts';
import type { Acvpu, NumericVital } from '../server/domain/index.ts';
import { observe, type PatientState } from './physiology.ts';
import type { Rng } from './rng.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

export const NURSE = {
  /** The first round starts this long (wall ms) after the nurse starts… */
  roundDelayMs: 3_000,
  /** …and visits one bed every roundPerBedMs (wall), the whole round taking at most roundMaxMs. */
  roundPerBedMs: 1_000,
  roundMaxMs: 60_000,
  /** NEWS2 ≥ 7 means continuous monitoring; the nurse still charts a full set this often (scenario ms). */
  continuousMs: 30 * MIN,
  /** How soon (scenario ms) she reassesses a patient whose band has risen on the monitor… */
  responseMs: 5 * MIN,
  /**
   * …but not sooner than this after a set that was itself such a response or an assessment
   * (scenario ms), so a value wavering on a band edge does not call her every few minutes.
   */
  minGapMs: 15 * MIN,
  /**
   * She charts a routine set this much early (wall ms; at most 5% of the interval): the server
   * counts her o2 and ACVPU only until the next set is due, so a set on the dot would leave them
   * stale for the second it takes to arrive.
   */
  earlyMs: 60_000,
  /** After a network failure, a 5xx or a 429 without Retry-After: try that bed again this much later (wall ms). */
  retryMs: 30_000,
  /** After a 400/422 (the set was refused as it stood): the next attempt, in scenario ms. */
  skipMs: HOUR,
} as const;

export type ObservationReason =
  /** the first round */
  | 'round'
  /** due by RCP NEWS2 chart 4 */
  | 'routine'
  /** the scenario changed oxygen or consciousness */
  | 'assessment'
  /** the NEWS2 band on the monitor rose above the one charted */
  | 'deterioration'
  /** a failed attempt, tried again */
  | 'retry';

export interface ChartedSet {
  /** Wall ms the set was taken. */
  at: number;
  /** Why it was taken. */
  reason: ObservationReason;
  o2: boolean;
  acvpu: Acvpu;
  total: number;
  band: News2Band;
}

/** The nurse's plan for one bed. */
export interface BedChart {
  /** Index of the bed in the fleet plan. */
  readonly index: number;
  /** Wall ms the next set is due, and why. */
  readonly dueAt: number;
  readonly reason: ObservationReason;
  /** What she last charted; null before the first set. */
  readonly last: ChartedSet | null;
  /** False once the patient is gone (404) or archived (409): no more sets. */
  readonly active: boolean;
}

/** What the nurse sees at a glance: the patient's oxygen, consciousness and NEWS2 right now. */
export interface Glance {
  o2: boolean;
  acvpu: Acvpu;
  total: number;
  band: News2Band;
}

const BAND_RANK: Record<News2Band, number> = { low: 0, 'low-medium': 1, medium: 2, high: 3 };

/**
 * Minimum interval between full sets, in scenario ms (RCP NEWS2 chart 4, the stricter end of each
 * range). Uses only the score's total and band.
 */
export function observationIntervalMs(score: { total: number; band: News2Band }): number {
  if (score.band === 'high' || score.total >= 7) return NURSE.continuousMs;
  if (score.band === 'medium' || score.band === 'low-medium' || score.total >= 5) return HOUR;
  if (score.total >= 1) return 4 * HOUR;
  return 12 * HOUR;
}

/** Wall ms from one set to the next for a chart-4 interval (scenario ms): interval / speed, a little early. */
export function scheduleMs(intervalMs: number, speed: number): number {
  const wall = intervalMs / speed;
  return wall - Math.min(NURSE.earlyMs, 0.05 * wall);
}

/** The first round: bed i of `count` at startMs + delayMs + i · (round length / count). */
export function firstRound(count: number, startMs: number, delayMs: number = NURSE.roundDelayMs): BedChart[] {
  const spread = Math.min(NURSE.roundMaxMs, count * NURSE.roundPerBedMs);
  return Array.from({ length: count }, (_, index) => ({
    index,
    dueAt: startMs + delayMs + (index * spread) / Math.max(1, count),
    reason: 'round',
    last: null,
    active: true,
  }));
}

/** NEWS2 total and band of numeric vitals with the given oxygen and consciousness. */
export function scoreOf(vitals: Partial<Record<NumericVital, number>>, o2: boolean, acvpu: Acvpu): { total: number; band: News2Band } {
  const { total, band } = scoreNews2({ ...vitals, o2, acvpu });
  return { total, band };
}

/**
 * Look at a bed at wall time `now`:
 * - a change of oxygen or consciousness makes a set due at once;
 * - a score on the monitor that calls for more frequent sets than the one charted (chart 4)
 *   brings the next set forward to that interval after the last one;
 * - a band risen above the one charted (low → low-medium, medium, high) makes a set due within
 *   NURSE.responseMs, but not within NURSE.minGapMs of a set that was itself such a response.
 * Before the first set nothing moves the first round; nothing moves a retry. Returns `chart`
 * itself when nothing changes.
 */
export function review(chart: BedChart, now: number, seen: Glance, speed: number): BedChart {
  const last = chart.last;
  // Before the first set the round comes anyway; after a failure the retry takes the new state.
  if (!chart.active || last === null || chart.reason === 'retry') return chart;
  if (seen.o2 !== last.o2 || seen.acvpu !== last.acvpu) {
    if (chart.dueAt <= now && chart.reason === 'assessment') return chart;
    return { ...chart, dueAt: Math.min(chart.dueAt, now), reason: 'assessment' };
  }
  if (chart.reason !== 'routine' && chart.reason !== 'deterioration') return chart;
  const seenEvery = observationIntervalMs(seen);
  if (seenEvery >= observationIntervalMs(last)) return chart;
  let target = last.at + scheduleMs(seenEvery, speed);
  if (BAND_RANK[seen.band] > BAND_RANK[last.band]) {
    const responded = last.reason === 'deterioration' || last.reason === 'assessment';
    target = Math.min(target, Math.max(now + NURSE.responseMs / speed, responded ? last.at + NURSE.minGapMs / speed : 0));
  }
  target = Math.max(target, now);
  return target < chart.dueAt ? { ...chart, dueAt: target, reason: 'deterioration' } : chart;
}

export const isDue = (chart: BedChart, now: number) => chart.active && now >= chart.dueAt;

export interface FullSet {
  vitals: Record<NumericVital, number>;
  o2: boolean;
  acvpu: Acvpu;
}

/** NEWS2 of a full set: never partial. */
export function scoreSet(set: FullSet): { total: number; band: News2Band } {
  const { total, band } = scoreNews2({ ...set.vitals, o2: set.o2, acvpu: set.acvpu });
  return { total, band };
}

/** After the server accepted a set taken at wall time `now`: the next one per chart 4. */
export function charted(chart: BedChart, now: number, set: FullSet, speed: number): BedChart {
  const score = scoreSet(set);
  return {
    ...chart,
    last: { at: now, reason: chart.reason, o2: set.o2, acvpu: set.acvpu, total: score.total, band: score.band },
    dueAt: now + scheduleMs(observationIntervalMs(score), speed),
    reason: 'routine',
  };
}

/**
 * One look at a bed at wall time `now`: the chart reviewed against what she sees (the patient's
 * true values, o2 and ACVPU), and, when a set is due, the full set she takes (with her own small
 * measurement error from `rng`); null when none is due.
 */
export function lookAt(chart: BedChart, state: PatientState, now: number, rng: Rng): { chart: BedChart; set: FullSet | null } {
  const glance = observe(state, now);
  const reviewed = review(chart, now, { o2: glance.o2, acvpu: glance.acvpu, ...scoreOf(glance.vitals, glance.o2, glance.acvpu) }, state.speed);
  if (!isDue(reviewed, now)) return { chart: reviewed, set: null };
  const taken = observe(state, now, rng);
  return { chart: reviewed, set: { vitals: taken.vitals, o2: taken.o2, acvpu: taken.acvpu } };
}

export interface PlannedSet {
  /** Position of the bed in the list given. */
  bed: number;
  /** Wall ms. */
  at: number;
  reason: ObservationReason;
  body: ObservationBody;
  total: number;
  band: News2Band;
}

/**
 * The nurse's sets over wall time [startMs, endMs), looking at every bed each `checkMs`, with the
 * server accepting every set: what startNurse (nurse-runner.ts) does, without the HTTP.
 * `state(bed, t)` is the bed's patient at wall time t.
 */
export function dryRun(
  beds: number,
  state: (bed: number, t: number) => PatientState,
  rngs: readonly Rng[],
  startMs: number,
  endMs: number,
  checkMs = 1000,
): PlannedSet[] {
  let charts = firstRound(beds, startMs);
  const out: PlannedSet[] = [];
  for (let t = startMs; t < endMs; t += checkMs) {
    charts = charts.map((c, i) => {
      const s = state(i, t);
      const { chart, set } = lookAt(c, s, t, rngs[i]!);
      if (!set) return chart;
      const score = scoreSet(set);
      out.push({ bed: i, at: t, reason: chart.reason, body: observationBody(t, set), total: score.total, band: score.band });
      return charted(chart, t, set, s.speed);
    });
  }
  return out;
}

/** What to do after a refusal or failure of POST …/observations. */
export type FailureAction =
  /** log in again and retry the bed at once (401: token expired) */
  | 'relogin'
  /** retry the bed later (network, 5xx, 429) */
  | 'retry'
  /** the set was refused as it stood (400, 422, other 4xx): log, try again at the next interval */
  | 'skip'
  /** the patient is gone or archived (404, 409): stop observing this bed */
  | 'drop'
  /** the account may not record observations (403): the nurse stops; the fleet goes on */
  | 'stop';

/** `status` 0 for a network failure. */
export function failureAction(status: number): FailureAction {
  if (status === 0 || status >= 500 || status === 429 || status === 408) return 'retry';
  if (status === 401) return 'relogin';
  if (status === 403) return 'stop';
  if (status === 404 || status === 409 || status === 410) return 'drop';
  return 'skip';
}

/** The chart after a failed attempt at wall time `now`. `retryAfterMs` from a Retry-After header. */
export function afterFailure(chart: BedChart, now: number, action: FailureAction, speed: number, retryAfterMs?: number): BedChart {
  switch (action) {
    case 'retry':
    case 'relogin':
      return { ...chart, dueAt: now + (retryAfterMs ?? NURSE.retryMs), reason: chart.reason === 'round' ? 'round' : 'retry' };
    case 'skip':
      return { ...chart, dueAt: now + NURSE.skipMs / speed, reason: 'retry' };
    case 'drop':
    case 'stop':
      return { ...chart, active: false };
  }
}

export interface ObservationBody {
  ts: number;
  hr: number;
  spo2: number;
  rr: number;
  temp: number;
  sbp: number;
  dbp: number;
  o2: boolean;
  acvpu: Acvpu;
}

/** The body of POST /api/patients/{id}/observations: the device payload format, all seven NEWS2 parameters (and dbp). */
export function observationBody(ts: number, set: FullSet): ObservationBody {
  const v = set.vitals;
  return { ts, hr: v.hr, spo2: v.spo2, rr: v.rr, temp: v.temp, sbp: v.sbp, dbp: v.dbp, o2: set.o2, acvpu: set.acvpu };
}

/** "12 h", "30 min", "1 h 30 min". */
export function formatInterval(ms: number): string {
  const total = Math.round(ms / MIN);
  if (total < 60) return `${total} min`;
  const h = Math.floor(total / 60);
  const m = total % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** One log line about a recorded set. */
export function describeSet(bed: string, scenario: string, reason: ObservationReason, set: FullSet, speed: number): string {
  const score = scoreSet(set);
  const every = observationIntervalMs(score);
  const wall = speed === 1 ? '' : ` (${formatInterval(every / speed)} at ×${speed})`;
  const why: Record<ObservationReason, string> = {
    round: 'first round',
    routine: 'due',
    assessment: 'oxygen/consciousness changed',
    deterioration: 'score rising on the monitor',
    retry: 'retried',
  };
  return (
    `nurse: ${bed} (${scenario}) ${why[reason]}: ${set.o2 ? 'on O2' : 'on air'}, ACVPU ${set.acvpu}, ` +
    `NEWS2 ${score.total} ${score.band} → next in ${formatInterval(every)}${wall}`
  );
}
