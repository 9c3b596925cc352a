// Manual observations due: RCP NEWS2 (2017) chart 4, clinical response: minimum frequency of monitoring.
// Pure: the time is passed in.
import type { Condition } from '../../domain/alarms.ts';
import type { News2Band, ObservationInterval, ObservationsDue } from '../../domain/news2.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** A patient at NEWS2 ≥ 7 without a streaming device is reminded this often (see below). */
export const HIGH_WITHOUT_DEVICE_MS = 30 * MIN;

export interface ScoreForInterval {
  total: number;
  band: News2Band;
  /** The score lacks a parameter (a lower bound of the full score). */
  partial?: boolean;
}

/**
 * Minimum monitoring frequency, in ms, from the latest NEWS2 score (RCP NEWS2 chart 4):
 * - total 0 → 12-hourly;
 * - total 1–4 → 4–6-hourly, here the stricter 4 h;
 * - a single parameter scoring 3 (band 'low-medium') or total 5–6 → hourly;
 * - total ≥ 7 → continuous monitoring of vital signs: no manual countdown while a device streams;
 *   without one nobody monitors continuously, so a reminder every 30 minutes.
 * Never relaxed by what is unknown:
 * - no score yet (null) → hourly: the patient's state is unknown, so observe soon;
 * - a partial score → at most hourly: any missing parameter may score 3 (oxygen 2), and a single
 *   3 already calls for hourly observations; a known total of 5 or more keeps its own interval.
 */
export function observationInterval(score: ScoreForInterval | null, streaming = true): ObservationInterval {
  if (score === null) return HOUR;
  if (score.band === 'high' || score.total >= 7) return streaming ? 'continuous' : HIGH_WITHOUT_DEVICE_MS;
  if (score.band === 'medium' || score.band === 'low-medium' || score.total >= 5) return HOUR;
  if (score.partial) return HOUR;
  if (score.total >= 1) return 4 * HOUR;
  return 12 * HOUR;
}

/** The interval as a span (continuous monitoring counts as the 30-minute reminder). */
export function intervalMs(interval: ObservationInterval): number {
  return interval === 'continuous' ? HIGH_WITHOUT_DEVICE_MS : interval;
}

/**
 * When the next manual observation set is due, counted from the last *full* set (all seven
 * parameters) or, without one, from when monitoring began.
 */
export function observationDue(
  lastFullSetAt: number | null,
  admittedAt: number,
  score: ScoreForInterval | null,
  streaming = true,
): ObservationsDue {
  const interval = observationInterval(score, streaming);
  if (interval === 'continuous') return { dueAt: null, interval };
  return { dueAt: (lastFullSetAt ?? admittedAt) + interval, interval };
}

/** "25 min", "1 h", "2 h 5 min". */
function formatSpan(ms: number): string {
  const total = Math.floor(ms / MIN);
  if (total < 1) return '< 1 min';
  const h = Math.floor(total / 60);
  const m = total % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}

/** A low-priority reminder once the due time has passed; null while not due or under continuous monitoring. */
export function obsDueCondition(due: ObservationsDue, now: number): Condition | null {
  if (due.dueAt === null || due.interval === 'continuous' || now <= due.dueAt) return null;
  const overdueMs = now - due.dueAt;
  const every = formatSpan(due.interval);
  return {
    key: 'obs-due',
    kind: 'obs-due',
    category: 'physiological',
    priority: 'low',
    parameter: null,
    value: Math.floor(overdueMs / MIN),
    limit: due.interval / MIN,
    rule: `observations every ${every} (RCP NEWS2 chart 4)`,
    message: `Observations overdue by ${formatSpan(overdueMs)} (full set due every ${every})`,
    delayMs: 0,
  };
}
