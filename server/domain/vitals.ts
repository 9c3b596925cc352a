// The vital-sign vocabulary shared by the broker, the pipeline, the database and the dashboard:
// names, units, plausible ranges, the reading, freshness windows. Types and constant tables only;
// this module imports nothing (docs/decisions/0020-neutral-domain-module.md).

export const NUMERIC_VITALS = ['hr', 'spo2', 'rr', 'temp', 'sbp', 'dbp'] as const;
export type NumericVital = (typeof NUMERIC_VITALS)[number];

export const ACVPU = ['A', 'C', 'V', 'P', 'U'] as const;
export type Acvpu = (typeof ACVPU)[number];

/** Any subset of the vitals; absent means "not measured in this reading". */
export interface VitalValues {
  hr?: number;
  spo2?: number;
  rr?: number;
  temp?: number;
  sbp?: number;
  dbp?: number;
  o2?: boolean;
  acvpu?: Acvpu;
}
export type VitalKey = keyof VitalValues;
export const VITAL_KEYS: readonly VitalKey[] = [...NUMERIC_VITALS, 'o2', 'acvpu'];

/** Parameters a monitor streams beat to beat / breath to breath (the others are intermittent). */
export const CONTINUOUS_VITALS: readonly VitalKey[] = ['hr', 'spo2', 'rr'];
/** Parameters that are clinical assessments: a nurse's fresh value wins over a device's. */
export const ASSESSMENT_VITALS: readonly VitalKey[] = ['acvpu', 'o2'];

/** Physically plausible ranges: outside them a value is refused as implausible, not scored. */
export const PLAUSIBLE: Readonly<Record<NumericVital, { readonly min: number; readonly max: number; readonly unit: string }>> = {
  hr: { min: 0, max: 350, unit: '/min' },
  spo2: { min: 0, max: 100, unit: '%' },
  rr: { min: 0, max: 120, unit: '/min' },
  temp: { min: 20, max: 45, unit: '°C' },
  sbp: { min: 20, max: 300, unit: 'mmHg' },
  dbp: { min: 10, max: 250, unit: 'mmHg' },
};

export type ReadingSource = 'device' | 'manual';

/** One accepted reading, after validation, on its way through the pipeline. */
export interface Reading {
  /** Measurement time, epoch ms. */
  ts: number;
  deviceId: string | null;
  patientId: string | null;
  values: VitalValues;
  seq?: number;
  source: ReadingSource;
  /** Server receipt time, epoch ms (latency and clock-skew measurement). */
  receivedAt: number;
}

/** How long a value counts (is scored, and shown as live); ages count from min(measurement, receipt). */
export interface Freshness {
  /** How long a streamed (continuous) device value — HR, SpO2, RR — stays usable. */
  deviceMs: number;
  /** How long an intermittent device value — BP, temperature, O2 flag, ACVPU — stays usable. */
  intermittentMs: number;
  /** How long a manual observation stays usable at most (the engine narrows it per patient). */
  manualMs: number;
  /** Per parameter, a narrower window for manual values (the patient's RCP monitoring interval). */
  manualByKey?: Partial<Record<VitalKey, number>>;
}

export const DEFAULT_FRESHNESS: Freshness = { deviceMs: 30_000, intermittentMs: 30 * 60_000, manualMs: 12 * 3600_000 };
