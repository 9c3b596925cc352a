// Manual observations due: RCP NEWS2 (2017) chart 4, clinical response: minimum frequency of monitoring.
// Pure: the time is passed in.
import type { Condition } from './model.ts';
import type { News2Band } from '../score/news2.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

export type ObservationInterval = number | 'continuous';

export interface ObservationDue {
  /** Epoch ms the next manual observation set is due; null under continuous monitoring. */
  dueAt: number | null;
  interval: ObservationInterval;
}

/**
 * Minimum monitoring frequency, in ms, from the latest NEWS2 score (RCP NEWS2 chart 4):
 * - total 0 → 12-hourly;
 * - total 1–4 → 4–6-hourly, here the stricter 4 h;
 * - a single parameter scoring 3 (band 'low-medium') or total 5–6 → hourly;
 * - total ≥ 7 → continuous monitoring of vital signs: no manual-observation countdown.
 * No score yet (null) → hourly: the patient's state is unknown, so observe soon rather than
 * wait out the 12 h a zero score would allow.
 */
export function observationInterval(score: { total: number; band: News2Band } | null): ObservationInterval {
  if (score === null) return HOUR;
  if (score.band === 'high' || score.total >= 7) return 'continuous';
  if (score.band === 'medium' || score.band === 'low-medium' || score.total >= 5) return HOUR;
  if (score.total >= 1) return 4 * HOUR;
  return 12 * HOUR;
}

/** When the next manual observation set is due, counted from the last one (or from admission). */
export function observationDue(
  lastManualAt: number | null,
  admittedAt: number,
  score: { total: number; band: News2Band } | null,
): ObservationDue {
  const interval = observationInterval(score);
  if (interval === 'continuous') return { dueAt: null, interval };
  return { dueAt: (lastManualAt ?? admittedAt) + interval, interval };
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
export function obsDueCondition(due: ObservationDue, now: number): Condition | null {
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
    message: `Observations overdue by ${formatSpan(overdueMs)} (due every ${every})`,
    delayMs: 0,
  };
}
