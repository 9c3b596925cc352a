// Per-patient alarm limits: pure checks of fresh values against low/high bounds.
import type { NumericVital, VitalValues } from '../vitals.ts';

export interface Bound {
  low?: number;
  high?: number;
}
export type AlarmLimits = Partial<Record<NumericVital, Bound>>;

/**
 * Adult defaults, in line with common bedside-monitor factory settings.
 * A value equal to a limit is inside it; only crossing it alarms.
 */
export const DEFAULT_ADULT_LIMITS: Required<Record<NumericVital, Bound>> = {
  hr: { low: 50, high: 120 },
  spo2: { low: 90 },
  rr: { low: 8, high: 25 },
  temp: { low: 35.0, high: 38.5 },
  sbp: { low: 90, high: 180 },
  dbp: { low: 40, high: 110 },
};

export function effectiveLimits(overrides: AlarmLimits | null | undefined): Required<Record<NumericVital, Bound>> {
  const out = Object.fromEntries(
    Object.entries(DEFAULT_ADULT_LIMITS).map(([k, v]) => [k, { ...v }]),
  ) as Required<Record<NumericVital, Bound>>;
  if (overrides) {
    for (const [k, v] of Object.entries(overrides) as [NumericVital, Bound][]) {
      if (v) out[k] = { ...out[k], ...v };
    }
  }
  return out;
}

export interface LimitViolation {
  parameter: NumericVital;
  value: number;
  direction: 'low' | 'high';
  limit: number;
}

export function limitViolations(limits: Required<Record<NumericVital, Bound>>, values: VitalValues): LimitViolation[] {
  const out: LimitViolation[] = [];
  for (const [parameter, bound] of Object.entries(limits) as [NumericVital, Bound][]) {
    const value = values[parameter];
    if (value === undefined) continue;
    if (bound.low !== undefined && value < bound.low) out.push({ parameter, value, direction: 'low', limit: bound.low });
    else if (bound.high !== undefined && value > bound.high) out.push({ parameter, value, direction: 'high', limit: bound.high });
  }
  return out;
}
