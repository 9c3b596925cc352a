// The vital-sign vocabulary shared by the broker, the pipeline, the database and the dashboard.
// Import with `import type` from web code: no runtime in here except constant tables.

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

/** Physically plausible ranges: outside them a value is refused as implausible, not scored. */
export const PLAUSIBLE: Record<NumericVital, { min: number; max: number; unit: string }> = {
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
