// Simulated physiology: per-patient baselines, a circadian rhythm, a slow random walk,
// measurement noise, and the scenario's pull towards its targets. Pure apart from the Rng.
import { NUMERIC_VITALS, type NumericVital, type VitalValues } from '../server/domain/index.ts';
import type { Rng } from './rng.ts';
import type { ArtifactEpisode, ArtifactKind, Scenario, ScenarioEffect } from './scenarios.ts';

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
  /**
   * Rounded as charted (integers; temperature to one decimal), missing sensors left out; with the
   * patient's o2 and acvpu from the scenario (a device sends these only with --device-assessments).
   */
  vitals: VitalValues;
  /** The kind of artifact that corrupted this reading, or null for a clean one. */
  artifact: ArtifactKind | null;
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

/** Where a patient is at epoch ms `tMs`: drift decay since the last reading, scenario time and effect, time of day. Pure. */
function momentOf(state: PatientState, tMs: number) {
  const dtS = state.lastMs === null ? 0 : Math.max(0, tMs - state.lastMs) / 1000;
  const scenarioMs = Math.max(0, (tMs - state.startMs) * state.speed);
  return {
    keep: Math.exp(-dtS / DRIFT_TAU_S),
    scenarioMs,
    effect: state.scenario.effect(scenarioMs),
    rhythm: circadianPhase(tMs, state.utcOffsetMin, state.profile.circadianShiftH),
  };
}

/** The patient's mean value of `v` (no drift, no noise) at `tMs`, given the scenario's effect. */
function meanOf(state: PatientState, v: NumericVital, effect: ScenarioEffect, rhythm: number): number {
  const base = state.profile.baseline[v] + CIRCADIAN[v] * rhythm;
  const target = effect.targets[v];
  const severity = effect.severityOf?.[v] ?? effect.severity;
  return target === undefined ? base : base + severity * (target - base);
}

const round = (v: NumericVital, x: number) => (v === 'temp' ? Math.round(x * 10) / 10 : Math.round(x));

/**
 * Take one reading at epoch ms `tMs`. Draws a fixed number of values from `rng` per call
 * (12 gaussians and 2 uniforms), plus a few when an artifact corrupts the reading.
 */
export function step(state: PatientState, tMs: number, rng: Rng): StepResult {
  // Exact Ornstein–Uhlenbeck update, so the walk is the same whatever the reading rate.
  const { keep, scenarioMs, effect, rhythm } = momentOf(state, tMs);
  const fresh = Math.sqrt(1 - keep * keep);
  const drift = {} as Vitals;
  for (const v of NUMERIC_VITALS) drift[v] = state.drift[v] * keep + DRIFT_SD[v] * fresh * rng.gaussian();

  const raw = {} as Vitals;
  for (const v of NUMERIC_VITALS) {
    const range = PHYSIOLOGICAL[v];
    raw[v] = clamp(meanOf(state, v, effect, rhythm) + drift[v] + NOISE_SD[v] * rng.gaussian(), range.min, range.max);
  }
  raw.dbp = Math.min(raw.dbp, raw.sbp - 10);

  // Both chances are drawn on every reading (with chance 0 outside an episode), so a scenario
  // without artifact draws the same stream as before artifact episodes existed.
  const episode = effect.artifact;
  const corrupt = rng.chance(episode?.corruptRate ?? 0);
  const implausible = rng.chance(episode?.implausibleRate ?? 0);
  if (episode && corrupt) addArtifact(raw, episode, rng);
  if (episode && implausible) addImplausible(raw, episode, rng);

  const vitals: VitalValues = {};
  for (const v of NUMERIC_VITALS) {
    if (!effect.missing.includes(v)) vitals[v] = round(v, raw[v]);
  }
  vitals.o2 = effect.o2;
  vitals.acvpu = effect.acvpu;

  return {
    state: { ...state, lastMs: tMs, drift },
    vitals,
    artifact: episode && (corrupt || implausible) ? episode.kind : null,
    offline: effect.offline,
    scenarioMs,
  };
}

/** What a nurse's own measurement adds (manual cuff, thermometer, RR counted over a minute). */
const MANUAL_NOISE_SD: Vitals = { hr: 1.5, spo2: 0.5, rr: 1, temp: 0.1, sbp: 4, dbp: 3 };

export interface Observation {
  /** All six numeric vitals, rounded as charted. */
  vitals: Record<NumericVital, number>;
  o2: boolean;
  acvpu: ScenarioEffect['acvpu'];
  scenarioMs: number;
}

/**
 * A full set of observations as a nurse takes it at `tMs`: the same patient the monitor watches
 * (baseline, 24 h rhythm, scenario, and the slow drift in `state`, decayed to `tMs`) measured with
 * the nurse's own small error — never an artifact or a missing sensor, and with o2 and ACVPU as
 * the scenario has them. Without `rng`, the noise-free values (what the nurse sees at a glance).
 * Draws 6 gaussians from `rng`.
 */
export function observe(state: PatientState, tMs: number, rng?: Rng): Observation {
  const { keep, scenarioMs, effect, rhythm } = momentOf(state, tMs);
  const raw = {} as Vitals;
  for (const v of NUMERIC_VITALS) {
    const range = PHYSIOLOGICAL[v];
    const noise = rng ? MANUAL_NOISE_SD[v] * rng.gaussian() : 0;
    raw[v] = clamp(meanOf(state, v, effect, rhythm) + state.drift[v] * keep + noise, range.min, range.max);
  }
  raw.dbp = Math.min(raw.dbp, raw.sbp - 10);
  const vitals = {} as Vitals;
  for (const v of NUMERIC_VITALS) vitals[v] = round(v, raw[v]);
  return { vitals, o2: effect.o2, acvpu: effect.acvpu, scenarioMs };
}

/** A wrong but plausible reading of the signals the episode affects. */
function addArtifact(raw: Vitals, episode: ArtifactEpisode, rng: Rng): void {
  switch (episode.kind) {
    case 'motion':
      // The pleth is full of movement: SpO2 reads low and jumps about, the pulse count goes wrong.
      raw.spo2 = Math.max(50, raw.spo2 - rng.uniform(4, 25));
      if (episode.hr === 'double') raw.hr = Math.min(300, raw.hr * rng.uniform(1.8, 2.2));
      else if (episode.hr === 'half') raw.hr = raw.hr * rng.uniform(0.45, 0.6);
      else raw.hr = Math.max(20, raw.hr + (rng.chance(0.5) ? 1 : -1) * rng.uniform(20, 50));
      break;
    case 'probe': // slipping off the finger
      raw.spo2 = Math.max(50, raw.spo2 - rng.uniform(8, 30));
      break;
    case 'cuff': // arm moved during the cuff cycle
      raw.sbp = Math.min(280, raw.sbp + rng.uniform(30, 60));
      raw.dbp = Math.min(raw.sbp - 10, raw.dbp + rng.uniform(10, 25));
      break;
    case 'talking': // talking or coughing over the impedance signal
      raw.rr = rng.uniform(32, 50);
      break;
  }
}

/** A value outside the server's PLAUSIBLE range, which it must refuse (field dropped, error published). */
function addImplausible(raw: Vitals, episode: ArtifactEpisode, rng: Rng): void {
  switch (episode.kind) {
    case 'motion':
      if (rng.chance(0.5)) raw.hr = rng.uniform(360, 450);
      else raw.spo2 = rng.uniform(101, 130);
      break;
    case 'probe':
      raw.spo2 = rng.uniform(101, 130);
      break;
    case 'cuff':
      raw.sbp = rng.uniform(310, 400);
      break;
    case 'talking':
      raw.rr = rng.uniform(125, 180);
      break;
  }
}
