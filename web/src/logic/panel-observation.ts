// A nurse's manual observation: form fields → the JSON body of POST /api/patients/{id}/observations.
// Only what was filled in is sent, so recording a temperature does not overwrite anything else.

/**
 * The server's plausible ranges (server/pipeline/vitals.ts PLAUSIBLE), repeated here because web
 * code imports server modules as types only; a unit test keeps the two equal.
 */
export const OBS_PLAUSIBLE = {
  hr: { min: 0, max: 350, unit: '/min' },
  spo2: { min: 0, max: 100, unit: '%' },
  rr: { min: 0, max: 120, unit: '/min' },
  temp: { min: 20, max: 45, unit: '°C' },
  sbp: { min: 20, max: 300, unit: 'mmHg' },
  dbp: { min: 10, max: 250, unit: 'mmHg' },
} as const;
export type ObsNumeric = keyof typeof OBS_PLAUSIBLE;

export const OBS_FIELDS: readonly { key: ObsNumeric; label: string; step: number }[] = [
  { key: 'hr', label: 'Heart rate', step: 1 },
  { key: 'spo2', label: 'SpO₂', step: 1 },
  { key: 'rr', label: 'Resp. rate', step: 1 },
  { key: 'temp', label: 'Temperature', step: 0.1 },
  { key: 'sbp', label: 'Systolic BP', step: 1 },
  { key: 'dbp', label: 'Diastolic BP', step: 1 },
];

export const ACVPU_LEVELS = [
  { value: 'A', label: 'A — Alert' },
  { value: 'C', label: 'C — new Confusion' },
  { value: 'V', label: 'V — responds to Voice' },
  { value: 'P', label: 'P — responds to Pain' },
  { value: 'U', label: 'U — Unresponsive' },
] as const;
export type AcvpuLevel = (typeof ACVPU_LEVELS)[number]['value'];

export interface ObservationDraft {
  /** Raw input text per numeric field ('' = not filled). */
  numbers: Partial<Record<ObsNumeric, string>>;
  /** '' = not assessed. */
  acvpu: string;
  /** null = not recorded (box never touched and not ticked). */
  o2: boolean | null;
}

export type ObservationBody = Partial<Record<ObsNumeric, number>> & { acvpu?: AcvpuLevel; o2?: boolean };

export type DraftResult = { ok: true; body: ObservationBody } | { ok: false; errors: string[] };

export function observationBody(draft: ObservationDraft): DraftResult {
  const body: ObservationBody = {};
  const errors: string[] = [];
  for (const { key, label } of OBS_FIELDS) {
    const raw = (draft.numbers[key] ?? '').trim();
    if (raw === '') continue;
    const v = Number(raw.replace(',', '.'));
    const r = OBS_PLAUSIBLE[key];
    if (!Number.isFinite(v)) errors.push(`${label}: not a number`);
    else if (v < r.min || v > r.max) errors.push(`${label}: must be between ${r.min} and ${r.max} ${r.unit}`);
    else body[key] = v;
  }
  if (draft.acvpu !== '') {
    if (ACVPU_LEVELS.some((l) => l.value === draft.acvpu)) body.acvpu = draft.acvpu as AcvpuLevel;
    else errors.push('Consciousness: must be one of A, C, V, P, U');
  }
  if (draft.o2 !== null) body.o2 = draft.o2;
  if (body.sbp !== undefined && body.dbp !== undefined && body.dbp >= body.sbp) errors.push('Diastolic BP must be below systolic BP');
  if (errors.length > 0) return { ok: false, errors };
  if (Object.keys(body).length === 0) return { ok: false, errors: ['Enter at least one value'] };
  return { ok: true, body };
}
