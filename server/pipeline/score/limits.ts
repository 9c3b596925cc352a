// Per-patient alarm limits: pure checks of fresh values against low/high bounds.
import type { NumericVital, VitalValues } from '../../domain/vitals.ts';
import type { AlarmLimits, Bound } from '../../domain/alarms.ts';

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

/**
 * SpO2 scale 2 (RCP NEWS2 chart 1: hypercapnic respiratory failure, prescribed target 88–92 %): the
 * default low limit is the bottom of the target range. No default high limit: over-oxygenation on
 * supplemental oxygen (≥ 93 %) is scored by NEWS2 (1–3 points), and 93 % or more on air is safe.
 */
export const SCALE2_SPO2_LIMITS: Bound = { low: 88 };

/** The defaults for a patient's SpO2 scale. */
export function defaultLimits(spo2Scale: 1 | 2 = 1): Required<Record<NumericVital, Bound>> {
  const out = Object.fromEntries(Object.entries(DEFAULT_ADULT_LIMITS).map(([k, v]) => [k, { ...v }])) as Required<Record<NumericVital, Bound>>;
  if (spo2Scale === 2) out.spo2 = { ...SCALE2_SPO2_LIMITS };
  return out;
}

const frozen = (t: Required<Record<NumericVital, Bound>>) => {
  for (const b of Object.values(t)) Object.freeze(b);
  return Object.freeze(t);
};
const DEFAULTS_BY_SCALE = { 1: frozen(defaultLimits(1)), 2: frozen(defaultLimits(2)) } as const;

/**
 * The limits in force: the defaults for the scale with the patient's overrides on top. Without
 * overrides the shared (frozen) default table is returned — this runs for every evaluation of
 * every bed, so callers must not mutate the result.
 */
export function effectiveLimits(overrides: AlarmLimits | null | undefined, spo2Scale: 1 | 2 = 1): Readonly<Required<Record<NumericVital, Bound>>> {
  if (!overrides) return DEFAULTS_BY_SCALE[spo2Scale];
  const out = defaultLimits(spo2Scale);
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
