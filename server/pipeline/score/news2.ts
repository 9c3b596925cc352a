// NEWS2 — Royal College of Physicians, National Early Warning Score 2 (2017), chart 1.
// Pure functions: no clock, no I/O. Inputs are the latest *fresh* values; the caller decides freshness.
//
// Two rules beyond the chart itself, both on the side of safety:
// - A value that falls *between* two charted bands (temperature 35.05, SpO2 91.5, HR 90.5: the
//   chart lists integers and tenths) scores on the worse side of the gap. Values are not rounded.
// - Nothing is defaulted. Consciousness (ACVPU) and air/oxygen are clinical assessments: when no
//   fresh value exists they are *missing*, like any other parameter. A score with a missing
//   parameter is `partial`, lists what is missing, and is a lower bound of the full score (each
//   missing parameter may add up to 3), never an estimate of it.
import type { Acvpu } from '../../domain/vitals.ts';
import { BAND_THRESHOLD, NEWS2_PARAMETERS, type News2Band, type News2Input, type News2Parameter, type News2Result } from '../../domain/news2.ts';

// RCP NEWS2 chart 1: respiration rate. ≤8 → 3; 9–11 → 1; 12–20 → 0; 21–24 → 2; ≥25 → 3.
export function scoreRespiration(rr: number): number {
  if (rr < 9) return 3;
  if (rr < 12) return 1;
  if (rr <= 20) return 0;
  if (rr <= 24) return 2;
  return 3;
}

// RCP NEWS2 chart 1: SpO2 scale 1. ≤91 → 3; 92–93 → 2; 94–95 → 1; ≥96 → 0.
export function scoreSpo2Scale1(spo2: number): number {
  if (spo2 < 92) return 3;
  if (spo2 < 94) return 2;
  if (spo2 < 96) return 1;
  return 0;
}

// RCP NEWS2 chart 1: SpO2 scale 2 (hypercapnic respiratory failure, prescribed target 88–92%).
// ≤83 → 3; 84–85 → 2; 86–87 → 1; 88–92, or ≥93 on air → 0; on oxygen 93–94 → 1, 95–96 → 2, ≥97 → 3.
// `onOxygen` unknown (null): the air row, the lower bound (the score is partial anyway, o2 missing).
export function scoreSpo2Scale2(spo2: number, onOxygen: boolean | null): number {
  if (spo2 < 84) return 3;
  if (spo2 < 86) return 2;
  if (spo2 < 88) return 1;
  if (spo2 <= 92) return 0;
  if (!onOxygen) return 0; // ≥93 on air (or not assessed: lower bound)
  if (spo2 <= 94) return 1;
  if (spo2 <= 96) return 2;
  return 3;
}

// RCP NEWS2 chart 1: air or oxygen. Oxygen → 2; air → 0.
export function scoreOxygen(onOxygen: boolean): number {
  return onOxygen ? 2 : 0;
}

// RCP NEWS2 chart 1: systolic blood pressure. ≤90 → 3; 91–100 → 2; 101–110 → 1; 111–219 → 0; ≥220 → 3.
export function scoreSystolic(sbp: number): number {
  if (sbp < 91) return 3;
  if (sbp < 101) return 2;
  if (sbp < 111) return 1;
  if (sbp <= 219) return 0;
  return 3;
}

// RCP NEWS2 chart 1: pulse. ≤40 → 3; 41–50 → 1; 51–90 → 0; 91–110 → 1; 111–130 → 2; ≥131 → 3.
export function scorePulse(hr: number): number {
  if (hr < 41) return 3;
  if (hr < 51) return 1;
  if (hr <= 90) return 0;
  if (hr <= 110) return 1;
  if (hr <= 130) return 2;
  return 3;
}

// RCP NEWS2 chart 1: consciousness. Alert → 0; new confusion (C), voice, pain, unresponsive → 3.
export function scoreConsciousness(level: Acvpu): number {
  return level === 'A' ? 0 : 3;
}

// RCP NEWS2 chart 1: temperature. ≤35.0 → 3; 35.1–36.0 → 1; 36.1–38.0 → 0; 38.1–39.0 → 1; ≥39.1 → 2.
export function scoreTemperature(temp: number): number {
  if (temp < 35.1) return 3;
  if (temp < 36.1) return 1;
  if (temp <= 38.0) return 0;
  if (temp <= 39.0) return 1;
  return 2;
}

/** RCP NEWS2 chart 2 (thresholds and triggers): 0–4 low (any single 3 → low-medium), 5–6 medium, ≥7 high. */
export function news2Band(total: number, anySingleThree: boolean): News2Band {
  if (total >= 7) return 'high';
  if (total >= 5) return 'medium';
  return anySingleThree ? 'low-medium' : 'low';
}

/** A non-finite number is no measurement (the decoder refuses them; this is a second guard). */
function finite(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

export function scoreNews2(input: News2Input, spo2Scale: 1 | 2 = 1): News2Result {
  const rr = finite(input.rr);
  const spo2 = finite(input.spo2);
  const sbp = finite(input.sbp);
  const hr = finite(input.hr);
  const temp = finite(input.temp);
  const o2 = typeof input.o2 === 'boolean' ? input.o2 : null;
  const acvpu = input.acvpu ?? null;
  const parameters: Record<News2Parameter, number | null> = {
    rr: rr === undefined ? null : scoreRespiration(rr),
    spo2: spo2 === undefined ? null : spo2Scale === 2 ? scoreSpo2Scale2(spo2, o2) : scoreSpo2Scale1(spo2),
    o2: o2 === null ? null : scoreOxygen(o2),
    sbp: sbp === undefined ? null : scoreSystolic(sbp),
    hr: hr === undefined ? null : scorePulse(hr),
    acvpu: acvpu === null ? null : scoreConsciousness(acvpu),
    temp: temp === undefined ? null : scoreTemperature(temp),
  };
  let total = 0;
  let anySingleThree = false;
  const missing: News2Parameter[] = [];
  for (const p of NEWS2_PARAMETERS) {
    const s = parameters[p];
    if (s === null) missing.push(p);
    else {
      total += s;
      if (s === 3) anySingleThree = true;
    }
  }
  return { total, band: news2Band(total, anySingleThree), partial: missing.length > 0, missing, parameters };
}

/** The band whose trigger is `threshold` (the `limit` of a NEWS2 alarm), or null. */
export function bandOfThreshold(threshold: number | null): News2Band | null {
  for (const [band, t] of Object.entries(BAND_THRESHOLD)) if (t === threshold) return band as News2Band;
  return null;
}

/** The highest sub-score of a result (0 when nothing is known). */
export function maxSubScore(r: Pick<News2Result, 'parameters'>): number {
  let max = 0;
  for (const p of NEWS2_PARAMETERS) max = Math.max(max, r.parameters[p] ?? 0);
  return max;
}
