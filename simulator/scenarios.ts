// Scenario definitions: what happens to a patient (and their device) over scenario time.
// Pure: an effect is a function of scenario time only; reading-to-reading randomness lives in
// physiology.ts (the artifact episodes are drawn from a seeded stream per time window, so they
// too are a function of scenario time and the scenario's seed).
// Scenario time is wall time × --speed, so `--speed 10` plays a 10-minute deterioration in one.
import type { Acvpu, NumericVital } from '../server/domain/index.ts';
import { createRng, deriveSeed, type Rng } from './rng.ts';

export const SCENARIO_NAMES = [
  'stable',
  'sepsis',
  'hypoxia',
  'bradycardia',
  'fever',
  'sensor-off',
  'artifact',
  'offline',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** What a fleet can be asked to run: one scenario for every bed, or a mix. */
export const FLEET_SCENARIO_NAMES = [...SCENARIO_NAMES, 'mixed'] as const;
export type FleetScenarioName = (typeof FLEET_SCENARIO_NAMES)[number];

export const SCENARIO_DESCRIPTIONS: Record<FleetScenarioName, string> = {
  stable: 'normal observations with noise, slow drift and a circadian rhythm',
  sepsis: 'from ~25–26 min HR, then RR and temperature rise and SBP sags with NEWS2 ≤ 4 (trend alarms first); decompensates from ~53 min: NEWS2 ≥ 7 from ~56–58 min, new confusion (C) at ~61–62 min',
  hypoxia: 'SpO2 falls to ~85% with RR and HR rising; oxygen is started at ~8 min and SpO2 partly recovers',
  bradycardia: 'HR drops to ~35–40/min with BP falling for ~5 min, then recovers; repeats every 20 min',
  fever: 'temperature climbs to ~39.6 °C with HR and RR following for ~30 min, then settles; repeats every 90 min',
  'sensor-off': 'a sensor (SpO2 usually, else BP or RR) stops reporting for 2 min every 6 min',
  artifact: 'motion artifact in episodes (~4 an hour, 3 s–2 min, most under 30 s): SpO2 drops, HR doubled, halved or erratic, now and then a cuff or talking spike; ~6% of readings in an episode carry a physically implausible value the server refuses',
  offline: 'the device drops off the network (no DISCONNECT, so its will fires) for 60 s every 5 min',
  mixed: 'a deterministic mix per bed: about 70% stable, the rest spread over the other scenarios',
};

export interface ScenarioEffect {
  /** Values the patient is heading for; the reading moves from baseline towards them by `severity`. */
  targets: Partial<Record<NumericVital, number>>;
  /** 0 = baseline, 1 = at the targets. */
  severity: number;
  /** Per-vital severity, in place of `severity` for the vitals it lists (vitals that change at different times). */
  severityOf?: Partial<Record<NumericVital, number>>;
  /** Vitals the device cannot measure right now (left out of the payload). */
  missing: readonly NumericVital[];
  /**
   * The patient's oxygen and consciousness: clinical assessments a nurse charts (simulator/nurse.ts),
   * sent by a device only with --device-assessments.
   */
  o2: boolean;
  acvpu: Acvpu;
  /** The motion-artifact episode in progress, or null. */
  artifact: ArtifactEpisode | null;
  /** The device is off the network. */
  offline: boolean;
}

/** Which signals an artifact episode corrupts. */
export type ArtifactKind =
  /** the patient moves: SpO2 drops erratically and the pulse counter goes wrong */
  | 'motion'
  /** the finger probe slips: SpO2 drops */
  | 'probe'
  /** the arm moves during the cuff cycle: BP reads high */
  | 'cuff'
  /** talking or coughing: RR reads high */
  | 'talking';

/** How a motion episode corrupts HR: the counter doubles, halves, or jumps about. */
export type HrArtifact = 'double' | 'half' | 'erratic';

/** One episode of artifact, in scenario time. */
export interface ArtifactEpisode {
  kind: ArtifactKind;
  hr: HrArtifact;
  startMs: number;
  durationMs: number;
  /** Chance per reading during the episode that the affected signals are corrupted (most readings). */
  corruptRate: number;
  /** Chance per reading during the episode of a physically implausible value the server refuses. */
  implausibleRate: number;
}

export interface Scenario {
  readonly name: ScenarioName;
  /** Scenario time (ms) at which the scenario starts to act. */
  readonly onsetMs: number;
  effect(scenarioMs: number): ScenarioEffect;
}

export interface ScenarioParams {
  onsetMs?: number;
  /** sensor-off: which vitals go missing (default spo2). */
  sensors?: readonly NumericVital[];
  /** artifact: seed of the episode stream (default 0). */
  seed?: number;
}

const MIN = 60_000;

const BASELINE: ScenarioEffect = {
  targets: {},
  severity: 0,
  missing: [],
  o2: false,
  acvpu: 'A',
  artifact: null,
  offline: false,
};

/** 0 below 0, 1 above 1, an S-curve between: deteriorations start and settle gently. */
export function smoothstep(x: number): number {
  const t = Math.min(1, Math.max(0, x));
  return t * t * (3 - 2 * t);
}

export interface EpisodeShape {
  onsetMs: number;
  riseMs: number;
  /** Infinity for a deterioration that does not resolve. */
  holdMs: number;
  fallMs: number;
  /** Repeat every periodMs after onset; absent for a single episode. */
  periodMs?: number;
}

/** Severity 0..1 of a rise–hold–fall episode at time t. */
export function episode(t: number, shape: EpisodeShape): number {
  let x = t - shape.onsetMs;
  if (x < 0) return 0;
  if (shape.periodMs !== undefined) x %= shape.periodMs;
  if (x < shape.riseMs) return smoothstep(x / shape.riseMs);
  x -= shape.riseMs;
  if (x < shape.holdMs) return 1;
  x -= shape.holdMs;
  return shape.fallMs > 0 ? 1 - smoothstep(x / shape.fallMs) : 0;
}

/** How one vital moves in sepsis's compensated phase. */
interface CompensatedCourse {
  /** The reading moves `share` of the way from the patient's own baseline towards `toward`… */
  toward: number;
  share: number;
  /** …over `overMs`, starting `fromMs` after the onset (an S-curve), and stays there. */
  fromMs: number;
  overMs: number;
}

/**
 * Sepsis in two phases, so the trend rules (20 min warm-up, then a change held 10 min) see it
 * before NEWS2 does:
 * 1. compensated, from the onset (default 25 min, after the trend baselines are learned): HR rises
 *    first (over 4 min), then RR, then temperature, while SBP sags. Each vital moves a share of
 *    the way from the patient's own baseline towards a compensated target, so a low baseline rises
 *    more, in percent, than a high one. For the baselines createProfile draws: HR ~88–111
 *    (+26–53%), RR ~17–21 (+12–45%), temperature +0.5–0.8 °C (≤ ~38.0), SBP 0–16 mmHg down, SpO2
 *    unchanged. HR passes baseline +20% for nearly every patient (RR +30% for RR baselines up to
 *    ~14), so the HR trend alarm fires ~13–15 min after the onset, while NEWS2 stays ≤ 4 for most
 *    patients (HR 1–2, RR 0–2) and no limit is crossed. A high HR baseline (~85+ with the afternoon
 *    peak of the 24 h rhythm) cannot rise 20% without nearing the HR limit: there NEWS2 may win;
 * 2. decompensation, from `decompensateAtMs` after the onset: over `decompensateMs` every vital
 *    moves on to SEVERE, which sits in NEWS2 scoring bands (RCP chart 1: HR 125 → 2, RR 28 → 3,
 *    T 39.4 → 2, SBP 85 → 3, SpO2 90 → 3), with new confusion (C) at the peak: NEWS2 medium ~30 min
 *    and high ~31–32 min after the onset. Targets rather than offsets, so a patient with a high
 *    baseline SBP still becomes hypotensive.
 * Measured with the alarm engine: test/unit/simulator.test.ts, simulator/USAGE.md.
 */
export const SEPSIS = {
  /** Default onset (scenario ms): late enough for the trend baselines to be learned first. */
  onsetMs: 25 * MIN,
  compensated: {
    hr: { toward: 180, share: 0.25, fromMs: 0, overMs: 4 * MIN },
    rr: { toward: 24, share: 0.45, fromMs: 5 * MIN, overMs: 12 * MIN },
    temp: { toward: 39.4, share: 0.25, fromMs: 5 * MIN, overMs: 20 * MIN },
    sbp: { toward: 112, share: 0.3, fromMs: 8 * MIN, overMs: 20 * MIN },
    dbp: { toward: 48, share: 0.2, fromMs: 8 * MIN, overMs: 20 * MIN },
    spo2: { toward: 90, share: 0, fromMs: 0, overMs: MIN },
  } satisfies Record<string, CompensatedCourse>,
  decompensateAtMs: 28 * MIN,
  decompensateMs: 9 * MIN,
  severe: { hr: 125, rr: 28, temp: 39.4, sbp: 85, dbp: 48, spo2: 90 },
} as const;

type SepsisVital = keyof typeof SEPSIS.severe;
const SEPSIS_VITALS = Object.keys(SEPSIS.severe) as SepsisVital[];

/** The sepsis effect `x` ms after its onset. */
function sepsisEffect(x: number): ScenarioEffect {
  const targets: Partial<Record<NumericVital, number>> = {};
  const severityOf: Partial<Record<NumericVital, number>> = {};
  // Decompensation: 0 before it starts, 1 at the peak.
  const u = smoothstep((x - SEPSIS.decompensateAtMs) / SEPSIS.decompensateMs);
  for (const v of SEPSIS_VITALS) {
    const c: CompensatedCourse = SEPSIS.compensated[v];
    const severe = SEPSIS.severe[v];
    if (u === 0) {
      targets[v] = c.toward;
      severityOf[v] = c.share * smoothstep((x - c.fromMs) / c.overMs);
    } else {
      // Blend the compensated reading, baseline + share·(toward − baseline), into the severe one.
      // A reading is baseline + severity·(target − baseline), so with severity share + (1 − share)·u
      // the target giving (1 − u)·compensated + u·severe is ((1 − u)·share·toward + u·severe) / severity.
      const severity = c.share + (1 - c.share) * u;
      targets[v] = ((1 - u) * c.share * c.toward + u * severe) / severity;
      severityOf[v] = severity;
    }
  }
  const severity = Math.max(...Object.values(severityOf));
  return { ...BASELINE, targets, severity, severityOf, acvpu: u >= 0.97 ? 'C' : 'A' };
}

/** A window switch: true during [onset + k·period, onset + k·period + duration). */
function inWindow(t: number, onsetMs: number, durationMs: number, periodMs: number): boolean {
  const x = t - onsetMs;
  return x >= 0 && x % periodMs < durationMs;
}

/**
 * Motion artifact comes in episodes, as at a real bedside: a patient moves, a probe slips, a cuff
 * cycles while the arm bends — for seconds to a couple of minutes, during which most readings of
 * the affected signals are wrong. Episodes start at random, on average `perHour` an hour of
 * scenario time: scenario time after the onset is cut into windows of `windowMs`, and each window
 * holds one episode with chance `startChance`, starting anywhere in it. Durations are log-uniform
 * between `minMs` and `maxMs` (median ~19 s, mean ~32 s: most short, a fifth over a minute). Each
 * window draws from its own seeded stream, so an episode is a pure function of the scenario's seed
 * and the time, whichever readings were taken before.
 */
export const ARTIFACT = {
  windowMs: 5 * MIN,
  startChance: 1 / 3,
  /** windows per hour × startChance */
  perHour: 4,
  minMs: 3_000,
  maxMs: 120_000,
  corruptRate: 0.85,
  implausibleRate: 0.06,
  /** Relative frequency of each kind. */
  kinds: { motion: 0.55, probe: 0.25, cuff: 0.1, talking: 0.1 } satisfies Record<ArtifactKind, number>,
  hr: ['double', 'half', 'erratic'] as const satisfies readonly HrArtifact[],
} as const;

const ARTIFACT_KINDS = Object.entries(ARTIFACT.kinds) as [ArtifactKind, number][];

/** The episode of window `window` (0 = the first `windowMs` after the onset), or null. */
export function artifactEpisodeIn(seed: number, onsetMs: number, window: number): ArtifactEpisode | null {
  if (window < 0) return null;
  const rng = createRng(deriveSeed(seed, 'artifact', window));
  if (!rng.chance(ARTIFACT.startChance)) return null;
  const startMs = onsetMs + (window + rng.next()) * ARTIFACT.windowMs;
  const durationMs = Math.round(ARTIFACT.minMs * (ARTIFACT.maxMs / ARTIFACT.minMs) ** rng.next());
  let u = rng.next();
  let kind: ArtifactKind = 'motion';
  for (const [k, weight] of ARTIFACT_KINDS) {
    kind = k;
    if ((u -= weight) < 0) break;
  }
  return {
    kind,
    hr: rng.pick(ARTIFACT.hr),
    startMs,
    durationMs,
    corruptRate: ARTIFACT.corruptRate,
    implausibleRate: ARTIFACT.implausibleRate,
  };
}

/** The artifact episode in progress at scenario time `t`, or null. */
export function artifactAt(seed: number, onsetMs: number, t: number): ArtifactEpisode | null {
  if (t < onsetMs) return null;
  const window = Math.floor((t - onsetMs) / ARTIFACT.windowMs);
  // An episode lasts at most maxMs < windowMs, so only this window's and the previous one's can cover t.
  for (const w of [window, window - 1]) {
    const e = artifactEpisodeIn(seed, onsetMs, w);
    if (e && t >= e.startMs && t < e.startMs + e.durationMs) return e;
  }
  return null;
}

/** Every episode starting in [fromMs, toMs) of scenario time, in order. */
export function artifactEpisodes(seed: number, onsetMs: number, fromMs: number, toMs: number): ArtifactEpisode[] {
  const out: ArtifactEpisode[] = [];
  const first = Math.max(0, Math.floor((fromMs - onsetMs) / ARTIFACT.windowMs));
  for (let w = first; onsetMs + w * ARTIFACT.windowMs < toMs; w++) {
    const e = artifactEpisodeIn(seed, onsetMs, w);
    if (e && e.startMs >= fromMs && e.startMs < toMs) out.push(e);
  }
  return out;
}

export function createScenario(name: ScenarioName, params: ScenarioParams = {}): Scenario {
  const make = (onsetMs: number, effect: (t: number) => ScenarioEffect): Scenario => ({ name, onsetMs, effect });
  const onset = (fallback: number) => params.onsetMs ?? fallback;

  switch (name) {
    case 'stable':
      return make(0, () => BASELINE);

    case 'sepsis': {
      const start = onset(SEPSIS.onsetMs);
      return make(start, (t) => sepsisEffect(t - start));
    }

    case 'hypoxia': {
      // Desaturation over 4 min; oxygen started 7 min after onset brings SpO2 back to ~94%.
      const start = onset(MIN);
      const o2At = start + 7 * MIN;
      const targets = { spo2: 85, rr: 26, hr: 108 };
      return make(start, (t) => {
        const falling = episode(t, { onsetMs: start, riseMs: 4 * MIN, holdMs: Infinity, fallMs: 0 });
        const o2 = t >= o2At;
        const severity = o2 ? falling - 0.75 * smoothstep((t - o2At) / (3 * MIN)) : falling;
        return { ...BASELINE, targets, severity, o2 };
      });
    }

    case 'bradycardia': {
      const shape: EpisodeShape = { onsetMs: onset(MIN), riseMs: 2 * MIN, holdMs: 5 * MIN, fallMs: 2 * MIN, periodMs: 20 * MIN };
      const targets = { hr: 38, sbp: 92, dbp: 52 };
      return make(shape.onsetMs, (t) => ({ ...BASELINE, targets, severity: episode(t, shape) }));
    }

    case 'fever': {
      const shape: EpisodeShape = { onsetMs: onset(MIN), riseMs: 10 * MIN, holdMs: 30 * MIN, fallMs: 15 * MIN, periodMs: 90 * MIN };
      const targets = { temp: 39.6, hr: 108, rr: 22 };
      return make(shape.onsetMs, (t) => ({ ...BASELINE, targets, severity: episode(t, shape) }));
    }

    case 'sensor-off': {
      const start = onset(30_000);
      const sensors = params.sensors ?? ['spo2'];
      return make(start, (t) => (inWindow(t, start, 2 * MIN, 6 * MIN) ? { ...BASELINE, missing: sensors } : BASELINE));
    }

    case 'artifact': {
      const start = onset(0);
      const seed = params.seed ?? 0;
      return make(start, (t) => {
        const artifact = artifactAt(seed, start, t);
        return artifact === null ? BASELINE : { ...BASELINE, artifact };
      });
    }

    case 'offline': {
      const start = onset(45_000);
      const away: ScenarioEffect = { ...BASELINE, offline: true };
      return make(start, (t) => (inWindow(t, start, MIN, 5 * MIN) ? away : BASELINE));
    }
  }
}

const SENSOR_CHOICES: readonly (readonly NumericVital[])[] = [['spo2'], ['spo2'], ['sbp', 'dbp'], ['rr']];

/**
 * A scenario for one bed, with its onset jittered so a ward does not deteriorate in lockstep.
 * `onsetMs` (scenario ms, e.g. from `--onset`) replaces the jittered onset of every non-stable
 * scenario; the random draws are the same either way, so the rest of the plan does not change.
 */
export function scenarioForBed(name: ScenarioName, rng: Rng, onsetMs?: number): Scenario {
  const jitter = rng.uniform(0, 60_000);
  const at = (fallback: number) => onsetMs ?? fallback;
  switch (name) {
    case 'stable':
      return createScenario(name);
    case 'sensor-off':
      return createScenario(name, { onsetMs: at(30_000 + jitter), sensors: rng.pick(SENSOR_CHOICES) });
    case 'artifact':
      // One more draw from this bed's stream, after the jitter: nothing else uses it afterwards.
      return createScenario(name, { onsetMs: at(0), seed: rng.int(0, 2 ** 32) });
    case 'offline':
      return createScenario(name, { onsetMs: at(45_000 + jitter) });
    case 'sepsis':
      return createScenario(name, { onsetMs: at(SEPSIS.onsetMs + jitter) });
    default:
      return createScenario(name, { onsetMs: at(MIN + jitter) });
  }
}

const MIX_ORDER: readonly ScenarioName[] = ['sepsis', 'hypoxia', 'artifact', 'sensor-off', 'bradycardia', 'fever', 'offline'];

/**
 * One scenario name per bed. `mixed` keeps ~70% of beds stable and deals the rest over the
 * other scenarios in a fixed order (sepsis first), then shuffles the beds with the seed.
 */
export function assignScenarios(name: FleetScenarioName, count: number, rng: Rng): ScenarioName[] {
  if (name !== 'mixed') return Array.from({ length: count }, () => name);
  const abnormal = count <= 1 ? count : Math.max(1, Math.round(count * 0.3));
  const names = Array.from({ length: count }, (_, i): ScenarioName => (i < abnormal ? (MIX_ORDER[i % MIX_ORDER.length] as ScenarioName) : 'stable'));
  return rng.shuffle(names);
}

export function isFleetScenarioName(value: string): value is FleetScenarioName {
  return (FLEET_SCENARIO_NAMES as readonly string[]).includes(value);
}
