// NEWS2 — Royal College of Physicians, National Early Warning Score 2 (2017), chart 1.
// Pure functions: no clock, no I/O. Inputs are the latest *fresh* values; the caller decides freshness.
import type { Acvpu } from '../vitals.ts';

export type News2Band = 'low' | 'low-medium' | 'medium' | 'high';
export type News2Parameter = 'rr' | 'spo2' | 'o2' | 'sbp' | 'hr' | 'acvpu' | 'temp';
export const NEWS2_PARAMETERS: readonly News2Parameter[] = ['rr', 'spo2', 'o2', 'sbp', 'hr', 'acvpu', 'temp'];

export interface News2Input {
  rr?: number;
  spo2?: number;
  /** On supplemental oxygen. Defaults to air when never given. */
  o2?: boolean;
  sbp?: number;
  hr?: number;
  /** Defaults to A (alert) when never given. */
  acvpu?: Acvpu;
  temp?: number;
}

export interface News2Result {
  total: number;
  band: News2Band;
  /** True when a scored parameter (rr, spo2, sbp, hr, temp) is missing or stale. */
  partial: boolean;
  /** Sub-score of each parameter; null when the parameter is missing. */
  parameters: Record<News2Parameter, number | null>;
}

// RCP NEWS2 chart 1: respiration rate
export function scoreRespiration(rr: number): number {
  if (rr <= 8) return 3;
  if (rr <= 11) return 1;
  if (rr <= 20) return 0;
  if (rr <= 24) return 2;
  return 3;
}

// RCP NEWS2 chart 1: SpO2 scale 1
export function scoreSpo2Scale1(spo2: number): number {
  if (spo2 <= 91) return 3;
  if (spo2 <= 93) return 2;
  if (spo2 <= 95) return 1;
  return 0;
}

// RCP NEWS2 chart 1: SpO2 scale 2 (hypercapnic respiratory failure, prescribed target 88–92%)
export function scoreSpo2Scale2(spo2: number, onOxygen: boolean): number {
  if (spo2 <= 83) return 3;
  if (spo2 <= 85) return 2;
  if (spo2 <= 87) return 1;
  if (spo2 <= 92) return 0;
  if (!onOxygen) return 0; // ≥93 on air
  if (spo2 <= 94) return 1;
  if (spo2 <= 96) return 2;
  return 3;
}

// RCP NEWS2 chart 1: air or oxygen
export function scoreOxygen(onOxygen: boolean): number {
  return onOxygen ? 2 : 0;
}

// RCP NEWS2 chart 1: systolic blood pressure
export function scoreSystolic(sbp: number): number {
  if (sbp <= 90) return 3;
  if (sbp <= 100) return 2;
  if (sbp <= 110) return 1;
  if (sbp <= 219) return 0;
  return 3;
}

// RCP NEWS2 chart 1: pulse
export function scorePulse(hr: number): number {
  if (hr <= 40) return 3;
  if (hr <= 50) return 1;
  if (hr <= 90) return 0;
  if (hr <= 110) return 1;
  if (hr <= 130) return 2;
  return 3;
}

// RCP NEWS2 chart 1: consciousness (new confusion counts as C)
export function scoreConsciousness(level: Acvpu): number {
  return level === 'A' ? 0 : 3;
}

// RCP NEWS2 chart 1: temperature (one decimal)
export function scoreTemperature(temp: number): number {
  if (temp <= 35.0) return 3;
  if (temp <= 36.0) return 1;
  if (temp <= 38.0) return 0;
  if (temp <= 39.0) return 1;
  return 2;
}

/** RCP NEWS2 clinical risk: 0–4 low (any single 3 → low-medium), 5–6 medium, ≥7 high. */
export function news2Band(total: number, anySingleThree: boolean): News2Band {
  if (total >= 7) return 'high';
  if (total >= 5) return 'medium';
  return anySingleThree ? 'low-medium' : 'low';
}

/** Integers for hr, rr, spo2, sbp; one decimal for temp — as charted. */
function roundInput(input: News2Input): News2Input {
  const r: News2Input = { ...input };
  // A non-finite number is no measurement (the decoder refuses them; this is a second guard).
  for (const k of ['hr', 'rr', 'spo2', 'sbp', 'temp'] as const) {
    if (r[k] !== undefined && !Number.isFinite(r[k])) delete r[k];
  }
  if (r.hr !== undefined) r.hr = Math.round(r.hr);
  if (r.rr !== undefined) r.rr = Math.round(r.rr);
  if (r.spo2 !== undefined) r.spo2 = Math.round(r.spo2);
  if (r.sbp !== undefined) r.sbp = Math.round(r.sbp);
  if (r.temp !== undefined) r.temp = Math.round(r.temp * 10) / 10;
  return r;
}

export function scoreNews2(raw: News2Input, spo2Scale: 1 | 2 = 1): News2Result {
  const input = roundInput(raw);
  const onOxygen = input.o2 ?? false;
  const parameters: Record<News2Parameter, number | null> = {
    rr: input.rr === undefined ? null : scoreRespiration(input.rr),
    spo2:
      input.spo2 === undefined
        ? null
        : spo2Scale === 2
          ? scoreSpo2Scale2(input.spo2, onOxygen)
          : scoreSpo2Scale1(input.spo2),
    o2: scoreOxygen(onOxygen),
    sbp: input.sbp === undefined ? null : scoreSystolic(input.sbp),
    hr: input.hr === undefined ? null : scorePulse(input.hr),
    acvpu: scoreConsciousness(input.acvpu ?? 'A'),
    temp: input.temp === undefined ? null : scoreTemperature(input.temp),
  };
  let total = 0;
  let anySingleThree = false;
  let partial = false;
  for (const p of NEWS2_PARAMETERS) {
    const s = parameters[p];
    if (s === null) partial = true;
    else {
      total += s;
      if (s === 3) anySingleThree = true;
    }
  }
  return { total, band: news2Band(total, anySingleThree), partial, parameters };
}

export const BAND_RANK: Record<News2Band, number> = { low: 0, 'low-medium': 1, medium: 2, high: 3 };
