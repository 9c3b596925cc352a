// Simulated physiology: per-patient baselines, a circadian rhythm, a slow random walk,
// measurement noise, and the scenario's pull towards its targets. Pure apart from the Rng.
import { NUMERIC_VITALS, type NumericVital, type VitalValues } from '../server/pipeline/vitals.ts';
import type { Rng } from './rng.ts';
import type { Scenario } from './scenarios.ts';

export type Vitals = Record<NumericVital, number>;

export interface PatientProfile {
  ageYears: number;
  baseline: Vitals;
  /** Hours by which this patient's circadian peak is shifted from 17:00. */
  circadianShiftH: number;
}

export interface PatientState {
  readonly profile: PatientProfile;
  readonly scenario: Scenario;
  /** Epoch ms at which scenario time is 0. */
  readonly startMs: number;
  /** Scenario time runs this many times faster than wall time. */
  readonly speed: number;
  /** Minutes east of UTC of the ward's clock, for the circadian rhythm. */
  readonly utcOffsetMin: number;
  readonly lastMs: number | null;
  /** The slow random walk: deviation from baseline, per vital. */
  readonly drift: Readonly<Vitals>;
}

export interface StepResult {
  state: PatientState;
  /** Rounded as charted (integers; temperature to one decimal), missing sensors left out. */
  vitals: VitalValues;
  /** The scenario has taken the device off the network. */
  offline: boolean;
  scenarioMs: number;
}

/** Stationary standard deviation of the random walk. */
const DRIFT_SD: Vitals = { hr: 3, spo2: 0.6, rr: 1, temp: 0.1, sbp: 5, dbp: 3.5 };
/** Time constant of the walk's pull back to baseline. */
const DRIFT_TAU_S = 15 * 60;
/** Reading-to-reading measurement noise. */
const NOISE_SD: Vitals = { hr: 1.2, spo2: 0.4, rr: 0.7, temp: 0.03, sbp: 2, dbp: 1.5 };
/** Amplitude of the 24 h rhythm (peak late afternoon, trough early morning). */
const CIRCADIAN: Vitals = { hr: 4, spo2: 0, rr: 0, temp: 0.25, sbp: 4, dbp: 2 };
/** What a living patient's sensor reports without artifact; narrower than the server's PLAUSIBLE ranges. */
export const PHYSIOLOGICAL: Record<NumericVital, { min: number; max: number }> = {
  hr: { min: 25, max: 220 },
  spo2: { min: 60, max: 100 },
  rr: { min: 4, max: 60 },
  temp: { min: 32, max: 42.5 },
  sbp: { min: 50, max: 240 },
  dbp: { min: 25, max: 160 },
};

const clamp = (x: number, min: number, max: number) => Math.min(max, Math.max(min, x));

/** A new patient: age 25–90 with baselines that shift with age (SBP up, SpO2 a little down). */
export function createProfile(rng: Rng): PatientProfile {
  const age = Math.round(rng.uniform(25, 90));
  const sbp = clamp(rng.gaussian(105 + 0.45 * age, 9), 112, 165);
  const baseline: Vitals = {
    hr: clamp(rng.gaussian(78 - 0.05 * (age - 50), 7), 58, 88),
    spo2: clamp(rng.gaussian(98 - 0.025 * (age - 40), 0.8), 96, 99.5),
    rr: clamp(rng.gaussian(15, 1.5), 12, 19),
    temp: clamp(rng.gaussian(36.8, 0.2), 36.3, 37.3),
    sbp,
    dbp: clamp(rng.gaussian(60 + 0.2 * age, 6), 60, Math.min(95, sbp - 30)),
  };
  return { ageYears: age, baseline, circadianShiftH: rng.uniform(-1.5, 1.5) };
}

export interface PatientOptions {
  profile: PatientProfile;
  scenario: Scenario;
  startMs: number;
  speed?: number;
  utcOffsetMin?: number;
}

export function createPatient(options: PatientOptions): PatientState {
  return {
    profile: options.profile,
    scenario: options.scenario,
    startMs: options.startMs,
    speed: options.speed ?? 1,
    utcOffsetMin: options.utcOffsetMin ?? 0,
    lastMs: null,
    drift: { hr: 0, spo2: 0, rr: 0, temp: 0, sbp: 0, dbp: 0 },
  };
}

/** -1..1, peaking at 17:00 local (+ the patient's shift). */
export function circadianPhase(tMs: number, utcOffsetMin: number, shiftH: number): number {
  const hour = (((tMs / 3_600_000 + utcOffsetMin / 60) % 24) + 24) % 24;
  return Math.sin((2 * Math.PI * (hour - 11 - shiftH)) / 24);
}

/** Take one reading at epoch ms `tMs`. Draws a fixed number of values from `rng` per call, plus a few on an artifact. */
export function step(state: PatientState, tMs: number, rng: Rng): StepResult {
  const dtS = state.lastMs === null ? 0 : Math.max(0, tMs - state.lastMs) / 1000;
  // Exact Ornstein–Uhlenbeck update, so the walk is the same whatever the reading rate.
  const keep = Math.exp(-dtS / DRIFT_TAU_S);
  const fresh = Math.sqrt(1 - keep * keep);
  const drift = {} as Vitals;
  for (const v of NUMERIC_VITALS) drift[v] = state.drift[v] * keep + DRIFT_SD[v] * fresh * rng.gaussian();

  const scenarioMs = Math.max(0, (tMs - state.startMs) * state.speed);
  const effect = state.scenario.effect(scenarioMs);
  const rhythm = circadianPhase(tMs, state.utcOffsetMin, state.profile.circadianShiftH);

  const raw = {} as Vitals;
  for (const v of NUMERIC_VITALS) {
    const base = state.profile.baseline[v] + CIRCADIAN[v] * rhythm;
    const target = effect.targets[v];
    const severity = effect.severityOf?.[v] ?? effect.severity;
    const mean = target === undefined ? base : base + severity * (target - base);
    const range = PHYSIOLOGICAL[v];
    raw[v] = clamp(mean + drift[v] + NOISE_SD[v] * rng.gaussian(), range.min, range.max);
  }
  raw.dbp = Math.min(raw.dbp, raw.sbp - 10);

  if (rng.chance(effect.artifactRate)) addArtifact(raw, rng);
  if (rng.chance(effect.implausibleRate)) addImplausible(raw, rng);

  const vitals: VitalValues = {};
  for (const v of NUMERIC_VITALS) {
    if (!effect.missing.includes(v)) vitals[v] = v === 'temp' ? Math.round(raw[v] * 10) / 10 : Math.round(raw[v]);
  }
  vitals.o2 = effect.o2;
  vitals.acvpu = effect.acvpu;

  return { state: { ...state, lastMs: tMs, drift }, vitals, offline: effect.offline, scenarioMs };
}

/** A wrong but plausible reading: the kind a real ward monitor shows when a patient moves. */
function addArtifact(raw: Vitals, rng: Rng): void {
  switch (rng.int(0, 4)) {
    case 0: // motion: pulse counter double-counts
      raw.hr = Math.min(300, raw.hr * rng.uniform(1.5, 2.2));
      break;
    case 1: // probe slipping: SpO2 dips
      raw.spo2 = Math.max(50, raw.spo2 - rng.uniform(10, 30));
      break;
    case 2: // arm moved during the cuff cycle
      raw.sbp = Math.min(280, raw.sbp + rng.uniform(30, 60));
      raw.dbp = Math.min(raw.sbp - 10, raw.dbp + rng.uniform(10, 25));
      break;
    default: // talking or coughing
      raw.rr = rng.uniform(35, 50);
  }
}

/** A value outside the server's PLAUSIBLE range, which it must refuse (field dropped, error published). */
function addImplausible(raw: Vitals, rng: Rng): void {
  switch (rng.int(0, 4)) {
    case 0:
      raw.hr = rng.uniform(360, 450);
      break;
    case 1:
      raw.spo2 = rng.uniform(101, 130);
      break;
    case 2:
      raw.temp = rng.uniform(46, 55);
      break;
    default:
      raw.sbp = rng.uniform(310, 400);
  }
}
