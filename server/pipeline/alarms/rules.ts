// Physiological alarm rules for one patient: a pure step from (open alarms, fresh values, score)
// to (open alarms, changes). One open alarm per kind and parameter (deduplication): a repeated
// violation updates the open alarm instead of opening a new one.
import type { News2Band, News2Result } from '../score/news2.ts';
import { limitViolations, type AlarmLimits, effectiveLimits } from '../score/limits.ts';
import type { VitalValues } from '../vitals.ts';

export type AlertPriority = 'high' | 'medium' | 'low';
export type AlertState = 'active' | 'resolved';
export type AlertKind = 'limit' | 'news2';

export interface Alert {
  id: string;
  patientId: string;
  kind: AlertKind;
  category: 'physiological' | 'technical';
  parameter: string | null;
  value: number | null;
  /** The crossed limit, or the NEWS2 total threshold of the band. */
  limit: number | null;
  priority: AlertPriority;
  state: AlertState;
  message: string;
  /** Start, epoch ms. */
  ts: number;
  endedAt: number | null;
  updatedAt: number;
}

export interface AlarmState {
  open: Record<string, Alert>;
}
export const EMPTY_ALARM_STATE: AlarmState = { open: {} };

export interface AlarmInput {
  patientId: string;
  now: number;
  values: VitalValues;
  score: News2Result | null;
  limits: AlarmLimits | null;
}

// RCP NEWS2, chart 4: clinical response to NEWS2 trigger thresholds.
export const NEWS2_RESPONSE: Record<News2Band, string> = {
  low: 'ward-based response: assessment by a registered nurse',
  'low-medium': 'urgent ward-based response: a registered nurse to inform the medical team',
  medium: 'key threshold for urgent response: inform the medical team immediately',
  high: 'urgent or emergency response: inform the medical team immediately; assessment by a critical-care team; continuous monitoring',
};

const PRIORITY_RANK: Record<AlertPriority, number> = { low: 0, medium: 1, high: 2 };
const BAND_PRIORITY: Partial<Record<News2Band, AlertPriority>> = { medium: 'medium', high: 'high' };
const BAND_THRESHOLD: Record<News2Band, number> = { low: 0, 'low-medium': 0, medium: 5, high: 7 };

const UNITS: Record<string, string> = { hr: '/min', spo2: '%', rr: '/min', temp: '°C', sbp: 'mmHg', dbp: 'mmHg' };
const NAMES: Record<string, string> = { hr: 'Heart rate', spo2: 'SpO2', rr: 'Respiration rate', temp: 'Temperature', sbp: 'Systolic BP', dbp: 'Diastolic BP' };

export function stepAlarms(
  state: AlarmState,
  input: AlarmInput,
  newId: () => string,
): { state: AlarmState; changes: Alert[] } {
  const open = { ...state.open };
  const changes: Alert[] = [];
  const wanted = new Map<string, Omit<Alert, 'id' | 'ts' | 'state' | 'endedAt' | 'updatedAt'>>();

  for (const v of limitViolations(effectiveLimits(input.limits), input.values)) {
    wanted.set(`limit:${v.parameter}`, {
      patientId: input.patientId,
      kind: 'limit',
      category: 'physiological',
      parameter: v.parameter,
      value: v.value,
      limit: v.limit,
      priority: 'medium',
      message: `${NAMES[v.parameter]} ${v.direction} ${v.value} ${UNITS[v.parameter]} (limit ${v.limit})`,
    });
  }

  const band = input.score?.band;
  const priority = band ? BAND_PRIORITY[band] : undefined;
  if (band && priority && input.score) {
    wanted.set('news2:total', {
      patientId: input.patientId,
      kind: 'news2',
      category: 'physiological',
      parameter: 'news2',
      value: input.score.total,
      limit: BAND_THRESHOLD[band],
      priority,
      message: `NEWS2 ${input.score.total} (${band}${input.score.partial ? ', partial' : ''}): ${NEWS2_RESPONSE[band]}`,
    });
  }

  // Open or update what is wanted.
  for (const [key, want] of wanted) {
    const current = open[key];
    if (current && key === 'news2:total' && input.score?.partial && PRIORITY_RANK[want.priority] < PRIORITY_RANK[current.priority]) {
      continue; // no de-escalation from partial data
    }
    if (!current) {
      const alert: Alert = { ...want, id: newId(), ts: input.now, state: 'active', endedAt: null, updatedAt: input.now };
      open[key] = alert;
      changes.push(alert);
    } else {
      // The same violation again is not news: keep the latest value quietly. A change of
      // priority, or of the NEWS2 total, is pushed.
      const updated: Alert = { ...current, ...want, updatedAt: input.now };
      open[key] = updated;
      if (
        current.priority !== want.priority ||
        current.limit !== want.limit || // crossed the other limit (high → low)
        (key === 'news2:total' && current.value !== want.value)
      ) {
        changes.push(updated);
      }
    }
  }

  // Resolve what is no longer violated. A limit alarm whose parameter has no fresh value stays
  // open: absence of data is not evidence of recovery (technical alarms cover missing data).
  for (const [key, current] of Object.entries(open)) {
    if (wanted.has(key)) continue;
    if (current.kind === 'limit' && current.parameter && input.values[current.parameter as keyof VitalValues] === undefined) continue;
    // Nor is a lower score computed from partial data: keep the NEWS2 alarm until a full score clears it.
    if (current.kind === 'news2' && (!input.score || input.score.partial)) continue;
    const resolved: Alert = { ...current, state: 'resolved', endedAt: input.now, updatedAt: input.now };
    delete open[key];
    changes.push(resolved);
  }

  return { state: { open }, changes };
}

