// The simulator's pure parts: seeded randomness, physiology, scenarios, payloads, publish timing,
// options and provisioning (against a fake fetch). No network, no timers.
import { describe, expect, it } from 'vitest';
import { decodeTelemetry } from '../../server/pipeline/decode.ts';
import { AlarmEngine } from '../../server/pipeline/alarms/engine.ts';
import { scoreNews2 } from '../../server/pipeline/score/news2.ts';
import { NUMERIC_VITALS, PLAUSIBLE, type Acvpu, type NumericVital, type VitalValues } from '../../server/domain/vitals.ts';
import { parseCliArgs } from '../../simulator/args.ts';
import { anonymousDevices, planFleet } from '../../simulator/fleet.ts';
import { patientNames } from '../../simulator/names.ts';
import { createPatient, createProfile, observe, step, type PatientState } from '../../simulator/physiology.ts';
import {
  NURSE,
  afterFailure,
  charted,
  describeSet,
  dryRun,
  failureAction,
  firstRound,
  observationBody,
  observationIntervalMs,
  review,
  scheduleMs,
  type BedChart,
} from '../../simulator/nurse.ts';
import type { News2Band } from '../../server/domain/news2.ts';
import { noNurseNote, nurseLogger, type NurseEvent } from '../../simulator/nurse-runner.ts';
import { ApiError, bedLabel, provisionFleet } from '../../simulator/provision.ts';
import { createRng, deriveSeed, mulberry32 } from '../../simulator/rng.ts';
import {
  ARTIFACT,
  FLEET_SCENARIO_NAMES,
  SCENARIO_DESCRIPTIONS,
  SCENARIO_NAMES,
  artifactAt,
  artifactEpisodes,
  assignScenarios,
  createScenario,
  episode,
  scenarioForBed,
  type Scenario,
  type ScenarioName,
} from '../../simulator/scenarios.ts';
import { fitToWidth, formatSummary } from '../../simulator/summary.ts';
import { buildPayload, nextTickTime, spreadOffsets, type CategoricalMemo } from '../../simulator/telemetry.ts';

const T0 = Date.UTC(2024, 5, 1, 8, 0, 0); // 2024-06-01T08:00:00Z
const MIN = 60_000;

/** Readings of one patient every `stepMs` for `durationMs`, as the device would take them. */
function simulate(scenario: Scenario | ScenarioName, seed: number, durationMs: number, stepMs = 1000, speed = 1) {
  const rng = createRng(seed);
  let state: PatientState = createPatient({
    profile: createProfile(rng),
    scenario: typeof scenario === 'string' ? createScenario(scenario) : scenario,
    startMs: T0,
    speed,
  });
  const readings: { t: number; vitals: VitalValues; offline: boolean; artifact: string | null }[] = [];
  for (let t = 0; t <= durationMs; t += stepMs) {
    const result = step(state, T0 + t, rng);
    state = result.state;
    readings.push({ t, vitals: result.vitals, offline: result.offline, artifact: result.artifact });
  }
  return readings;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const meanOf = (readings: { t: number; vitals: VitalValues }[], v: NumericVital, fromMs: number, toMs: number) =>
  mean(readings.filter((r) => r.t >= fromMs && r.t < toMs).map((r) => r.vitals[v] as number));

describe('rng', () => {
  it('gives the same sequence for the same seed', () => {
    const a = createRng(7);
    const b = createRng(7);
    const draw = (r: typeof a) => [r.next(), r.gaussian(), r.int(0, 100), r.uniform(5, 6), r.pick(['x', 'y', 'z'])];
    expect(Array.from({ length: 50 }, () => draw(a))).toEqual(Array.from({ length: 50 }, () => draw(b)));
  });

  it('gives different sequences for different seeds', () => {
    const a = mulberry32(7);
    const b = mulberry32(8);
    const xs = Array.from({ length: 20 }, () => a());
    const ys = Array.from({ length: 20 }, () => b());
    expect(xs).not.toEqual(ys);
  });

  it('draws uniforms in [0, 1) and gaussians with the asked mean and sd', () => {
    const r = createRng(1);
    const u = Array.from({ length: 20_000 }, () => r.next());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const g = Array.from({ length: 20_000 }, () => r.gaussian(10, 2));
    const m = mean(g);
    const sd = Math.sqrt(mean(g.map((x) => (x - m) ** 2)));
    expect(m).toBeCloseTo(10, 1);
    expect(sd).toBeGreaterThan(1.9);
    expect(sd).toBeLessThan(2.1);
  });

  it('derives distinct, stable seeds per label', () => {
    expect(deriveSeed(7, 'bed', 1)).toBe(deriveSeed(7, 'bed', 1));
    const seeds = new Set([deriveSeed(7, 'bed', 1), deriveSeed(7, 'bed', 2), deriveSeed(8, 'bed', 1), deriveSeed(7, 'mix')]);
    expect(seeds.size).toBe(4);
  });

  it('shuffles without losing or duplicating items', () => {
    const items = Array.from({ length: 30 }, (_, i) => i);
    const shuffled = createRng(3).shuffle(items);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
  });
});

describe('physiology', () => {
  it('is reproducible: same seed, same readings', () => {
    expect(simulate('sepsis', 42, 10 * MIN)).toEqual(simulate('sepsis', 42, 10 * MIN));
    expect(simulate('artifact', 42, 10 * MIN)).toEqual(simulate('artifact', 42, 10 * MIN));
  });

  it('differs between seeds', () => {
    const hr = (seed: number) => simulate('stable', seed, 2 * MIN).map((r) => r.vitals.hr);
    expect(hr(1)).not.toEqual(hr(2));
  });

  it('gives each patient a baseline in the normal range (NEWS2 0 at baseline)', () => {
    for (let seed = 0; seed < 200; seed++) {
      const { baseline, ageYears } = createProfile(createRng(seed));
      expect(ageYears).toBeGreaterThanOrEqual(25);
      expect(ageYears).toBeLessThanOrEqual(90);
      expect(scoreNews2(baseline).total).toBe(0);
      expect(baseline.dbp).toBeLessThan(baseline.sbp - 20);
    }
  });

  it.each(SCENARIO_NAMES.filter((n) => n !== 'artifact'))(
    '%s stays within the plausible ranges, rounded as charted, over 24 h',
    (name) => {
      // Collected, then asserted once: ~80 000 readings.
      const wrong: string[] = [];
      for (const seed of [1, 2, 3]) {
        for (const { t, vitals } of simulate(name, seed, 24 * 60 * MIN, 10_000)) {
          for (const v of NUMERIC_VITALS) {
            const value = vitals[v];
            if (value === undefined) continue;
            const rounded = v === 'temp' ? Math.round(value * 10) / 10 : Math.round(value);
            if (value < PLAUSIBLE[v].min || value > PLAUSIBLE[v].max || value !== rounded) wrong.push(`seed ${seed} t ${t}: ${v} ${value}`);
          }
          if (vitals.dbp !== undefined && vitals.sbp !== undefined && vitals.dbp >= vitals.sbp) wrong.push(`seed ${seed} t ${t}: dbp ≥ sbp`);
        }
      }
      expect(wrong).toEqual([]);
    },
  );

  describe('artifact episodes', () => {
    const DAY = 24 * 60 * MIN;

    it('last 3 s to 2 min, mostly short, a few an hour, the same for the same seed', () => {
      const durations: number[] = [];
      for (const seed of [1, 2, 3, 4, 5]) {
        const episodes = artifactEpisodes(seed, 0, 0, DAY);
        expect(artifactEpisodes(seed, 0, 0, DAY)).toEqual(episodes);
        expect(episodes.length / 24).toBeGreaterThan(2.5); // ARTIFACT.perHour = 4
        expect(episodes.length / 24).toBeLessThan(5.5);
        for (const e of episodes) {
          expect(e.durationMs).toBeGreaterThanOrEqual(3_000);
          expect(e.durationMs).toBeLessThanOrEqual(120_000);
        }
        durations.push(...episodes.map((e) => e.durationMs));
      }
      durations.sort((a, b) => a - b);
      const median = durations[Math.floor(durations.length / 2)]!;
      expect(median).toBeGreaterThan(10_000); // log-uniform 3 s–2 min: median ~19 s
      expect(median).toBeLessThan(30_000);
      expect(durations.filter((d) => d < 30_000).length / durations.length).toBeGreaterThan(0.5);
      expect(durations.filter((d) => d > 60_000).length / durations.length).toBeGreaterThan(0.08);
      expect(artifactEpisodes(2, 0, 0, DAY)).not.toEqual(artifactEpisodes(1, 0, 0, DAY));
      // Every kind occurs.
      const kinds = new Set([1, 2, 3, 4, 5].flatMap((seed) => artifactEpisodes(seed, 0, 0, DAY).map((e) => e.kind)));
      expect([...kinds].sort()).toEqual(Object.keys(ARTIFACT.kinds).sort());
    });

    it('the scenario is a pure function of time: the effect holds the episode in progress, and nothing before the onset', () => {
      const scenario = createScenario('artifact', { onsetMs: 10 * MIN, seed: 9 });
      const episodes = artifactEpisodes(9, 10 * MIN, 0, 6 * 60 * MIN);
      expect(episodes.length).toBeGreaterThan(5);
      expect(episodes[0]!.startMs).toBeGreaterThanOrEqual(10 * MIN);
      for (let t = 0; t < 10 * MIN; t += 1000) expect(scenario.effect(t).artifact).toBeNull();
      for (const e of episodes) {
        expect(scenario.effect(e.startMs).artifact).toEqual(e);
        expect(scenario.effect(e.startMs + e.durationMs - 1).artifact).toEqual(e);
        expect(scenario.effect(e.startMs - 1).artifact).toBeNull();
        expect(artifactAt(9, 10 * MIN, e.startMs + e.durationMs)).toBeNull();
      }
      // Time in episodes ≈ 4/h × ~32 s: a few percent.
      let inEpisode = 0;
      for (let t = 10 * MIN; t < 6 * 60 * MIN; t += 1000) if (scenario.effect(t).artifact) inEpisode++;
      expect(inEpisode / ((6 * 60 * MIN - 10 * MIN) / 1000)).toBeLessThan(0.1);
      // Per bed: a seed from the bed's stream, so beds differ and the plan is reproducible.
      const a = scenarioForBed('artifact', createRng(1));
      const b = scenarioForBed('artifact', createRng(2));
      const firstEpisode = (sc: Scenario) => {
        for (let t = 0; t < 4 * 60 * MIN; t += 1000) if (sc.effect(t).artifact) return t;
        return null;
      };
      expect(firstEpisode(a)).not.toBeNull();
      expect(firstEpisode(a)).toBe(firstEpisode(scenarioForBed('artifact', createRng(1))));
      expect(firstEpisode(a)).not.toBe(firstEpisode(b));
    });

    it('corrupts most readings during an episode, none outside; now and then an implausible value', () => {
      const seed = 5;
      const readings = simulate(createScenario('artifact', { seed }), seed, 12 * 60 * MIN, 1000);
      const episodes = artifactEpisodes(seed, 0, 0, 12 * 60 * MIN);
      const during = (t: number) => episodes.find((e) => t >= e.startMs && t < e.startMs + e.durationMs);
      const inside = readings.filter((r) => during(r.t));
      const outside = readings.filter((r) => !during(r.t));
      expect(outside.every((r) => r.artifact === null)).toBe(true);
      expect(inside.filter((r) => r.artifact !== null).length / inside.length).toBeGreaterThan(0.75);
      const implausible = (v: VitalValues) => NUMERIC_VITALS.some((k) => v[k] !== undefined && (v[k] < PLAUSIBLE[k].min || v[k] > PLAUSIBLE[k].max));
      expect(outside.some((r) => implausible(r.vitals))).toBe(false);
      const bad = inside.filter((r) => implausible(r.vitals)).length;
      expect(bad).toBeGreaterThan(0);
      expect(bad / inside.length).toBeLessThan(0.15);
      // A corrupted motion/probe reading is far off: SpO2 down by several points, or HR off by 15+.
      const clean = outside.filter((r) => r.t < 60 * MIN);
      const spo2 = meanOf(clean, 'spo2', 0, 60 * MIN);
      const hr = meanOf(clean, 'hr', 0, 60 * MIN);
      const motion = inside.filter((r) => r.artifact === 'motion' && !implausible(r.vitals) && r.t < 60 * MIN);
      for (const r of motion) {
        expect((r.vitals.spo2 as number) < spo2 - 2 || Math.abs((r.vitals.hr as number) - hr) > 15).toBe(true);
      }
    });
  });

  it('stable patients mostly score NEWS2 0–1', () => {
    const scores = simulate('stable', 11, 6 * 60 * MIN, 10_000).map((r) => scoreNews2(r.vitals).total);
    expect(scores.filter((s) => s <= 1).length / scores.length).toBeGreaterThan(0.95);
  });

  it('has a circadian rhythm: temperature higher in the late afternoon than before dawn', () => {
    const readings = simulate('stable', 4, 24 * 60 * MIN, 60_000); // from 08:00 UTC
    const at = (hourUtc: number) => meanOf(readings, 'temp', ((hourUtc - 8 + 24) % 24) * 60 * MIN, ((hourUtc - 8 + 24) % 24) * 60 * MIN + 60 * MIN);
    expect(at(16)).toBeGreaterThan(at(4));
  });
});

describe('scenarios', () => {
  it('offers the documented scenarios, plus mixed for a fleet', () => {
    expect([...SCENARIO_NAMES].sort()).toEqual(
      ['artifact', 'bradycardia', 'fever', 'hypoxia', 'offline', 'sensor-off', 'sepsis', 'stable'].sort(),
    );
    expect(FLEET_SCENARIO_NAMES).toContain('mixed');
    for (const name of FLEET_SCENARIO_NAMES) expect(SCENARIO_DESCRIPTIONS[name]).toMatch(/\w/);
    for (const name of SCENARIO_NAMES) expect(createScenario(name).name).toBe(name);
  });

  it('sepsis: HR, RR and temperature rise; SpO2 and SBP fall', () => {
    for (const seed of [1, 2, 3, 4]) {
      const r = simulate('sepsis', seed, 68 * MIN, 5000); // onset 25 min, at the peak from 62 min
      const before = (v: NumericVital) => meanOf(r, v, 0, 20 * MIN);
      const after = (v: NumericVital) => meanOf(r, v, 63 * MIN, 68 * MIN);
      expect(after('hr')).toBeGreaterThan(before('hr') + 25);
      expect(after('rr')).toBeGreaterThan(before('rr') + 8);
      expect(after('temp')).toBeGreaterThan(before('temp') + 1.5);
      expect(after('spo2')).toBeLessThan(before('spo2') - 4);
      expect(after('sbp')).toBeLessThan(before('sbp') - 20);
    }
  });

  it('sepsis is compensated first: HR and RR up from baseline, NEWS2 ≤ 4, no limit crossed', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const scenario = scenarioForBed('sepsis', createRng(seed)); // onset 25–26 min
      const r = simulate(scenario, seed, 55 * MIN, 5000);
      const onset = scenario.onsetMs;
      const before = (v: NumericVital) => meanOf(r, v, 0, onset);
      // Late in the compensated phase (it decompensates 28 min after the onset).
      const from = onset + 15 * MIN;
      const to = onset + 28 * MIN;
      const late = r.filter((x) => x.t >= from && x.t < to).map((x) => x.vitals);
      expect(meanOf(r, 'hr', from, to)).toBeGreaterThan(1.2 * before('hr'));
      expect(meanOf(r, 'rr', from, to)).toBeGreaterThan(1.1 * before('rr'));
      expect(meanOf(r, 'temp', from, to)).toBeGreaterThan(before('temp') + 0.3);
      expect(meanOf(r, 'spo2', from, to)).toBeGreaterThan(before('spo2') - 1);
      expect(late.every((v) => scoreNews2(v).total <= 4)).toBe(true);
      // Inside the default limits (score/limits.ts): HR ≤ 120, RR ≤ 25, SpO2 ≥ 90, SBP ≥ 90, T ≤ 38.5.
      expect(Math.max(...late.map((v) => v.hr as number))).toBeLessThanOrEqual(118);
      expect(Math.max(...late.map((v) => v.rr as number))).toBeLessThanOrEqual(24);
      expect(Math.min(...late.map((v) => v.spo2 as number))).toBeGreaterThanOrEqual(94);
      expect(Math.min(...late.map((v) => v.sbp as number))).toBeGreaterThanOrEqual(100);
      expect(Math.max(...late.map((v) => v.temp as number))).toBeLessThanOrEqual(38.4);
    }
  });

  it('sepsis reaches NEWS2 ≥ 7 within 65 min at speed 1, and within 7 min at speed 10', () => {
    // RCP NEWS2 (2017): 7 or more is the high-risk band that should trigger an emergency response.
    for (let seed = 0; seed < 10; seed++) {
      const rng = createRng(seed);
      const scenario = scenarioForBed('sepsis', rng); // onset jittered 25–26 min
      const scores = simulate(scenario, seed, 65 * MIN, 5000).map((r) => ({ t: r.t, news2: scoreNews2(r.vitals).total }));
      const baseline = scores.filter((s) => s.t < 25 * MIN);
      expect(Math.max(...baseline.map((s) => s.news2))).toBeLessThan(5);
      const late = scores.filter((s) => s.t >= 63 * MIN && s.t <= 65 * MIN);
      expect(late.every((s) => s.news2 >= 7)).toBe(true);
    }
    // Scenario time runs 10× faster: the peak (~62 scenario min) is reached after ~6.2 wall minutes.
    const fast = simulate('sepsis', 1, 7 * MIN, 1000, 10).filter((r) => r.t >= 6.5 * MIN && r.t < 7 * MIN);
    expect(fast.every((r) => scoreNews2(r.vitals).total >= 7)).toBe(true);
  });

  it('sepsis adds new confusion at its peak; hypoxia starts oxygen', () => {
    const sepsis = createScenario('sepsis');
    expect(sepsis.effect(0).acvpu).toBe('A');
    expect(sepsis.effect(50 * MIN).acvpu).toBe('A'); // compensated: still alert
    expect(sepsis.effect(62 * MIN).acvpu).toBe('C');
    const hypoxia = createScenario('hypoxia', { onsetMs: MIN });
    expect(hypoxia.effect(5 * MIN).o2).toBe(false);
    expect(hypoxia.effect(9 * MIN).o2).toBe(true);
    const r = simulate('hypoxia', 3, 12 * MIN);
    expect(meanOf(r, 'spo2', 6 * MIN, 8 * MIN)).toBeLessThan(meanOf(r, 'spo2', 0, MIN) - 8);
    expect(meanOf(r, 'spo2', 11 * MIN, 12 * MIN)).toBeGreaterThan(meanOf(r, 'spo2', 6 * MIN, 8 * MIN) + 5);
  });

  it('bradycardia and fever move HR down and temperature up', () => {
    const brady = simulate('bradycardia', 2, 8 * MIN);
    expect(meanOf(brady, 'hr', 5 * MIN, 7 * MIN)).toBeLessThan(45);
    const fever = simulate('fever', 2, 20 * MIN);
    expect(meanOf(fever, 'temp', 15 * MIN, 20 * MIN)).toBeGreaterThan(39);
  });

  it('sensor-off omits the parameter while the sensor is off, and only then', () => {
    const r = simulate(createScenario('sensor-off', { onsetMs: 30_000 }), 1, 7 * MIN);
    const during = r.filter((x) => x.t >= 30_000 && x.t < 150_000);
    const outside = r.filter((x) => x.t < 30_000 || (x.t >= 150_000 && x.t < 6 * MIN + 30_000));
    expect(during.every((x) => !('spo2' in x.vitals))).toBe(true);
    expect(during.every((x) => x.vitals.hr !== undefined && x.vitals.sbp !== undefined)).toBe(true);
    expect(outside.every((x) => x.vitals.spo2 !== undefined)).toBe(true);
    // The window repeats every 6 min.
    expect(r.find((x) => x.t === 6 * MIN + 40_000)?.vitals.spo2).toBeUndefined();

    const bp = simulate(createScenario('sensor-off', { onsetMs: 0, sensors: ['sbp', 'dbp'] }), 1, MIN);
    expect(bp.every((x) => x.vitals.sbp === undefined && x.vitals.dbp === undefined && x.vitals.spo2 !== undefined)).toBe(true);
  });

  it('offline takes the device off the network for a window, then back', () => {
    const offline = createScenario('offline', { onsetMs: 45_000 });
    expect(offline.effect(44_000).offline).toBe(false);
    expect(offline.effect(45_000).offline).toBe(true);
    expect(offline.effect(104_000).offline).toBe(true);
    expect(offline.effect(105_000).offline).toBe(false);
    expect(offline.effect(5 * MIN + 50_000).offline).toBe(true);
  });

  it('episodes rise, hold and fall', () => {
    const shape = { onsetMs: 100, riseMs: 100, holdMs: 100, fallMs: 100, periodMs: 1000 };
    expect([0, 100, 150, 200, 250, 300, 350, 400, 600, 1100, 1250].map((t) => episode(t, shape))).toEqual([
      0, 0, 0.5, 1, 1, 1, 0.5, 0, 0, 0, 1,
    ]);
  });

  it('mixed: deterministic per seed, mostly stable, every other scenario present in a 24-bed ward', () => {
    const a = assignScenarios('mixed', 24, createRng(7));
    expect(assignScenarios('mixed', 24, createRng(7))).toEqual(a);
    expect(assignScenarios('mixed', 24, createRng(8))).not.toEqual(a);
    expect(a.filter((n) => n === 'stable').length).toBe(17);
    for (const name of SCENARIO_NAMES) expect(a).toContain(name);
    expect(assignScenarios('mixed', 1, createRng(7))).toEqual(['sepsis']);
    expect(assignScenarios('fever', 3, createRng(7))).toEqual(['fever', 'fever', 'fever']);
  });
});

describe('telemetry payload', () => {
  const vitals: VitalValues = { hr: 72, spo2: 97, rr: 14, temp: 36.8, sbp: 122, dbp: 78, o2: false, acvpu: 'A' };

  it('carries ts, seq and the numeric vitals only: o2 and ACVPU are the nurse’s', () => {
    const first = buildPayload(T0, 0, vitals, null);
    expect(JSON.stringify(first.payload)).toBe(`{"ts":${T0},"seq":0,"hr":72,"spo2":97,"rr":14,"temp":36.8,"sbp":122,"dbp":78}`);
    expect(first.memo).toBeNull();
    expect(buildPayload(T0 + 1000, 1, { ...vitals, o2: true, acvpu: 'C' }, null).payload).not.toHaveProperty('o2');
    expect(buildPayload(T0 + 1000, 1, { ...vitals, o2: true, acvpu: 'C' }, null).payload).not.toHaveProperty('acvpu');
    // Every scenario's readings, as a device sends them.
    for (const name of SCENARIO_NAMES) {
      for (const { t, vitals: v } of simulate(name, 3, 70 * MIN, 60_000)) {
        const { payload } = buildPayload(T0 + t, 0, v, null);
        expect(payload).not.toHaveProperty('o2');
        expect(payload).not.toHaveProperty('acvpu');
      }
    }
  });

  it('with --device-assessments: o2 and ACVPU first, on change and every 30 s', () => {
    const on = { assessments: true };
    const first = buildPayload(T0, 0, vitals, null, on);
    expect(JSON.stringify(first.payload)).toBe(
      `{"ts":${T0},"seq":0,"hr":72,"spo2":97,"rr":14,"temp":36.8,"sbp":122,"dbp":78,"o2":false,"acvpu":"A"}`,
    );
    const memo = first.memo as CategoricalMemo;
    const second = buildPayload(T0 + 1000, 1, vitals, memo, on);
    expect(second.payload).not.toHaveProperty('o2');
    expect(second.payload).not.toHaveProperty('acvpu');
    expect(second.memo).toBe(memo);
    expect(buildPayload(T0 + 2000, 2, { ...vitals, o2: true }, memo, on).payload.o2).toBe(true);
    expect(buildPayload(T0 + 2000, 2, { ...vitals, acvpu: 'C' }, memo, on).payload.acvpu).toBe('C');
    expect(buildPayload(T0 + 30_000, 30, vitals, memo, on).payload.acvpu).toBe('A');
    expect(buildPayload(T0 + 10_000, 30, vitals, memo, { ...on, refreshMs: 10_000 }).payload.acvpu).toBe('A');
  });

  it('decodes without issues on the server, for every scenario but artifact', () => {
    for (const name of SCENARIO_NAMES.filter((n) => n !== 'artifact')) {
      let memo: CategoricalMemo | null = null;
      simulate(name, 9, 10 * MIN, 5000).forEach(({ t, vitals: v }, seq) => {
        const built = buildPayload(T0 + t, seq, v, memo, { assessments: seq % 2 === 0 });
        memo = built.memo;
        const decoded = decodeTelemetry(JSON.stringify(built.payload), T0 + t);
        expect(decoded.issues).toEqual([]);
        expect(decoded.readings[0]?.seq).toBe(seq);
      });
    }
  });
});

describe('publish timing', () => {
  it('spreads devices evenly over one period', () => {
    const offsets = spreadOffsets(24, 1000);
    expect(offsets).toHaveLength(24);
    expect(offsets[0]).toBe(0);
    for (let i = 1; i < offsets.length; i++) expect((offsets[i] as number) - (offsets[i - 1] as number)).toBeCloseTo(1000 / 24, 9);
    expect(Math.max(...offsets)).toBeLessThan(1000);
    // A fractional rate spreads over the longer period.
    expect(spreadOffsets(4, 2000)).toEqual([0, 500, 1000, 1500]);
  });

  it('each second carries every device once, evenly spaced, not in a burst', () => {
    const plan = planFleet(anonymousDevices(24), 'mixed', 7, 1000);
    const ticks: number[] = [];
    for (const device of plan) {
      let due = nextTickTime(T0 + device.phaseMs, 1000, T0 - 1);
      while (due < T0 + 10_000) {
        ticks.push(due);
        due = nextTickTime(T0 + device.phaseMs, 1000, due);
      }
    }
    ticks.sort((a, b) => a - b);
    for (let s = 0; s < 10; s++) {
      expect(ticks.filter((t) => t >= T0 + s * 1000 && t < T0 + (s + 1) * 1000)).toHaveLength(24);
    }
    const gaps = ticks.slice(1).map((t, i) => t - (ticks[i] as number));
    expect(Math.min(...gaps)).toBeCloseTo(1000 / 24, 3);
    expect(Math.max(...gaps)).toBeCloseTo(1000 / 24, 3);
  });

  it('schedules the next grid slot strictly after now, skipping missed ones', () => {
    expect(nextTickTime(1000, 100, 500)).toBe(1000);
    expect(nextTickTime(1000, 100, 1000)).toBe(1100);
    expect(nextTickTime(1000, 100, 1099.9)).toBe(1100);
    expect(nextTickTime(1000, 100, 1550)).toBe(1600);
  });
});

describe('fleet plan', () => {
  it('is deterministic and gives each bed its own patient', () => {
    const devices = anonymousDevices(24);
    expect(devices[0]?.deviceId).toBe('sim-0001');
    expect(devices[23]?.deviceId).toBe('sim-0024');
    const a = planFleet(devices, 'mixed', 7, 1000);
    const b = planFleet(devices, 'mixed', 7, 1000);
    expect(a.map((d) => [d.scenario.name, d.scenario.onsetMs, d.profile, d.seed])).toEqual(
      b.map((d) => [d.scenario.name, d.scenario.onsetMs, d.profile, d.seed]),
    );
    expect(new Set(a.map((d) => d.seed)).size).toBe(24);
    expect(new Set(a.map((d) => d.profile.baseline.hr)).size).toBeGreaterThan(20);
  });

  it('--onset sets the onset of every non-stable bed and changes nothing else', () => {
    const devices = anonymousDevices(24);
    const own = planFleet(devices, 'mixed', 7, 1000);
    const at25 = planFleet(devices, 'mixed', 7, 1000, 25 * MIN);
    expect(at25.map((d) => [d.deviceId, d.scenario.name, d.profile, d.seed, d.phaseMs])).toEqual(
      own.map((d) => [d.deviceId, d.scenario.name, d.profile, d.seed, d.phaseMs]),
    );
    for (const d of at25) expect(d.scenario.onsetMs).toBe(d.scenario.name === 'stable' ? 0 : 25 * MIN);
    // Same random draws: a sensor-off bed loses the same sensor as without --onset.
    const i = own.findIndex((d) => d.scenario.name === 'sensor-off');
    expect(at25[i]!.scenario.effect(25 * MIN + 1000).missing).toEqual(own[i]!.scenario.effect(own[i]!.scenario.onsetMs + 1000).missing);
    const sepsis = at25.find((d) => d.scenario.name === 'sepsis')!.scenario;
    expect(sepsis.effect(25 * MIN).severity).toBe(0);
    expect(sepsis.effect(35 * MIN).severity).toBeGreaterThan(0); // compensated
    expect(sepsis.effect(35 * MIN).severity).toBeLessThan(0.5);
    expect(sepsis.effect(62 * MIN).severity).toBe(1); // decompensated
  });

  describe('sepsis through the alarm engine (simulator/USAGE.md)', () => {
    /**
     * First time (scenario minutes) each kind of alarm fires, feeding one bed's readings to the
     * engine every 5 s in simulated time. Nobody acts on the alarms, so a high one escalates.
     */
    const firstAlarms = (scenario: Scenario, seed: number, speed = 1, durationMs = 70 * MIN) => {
      let n = 0;
      const engine = new AlarmEngine({ context: () => ({ spo2Scale: 1, limits: null }), newId: () => `a${++n}` });
      const first = new Map<string, number>();
      for (const r of simulate(scenario, seed, durationMs, 5000, speed)) {
        const at = T0 + r.t;
        const out = engine.reading({ ts: at, deviceId: 'sim-0001', patientId: 'p1', values: r.vitals, source: 'device', receivedAt: at }, at);
        for (const a of out.alarms) {
          const key = a.kind === 'news2' ? `news2-${a.priority}` : a.kind === 'trend' ? `trend-${a.parameter}` : a.kind;
          if (a.state !== 'resolved' && !first.has(key)) first.set(key, r.t / MIN);
        }
        // The NEWS2-high alarm's escalation (an unacknowledged medium alarm, e.g. the trend, escalates later on its own).
        if (out.escalations.some((e) => e.alarm.priority === 'high') && !first.has('escalation')) first.set('escalation', r.t / MIN);
      }
      return first;
    };

    /** trend (HR or RR) → NEWS2 medium → NEWS2 high → escalation 60 s or more later; nothing physiological before the trend. */
    const expectTrendFirst = (first: Map<string, number>, onsetMin: number) => {
      const trend = Math.min(first.get('trend-hr') ?? Infinity, first.get('trend-rr') ?? Infinity);
      const medium = first.get('news2-medium')!;
      const high = first.get('news2-high')!;
      const escalation = first.get('escalation')!;
      expect(Math.min(...first.values())).toBeGreaterThan(onsetMin); // nothing before the onset
      expect(Math.min(...first.values())).toBe(trend);
      // The baseline (20 min) is learned before the onset; the change is then held 10 min.
      expect(trend).toBeGreaterThan(onsetMin + 10);
      expect(trend).toBeLessThan(onsetMin + 20);
      expect(trend).toBeLessThan(medium);
      // NEWS2 stays ≤ 4 through the compensated phase (28 min), then decompensation takes a few minutes.
      expect(medium).toBeGreaterThan(onsetMin + 28);
      expect(medium).toBeLessThanOrEqual(high);
      expect(high).toBeLessThan(onsetMin + 35);
      expect(escalation).toBeGreaterThanOrEqual(high + 1); // ESCALATE_AFTER_S, unacknowledged
      expect(escalation).toBeLessThan(high + 3);
    };

    it.each([1, 2, 3, 4, 5, 6])('default onset (25–26 min), seed %i: trend, then NEWS2 medium, NEWS2 high, escalation', (seed) => {
      const scenario = scenarioForBed('sepsis', createRng(seed));
      expect(scenario.onsetMs).toBeGreaterThanOrEqual(25 * MIN);
      expect(scenario.onsetMs).toBeLessThan(26 * MIN);
      expectTrendFirst(firstAlarms(scenario, seed), scenario.onsetMs / MIN);
    });

    it('--onset 25 gives the same order', () => {
      for (const seed of [1, 2]) expectTrendFirst(firstAlarms(createScenario('sepsis', { onsetMs: 25 * MIN }), seed), 25);
    });

    it('with --speed 10 the deterioration falls inside the trend warm-up: NEWS2 first, no trend', () => {
      // Trend rules run on wall-clock timestamps: 25 scenario minutes are 2.5 real ones.
      const fast = firstAlarms(scenarioForBed('sepsis', createRng(1)), 1, 10, 12 * MIN);
      expect(fast.get('news2-high')).toBeDefined();
      expect(fast.get('news2-medium')!).toBeLessThan(7);
      expect([...fast.keys()].some((k) => k.startsWith('trend'))).toBe(false);
    });
  });

  it('keeps a bed the same patient whatever the ward size', () => {
    const small = planFleet(anonymousDevices(5), 'stable', 7, 1000);
    const large = planFleet(anonymousDevices(50), 'stable', 7, 1000);
    expect(small[3]?.profile).toEqual(large[3]?.profile);
  });
});

describe('nurse', () => {
  const HOUR = 60 * MIN;
  const SEVEN = ['ts', 'hr', 'spo2', 'rr', 'temp', 'sbp', 'dbp', 'o2', 'acvpu'];

  it('observes at the RCP NEWS2 chart 4 frequency (scenario time)', () => {
    expect(observationIntervalMs({ total: 0, band: 'low' })).toBe(12 * HOUR);
    expect(observationIntervalMs({ total: 1, band: 'low' })).toBe(4 * HOUR);
    expect(observationIntervalMs({ total: 4, band: 'low' })).toBe(4 * HOUR);
    expect(observationIntervalMs({ total: 3, band: 'low-medium' })).toBe(HOUR); // a single parameter 3
    expect(observationIntervalMs({ total: 5, band: 'medium' })).toBe(HOUR);
    expect(observationIntervalMs({ total: 6, band: 'medium' })).toBe(HOUR);
    expect(observationIntervalMs({ total: 7, band: 'high' })).toBe(NURSE.continuousMs);
    expect(observationIntervalMs({ total: 12, band: 'high' })).toBe(30 * MIN);
  });

  it('starts with a round spread over the beds, one bed at a time', () => {
    const round = firstRound(6, T0);
    expect(round.map((c) => c.dueAt - T0)).toEqual([3000, 4000, 5000, 6000, 7000, 8000]);
    expect(round.every((c) => c.reason === 'round' && c.last === null && c.active)).toBe(true);
    const big = firstRound(500, T0);
    expect(big[499]!.dueAt - T0).toBeLessThan(NURSE.roundDelayMs + NURSE.roundMaxMs);
    expect(new Set(big.map((c) => Math.floor(c.dueAt / 1000))).size).toBeGreaterThan(50);
  });

  it('takes a full set from the patient the monitor measures, without artifact, with o2 and ACVPU from the scenario', () => {
    const profile = createProfile(createRng(3));
    const rng = createRng(4);
    let state = createPatient({ profile, scenario: createScenario('hypoxia', { onsetMs: MIN }), startMs: T0 });
    for (let t = 0; t <= 10 * MIN; t += 5000) state = step(state, T0 + t, rng).state;
    const truth = observe(state, T0 + 10 * MIN);
    const a = observe(state, T0 + 10 * MIN, createRng(8));
    expect(observe(state, T0 + 10 * MIN, createRng(8))).toEqual(a); // deterministic by seed
    expect(a.o2).toBe(true); // oxygen started at 8 min
    expect(a.acvpu).toBe('A');
    expect(Object.keys(a.vitals).sort()).toEqual([...NUMERIC_VITALS].sort());
    expect(Math.abs(a.vitals.hr - truth.vitals.hr)).toBeLessThanOrEqual(6);
    expect(Math.abs(a.vitals.spo2 - truth.vitals.spo2)).toBeLessThanOrEqual(2);
    // Close to what the monitor reads at the same moment (noise and artifact aside).
    const monitor = step(state, T0 + 10 * MIN, createRng(1)).vitals;
    expect(Math.abs(a.vitals.hr - (monitor.hr as number))).toBeLessThan(10);
    expect(Math.abs(a.vitals.spo2 - (monitor.spo2 as number))).toBeLessThan(4);
    // In an artifact episode the nurse still charts what is there.
    const art = createScenario('artifact', { seed: 5 });
    const e = artifactEpisodes(5, 0, 0, 12 * HOUR).find((x) => x.kind === 'motion')!;
    const p = createPatient({ profile, scenario: art, startMs: T0 });
    const during = observe(p, T0 + e.startMs + 1000, createRng(2));
    const calm = observe({ ...p, scenario: createScenario('stable') }, T0 + e.startMs + 1000, createRng(2));
    expect(during).toEqual(calm);
  });

  it('posts the device payload format with all seven NEWS2 parameters, accepted by the server decoder', () => {
    const body = observationBody(T0, { vitals: { hr: 88, spo2: 95, rr: 19, temp: 37.9, sbp: 118, dbp: 70 }, o2: true, acvpu: 'C' });
    expect(Object.keys(body)).toEqual(SEVEN);
    const decoded = decodeTelemetry(JSON.stringify(body), T0);
    expect(decoded.issues).toEqual([]);
    expect(decoded.readings[0]).toMatchObject({ ts: T0, values: { hr: 88, spo2: 95, rr: 19, temp: 37.9, sbp: 118, dbp: 70, o2: true, acvpu: 'C' } });
  });

  it('reassesses at once when oxygen or consciousness changes, sooner when the score calls for it', () => {
    const set = { vitals: { hr: 80, spo2: 97, rr: 16, temp: 37, sbp: 125, dbp: 75 }, o2: false, acvpu: 'A' as const };
    const after = charted(firstRound(1, T0)[0]!, T0, set, 1);
    // Due in 12 h, a minute early (the server counts her o2/ACVPU until the next set is due).
    expect(scheduleMs(12 * HOUR, 1)).toBe(12 * HOUR - MIN);
    expect(scheduleMs(30 * MIN, 100)).toBe(0.95 * 18_000);
    expect(after).toMatchObject({ dueAt: T0 + 12 * HOUR - MIN, reason: 'routine', last: { at: T0, reason: 'round', o2: false, acvpu: 'A', total: 0, band: 'low' } });
    const now = T0 + 10 * MIN;
    const seen = (total: number, band: News2Band, o2 = false, acvpu: Acvpu = 'A') => ({ o2, acvpu, total, band });
    expect(review(after, now, seen(0, 'low'), 1)).toBe(after);
    expect(review(after, now, seen(0, 'low', true), 1)).toMatchObject({ dueAt: now, reason: 'assessment' });
    expect(review(after, now, seen(3, 'low-medium', false, 'C'), 1)).toMatchObject({ dueAt: now, reason: 'assessment' });
    // Score 1–4 on the monitor: 4-hourly from her last set, no rush.
    expect(review(after, now, seen(2, 'low'), 1)).toMatchObject({ dueAt: T0 + 4 * HOUR - MIN, reason: 'deterioration' });
    // A band risen: she comes within 5 min (scenario time), or at once when the interval has passed.
    expect(review(after, now, seen(5, 'medium'), 1)).toMatchObject({ dueAt: now + NURSE.responseMs, reason: 'deterioration' });
    expect(review(after, now, seen(5, 'medium'), 10)).toMatchObject({ dueAt: now, reason: 'deterioration' });
    const moved = review(after, now, seen(2, 'low'), 1);
    expect(review(moved, now + MIN, seen(7, 'high'), 1)).toMatchObject({ dueAt: now + MIN + NURSE.responseMs });
    // After a response she comes again for a higher band, but not within 15 min of it.
    const responded = charted({ ...after, reason: 'deterioration' }, now, { ...set, vitals: { ...set.vitals, rr: 22 } }, 1);
    expect(responded.last).toMatchObject({ reason: 'deterioration', total: 2, band: 'low' });
    expect(review(responded, now + MIN, seen(5, 'medium'), 1)).toMatchObject({ dueAt: now + NURSE.minGapMs, reason: 'deterioration' });
    // A falling score waits for the routine set; the first round and a retry are not moved.
    const high = charted(firstRound(1, T0)[0]!, T0, { ...set, vitals: { ...set.vitals, rr: 30, sbp: 88, hr: 135 } }, 1);
    expect(high.last?.band).toBe('high');
    expect(high.dueAt).toBe(T0 + 29 * MIN);
    expect(review(high, now, seen(0, 'low'), 1)).toBe(high);
    const round = firstRound(1, T0)[0]!;
    expect(review(round, T0, seen(9, 'high', true, 'V'), 1)).toBe(round);
    const retry: BedChart = { ...after, reason: 'retry', dueAt: now + 30_000 };
    expect(review(retry, now, seen(9, 'high', true), 1)).toBe(retry);
  });

  it('handles refusals: retries failures, logs in again on 401, drops a gone patient, stops on 403', () => {
    expect([0, 500, 503, 429, 401, 403, 404, 409, 400, 422].map(failureAction)).toEqual([
      'retry', 'retry', 'retry', 'retry', 'relogin', 'stop', 'drop', 'drop', 'skip', 'skip',
    ]);
    const chart: BedChart = { index: 0, dueAt: T0, reason: 'routine', last: null, active: true };
    expect(afterFailure(chart, T0, 'retry', 1)).toMatchObject({ dueAt: T0 + NURSE.retryMs, reason: 'retry', active: true });
    expect(afterFailure(chart, T0, 'retry', 1, 5000)).toMatchObject({ dueAt: T0 + 5000 });
    expect(afterFailure({ ...chart, reason: 'round' }, T0, 'retry', 1)).toMatchObject({ reason: 'round' });
    expect(afterFailure(chart, T0, 'skip', 4)).toMatchObject({ dueAt: T0 + NURSE.skipMs / 4, reason: 'retry' });
    expect(afterFailure(chart, T0, 'drop', 1).active).toBe(false);
  });

  /** Beds whose patients a monitor steps every 30 s; the nurse looks every 10 s. */
  const ward = (scenarios: Scenario[], speed: number) => {
    const states = scenarios.map((scenario, i) => createPatient({ profile: createProfile(createRng(100 + i)), scenario, startMs: T0, speed }));
    const rngs = scenarios.map((_, i) => createRng(200 + i));
    return (bed: number, t: number) => {
      let s = states[bed]!;
      while ((s.lastMs ?? T0 - 30_000) + 30_000 <= t) s = step(s, (s.lastMs ?? T0 - 30_000) + 30_000, rngs[bed]!).state;
      states[bed] = s;
      return s;
    };
  };
  const nurseRngs = (n: number) => Array.from({ length: n }, (_, i) => createRng(300 + i));

  it('plans a ward: first round, chart-4 intervals, an extra set when oxygen starts or confusion appears', () => {
    const scenarios = [createScenario('stable'), createScenario('hypoxia', { onsetMs: MIN }), createScenario('sepsis', { onsetMs: 25 * MIN })];
    const sets = dryRun(3, ward(scenarios, 1), nurseRngs(3), T0, T0 + 13 * HOUR, 1000);
    expect(dryRun(3, ward(scenarios, 1), nurseRngs(3), T0, T0 + 13 * HOUR, 1000)).toEqual(sets); // deterministic

    // The first round: each bed once, a second apart, before anything else.
    expect(sets.slice(0, 3).map((s) => [s.bed, s.reason, s.at - T0])).toEqual([
      [0, 'round', 3000],
      [1, 'round', 4000],
      [2, 'round', 5000],
    ]);
    // Always a full set, timed at the moment it was taken.
    for (const s of sets) {
      expect(Object.keys(s.body)).toEqual(SEVEN);
      expect(s.body.ts).toBe(s.at);
    }
    const ofBed = (bed: number) => sets.filter((s) => s.bed === bed);
    // Never later than the chart-4 interval of the set before; a routine set exactly then (within one look).
    for (const bed of [0, 1, 2]) {
      const mine = ofBed(bed);
      for (let i = 1; i < mine.length; i++) {
        const gap = mine[i]!.at - mine[i - 1]!.at;
        const every = scheduleMs(observationIntervalMs(mine[i - 1]!), 1);
        expect(gap).toBeLessThan(every + 1000);
        if (mine[i]!.reason === 'routine') expect(gap).toBeGreaterThanOrEqual(every);
      }
    }
    // The stable bed: the round, then sets 4–12 h apart (4 h once the monitor shows a score of
    // 1–4), on air and alert throughout.
    const stable = ofBed(0);
    expect(stable[0]!.reason).toBe('round');
    expect(stable.slice(1).every((s) => s.reason === 'routine' || s.reason === 'deterioration')).toBe(true);
    expect(stable.length).toBeGreaterThanOrEqual(2);
    expect(stable.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < stable.length; i++) expect(stable[i]!.at - stable[i - 1]!.at).toBeGreaterThanOrEqual(scheduleMs(4 * HOUR, 1));
    expect(stable.every((s) => !s.body.o2 && s.body.acvpu === 'A')).toBe(true);

    // Hypoxia: oxygen is started at 8 min; the nurse charts it at once; from then on on O2.
    const hypoxia = ofBed(1);
    const o2Set = hypoxia.find((s) => s.body.o2)!;
    expect(o2Set.reason).toBe('assessment');
    expect(o2Set.at - T0).toBeGreaterThanOrEqual(8 * MIN);
    expect(o2Set.at - T0).toBeLessThanOrEqual(8 * MIN + 1000);
    expect(hypoxia.filter((s) => s.at < o2Set.at).every((s) => !s.body.o2)).toBe(true);
    expect(hypoxia.filter((s) => s.at > o2Set.at).every((s) => s.body.o2)).toBe(true);
    // SpO2 falling before the oxygen: she responded to the rising score (within 5 min).
    expect(hypoxia.some((s) => s.reason === 'deterioration' && s.at < o2Set.at)).toBe(true);
    // On oxygen NEWS2 ≥ 1, so never the 12 h interval again.
    for (const s of hypoxia.filter((x) => x.at >= o2Set.at)) expect(observationIntervalMs(s)).toBeLessThanOrEqual(4 * HOUR);

    // Sepsis: new confusion (~61–62 min) charted at once, as C; then at least hourly while it lasts.
    const sepsis = ofBed(2);
    const confused = sepsis.find((s) => s.body.acvpu === 'C')!;
    expect(confused.reason).toBe('assessment');
    expect((confused.at - T0) / MIN).toBeGreaterThan(60);
    expect((confused.at - T0) / MIN).toBeLessThan(63);
    expect(confused.total).toBeGreaterThanOrEqual(7);
    expect(sepsis.some((s) => s.reason === 'deterioration' && s.at < confused.at)).toBe(true);
    const later = sepsis.filter((s) => s.at > confused.at);
    expect(later.length).toBeGreaterThan(20); // every 30 min while NEWS2 ≥ 7
    for (let i = 1; i < later.length; i++) expect(later[i]!.at - later[i - 1]!.at).toBeLessThanOrEqual(HOUR + 1000);
  });

  it('runs on scenario time: at --speed 10 a 12-hour interval is 72 wall minutes, 4 hours 24', () => {
    const sets = dryRun(1, ward([createScenario('stable')], 10), nurseRngs(1), T0, T0 + 3 * HOUR, 1000);
    expect(sets[0]!.reason).toBe('round');
    // 12 h (or 4 h once the monitor shows 1–4) of scenario time, a minute early.
    const gap = sets[1]!.at - sets[0]!.at;
    const near = (ms: number) => gap >= ms && gap < ms + 1000;
    expect(near(12 * HOUR / 10 - MIN) || near(4 * HOUR / 10 - MIN)).toBe(true);
    expect(sets.length).toBeGreaterThanOrEqual(2);
  });

  it('logs sets, the end of the round, refusals (the first few) and why it stopped', () => {
    const lines: string[] = [];
    const log = nurseLogger((l) => lines.push(l), { maxRefusals: 2 });
    const set = { vitals: { hr: 80, spo2: 97, rr: 16, temp: 37, sbp: 125, dbp: 75 }, o2: true, acvpu: 'A' as const };
    const recorded = (reason: 'round' | 'assessment'): NurseEvent => ({
      type: 'recorded', bed: 'A-02', patientId: 'p', scenario: 'hypoxia', reason, body: observationBody(T0, set), total: 2, band: 'low',
      line: describeSet('A-02', 'hypoxia', reason, set, 10),
    });
    log(recorded('round'));
    log(recorded('assessment'));
    log({ type: 'round-done', beds: 3, recorded: 3 });
    for (let i = 0; i < 4; i++) log({ type: 'refused', bed: 'A-01', patientId: 'p', status: 409, code: 'CONFLICT', message: 'patient is archived', action: 'drop' });
    log({ type: 'stopped', reason: 'x may not record observations' });
    log({ type: 'stopped', reason: 'stopped' });
    expect(lines).toEqual([
      'nurse: A-02 (hypoxia) oxygen/consciousness changed: on O2, ACVPU A, NEWS2 2 low → next in 4 h (24 min at ×10)',
      'nurse: first round done, 3 of 3 beds charted (all seven NEWS2 parameters)',
      'nurse: A-01: refused 409 CONFLICT: patient is archived (no more sets for this bed)',
      'nurse: A-01: refused 409 CONFLICT: patient is archived (no more sets for this bed)',
      'nurse: further refusals are only counted',
      'nurse: stopped: x may not record observations',
    ]);
    expect(noNurseNote('no nurse credentials', false)).toMatch(/scores will be partial \(missing acvpu and o2\)/);
    expect(noNurseNote('nurse off', true)).toMatch(/devices send o2 and acvpu themselves/);
  });
});

describe('cli options', () => {
  it('has defaults', () => {
    const r = parseCliArgs([]);
    expect(r).toMatchObject({
      ok: true,
      options: { beds: undefined, rate: 1, scenario: 'mixed', seed: 1, speed: 1, qos: 0, ward: 'A', mqtt: 'mqtt://127.0.0.1:1883', fleetFile: '.simulator/fleet-A.json' },
    });
  });

  it('parses the documented example', () => {
    const r = parseCliArgs(['--beds', '24', '--rate', '0.5', '--scenario', 'sepsis', '--seed', '7', '--speed', '10', '--qos', '1', '--anonymous', '--duration', '30', '--mqtt', 'ws://h:8080/mqtt']);
    expect(r).toMatchObject({ ok: true, options: { beds: 24, rate: 0.5, scenario: 'sepsis', seed: 7, speed: 10, qos: 1, anonymous: true, duration: 30, mqtt: 'ws://h:8080/mqtt' } });
  });

  it('takes --onset in scenario minutes; without it each scenario keeps its own', () => {
    expect(parseCliArgs([])).toMatchObject({ ok: true, options: { onset: undefined } });
    expect(parseCliArgs(['--beds', '1', '--scenario', 'sepsis', '--onset', '25'])).toMatchObject({
      ok: true,
      options: { beds: 1, scenario: 'sepsis', onset: 25 },
    });
    expect(parseCliArgs(['--onset', '0'])).toMatchObject({ ok: true, options: { onset: 0 } });
    expect(parseCliArgs(['--onset=2.5'])).toMatchObject({ ok: true, options: { onset: 2.5 } });
  });

  it.each([
    [['--onset=-1'], /--onset must be between 0 and 1440, got -1/],
    [['--onset', '1441'], /--onset must be between 0 and 1440/],
    [['--onset', 'soon'], /--onset must be a number, got 'soon'/],
    [['--onset', ''], /--onset must be a number/],
    [['--onset'], /argument missing/],
    [['--beds', '0'], /--beds must be between/],
    [['--beds', '2.5'], /whole number/],
    [['--rate', 'fast'], /--rate must be a number/],
    [['--scenario', 'plague'], /--scenario must be one of/],
    [['--qos', '2'], /--qos/],
    [['--mqtt', 'http://x'], /--mqtt must start with/],
    [['--url', 'nope'], /not a URL/],
    [['--ward', 'a b'], /--ward/],
    [['--provision', '--anonymous'], /cannot be combined/],
    [['--provision'], /--admin-email/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['--beds'], /argument missing/],
    [['extra'], /unexpected argument/],
  ])('refuses %j', (argv, message) => {
    const r = parseCliArgs(argv);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });

  it('takes admin credentials from the environment', () => {
    const r = parseCliArgs(['--provision'], { ADMIN_EMAIL: 'a@b.c', ADMIN_PASSWORD: 'pw' });
    expect(r).toMatchObject({ ok: true, options: { adminEmail: 'a@b.c', adminPassword: 'pw' } });
  });

  it('takes the nurse from flags or the environment; --no-nurse and --device-assessments', () => {
    expect(parseCliArgs([])).toMatchObject({ ok: true, options: { nurseEmail: undefined, nursePassword: undefined, noNurse: false, deviceAssessments: false, urlGiven: false } });
    expect(parseCliArgs(['--nurse-email', 'n@w.l', '--nurse-password', 'pw', '--url', 'http://h:1'])).toMatchObject({
      ok: true,
      options: { nurseEmail: 'n@w.l', nursePassword: 'pw', url: 'http://h:1', urlGiven: true },
    });
    expect(parseCliArgs([], { NURSE_EMAIL: 'e@w.l', NURSE_PASSWORD: 'x' })).toMatchObject({ ok: true, options: { nurseEmail: 'e@w.l', nursePassword: 'x' } });
    expect(parseCliArgs(['--nurse-email', 'f@w.l'], { NURSE_EMAIL: 'e@w.l', NURSE_PASSWORD: 'x' })).toMatchObject({ ok: true, options: { nurseEmail: 'f@w.l' } });
    expect(parseCliArgs(['--no-nurse', '--device-assessments'])).toMatchObject({ ok: true, options: { noNurse: true, deviceAssessments: true } });
    const half = parseCliArgs(['--nurse-email', 'n@w.l']);
    expect(half.ok).toBe(false);
    if (!half.ok) expect(half.message).toMatch(/--nurse-email needs --nurse-password/);
    expect(parseCliArgs(['--nurse-password', 'pw']).ok).toBe(false);
    expect(parseCliArgs(['--nurse-email', 'n@w.l', '--no-nurse']).ok).toBe(true);
  });
});

describe('summary line', () => {
  const stats = { devices: 24, connected: 23, sent: 12345, errorsReceived: 2, connectFailures: 1, refused: 0, simulatedOffline: 1 };
  it('shows connections, rate, totals, errors and failures on one line', () => {
    const line = formatSummary(stats, 23.96, 83_000);
    expect(line).toBe('00:01:23 · 23/24 connected · 24.0 msg/s · 12,345 sent · 2 errors · 1 conn failures · 1 simulated offline');
    expect(line).not.toContain('\n');
    expect(fitToWidth(line, 40)).toHaveLength(39);
  });

  it('adds the nurse’s sets when a nurse runs', () => {
    expect(formatSummary(stats, null, 1000, { recorded: 1234, refused: 0 })).toContain(' · 1,234 obs sets');
    expect(formatSummary(stats, null, 1000, { recorded: 3, refused: 2 })).toContain(' · 3 obs sets (2 refused)');
  });
});

describe('provisioning', () => {
  it('logs in, then creates and assigns one patient and one device per bed', async () => {
    const calls: { method: string; path: string; auth: string | null; body: Record<string, unknown> }[] = [];
    const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
      const method = init?.method ?? 'GET';
      calls.push({ method, path: url.pathname, auth: new Headers(init?.headers).get('authorization'), body });
      const reply = (o: unknown, status = 200) => new Response(JSON.stringify(o), { status, headers: { 'content-type': 'application/json' } });
      if (url.pathname === '/api/auth/login') return reply({ token: 't0k', user: {} });
      if (url.pathname === '/api/patients') return reply({ id: `p${calls.length}`, ...body, spo2Scale: 1 }, 201);
      if (url.pathname === '/api/devices') return reply({ id: `d${calls.length}`, secret: `s${calls.length}` }, 201);
      return reply({ id: url.pathname.split('/').pop(), patientId: body.patientId });
    }) as typeof fetch;

    const file = await provisionFleet({ baseUrl: 'http://api.test', email: 'a@b.c', password: 'pw', ward: 'B', beds: 2, seed: 7, fetch: fakeFetch });
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /api/auth/login',
      'POST /api/patients',
      'POST /api/devices',
      'PUT /api/devices/d3',
      'POST /api/patients',
      'POST /api/devices',
      'PUT /api/devices/d6',
    ]);
    expect(calls[0]?.auth).toBeNull();
    expect(calls.slice(1).every((c) => c.auth === 'Bearer t0k')).toBe(true);
    expect(calls[1]?.body).toMatchObject({ ward: 'B', bed: 'B-01' });
    expect(calls[3]?.body).toEqual({ patientId: 'p2' });
    expect(file.devices).toEqual([
      { bed: 'B-01', deviceId: 'd3', secret: 's3', patientId: 'p2', patientName: calls[1]?.body.name },
      { bed: 'B-02', deviceId: 'd6', secret: 's6', patientId: 'p5', patientName: calls[4]?.body.name },
    ]);
    expect(file).toMatchObject({ version: 1, ward: 'B', seed: 7 });
  });

  it('reports API errors with their code and message', async () => {
    const failing = (async () =>
      new Response(JSON.stringify({ error: { code: 'AUTH_BAD_CREDENTIALS', message: 'wrong email or password' } }), { status: 401 })) as typeof fetch;
    const attempt = provisionFleet({ baseUrl: 'http://api.test', email: 'a', password: 'b', ward: 'A', beds: 1, seed: 1, fetch: failing });
    await expect(attempt).rejects.toBeInstanceOf(ApiError);
    await expect(attempt).rejects.toMatchObject({ status: 401, code: 'AUTH_BAD_CREDENTIALS' });
  });

  it('labels beds and names patients reproducibly', () => {
    expect(bedLabel('A', 0, 24)).toBe('A-01');
    expect(bedLabel('A', 23, 24)).toBe('A-24');
    expect(bedLabel('ICU', 4, 120)).toBe('ICU-005');
    const names = patientNames(100, createRng(7));
    expect(new Set(names).size).toBe(100);
    expect(patientNames(100, createRng(7))).toEqual(names);
  });
});
