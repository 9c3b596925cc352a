// A nurse's manual observation: form fields → the JSON body of POST /api/patients/{id}/observations.
// Only what was filled in is sent, so recording a temperature does not overwrite anything else.
// The input ranges are the server's plausible ranges (PLAUSIBLE): what the form accepts, the
// server accepts.
import { ACVPU, PLAUSIBLE, type Acvpu, type NumericVital } from '../../../server/domain/index.ts';

export const OBS_FIELDS: readonly { key: NumericVital; label: string; step: number }[] = [
  { key: 'hr', label: 'Heart rate', step: 1 },
  { key: 'spo2', label: 'SpO₂', step: 1 },
  { key: 'rr', label: 'Resp. rate', step: 1 },
  { key: 'temp', label: 'Temperature', step: 0.1 },
  { key: 'sbp', label: 'Systolic BP', step: 1 },
  { key: 'dbp', label: 'Diastolic BP', step: 1 },
];

const ACVPU_LABEL: Record<Acvpu, string> = {
  A: 'A — Alert',
  C: 'C — new Confusion',
  V: 'V — responds to Voice',
  P: 'P — responds to Pain',
  U: 'U — Unresponsive',
};
export const ACVPU_LEVELS: readonly { value: Acvpu; label: string }[] = ACVPU.map((value) => ({ value, label: ACVPU_LABEL[value] }));

export interface ObservationDraft {
  /** Raw input text per numeric field ('' = not filled). */
  numbers: Partial<Record<NumericVital, string>>;
  /** '' = not assessed. */
  acvpu: string;
  /** null = not recorded (box never touched and not ticked). */
  o2: boolean | null;
}

export type ObservationBody = Partial<Record<NumericVital, number>> & { acvpu?: Acvpu; o2?: boolean };

export type DraftResult = { ok: true; body: ObservationBody } | { ok: false; errors: string[] };

export function observationBody(draft: ObservationDraft): DraftResult {
  const body: ObservationBody = {};
  const errors: string[] = [];
  for (const { key, label } of OBS_FIELDS) {
    const raw = (draft.numbers[key] ?? '').trim();
    if (raw === '') continue;
    const v = Number(raw.replace(',', '.'));
    const r = PLAUSIBLE[key];
    if (!Number.isFinite(v)) errors.push(`${label}: not a number`);
    else if (v < r.min || v > r.max) errors.push(`${label}: must be between ${r.min} and ${r.max} ${r.unit}`);
    else body[key] = v;
  }
  if (draft.acvpu !== '') {
    if (ACVPU_LEVELS.some((l) => l.value === draft.acvpu)) body.acvpu = draft.acvpu as Acvpu;
    else errors.push('Consciousness: must be one of A, C, V, P, U');
  }
  if (draft.o2 !== null) body.o2 = draft.o2;
  if (body.sbp !== undefined && body.dbp !== undefined && body.dbp >= body.sbp) errors.push('Diastolic BP must be below systolic BP');
  if (errors.length > 0) return { ok: false, errors };
  if (Object.keys(body).length === 0) return { ok: false, errors: ['Enter at least one value'] };
  return { ok: true, body };
}
