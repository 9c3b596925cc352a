// The simulator's pure parts: seeded randomness, physiology, scenarios, payloads, publish timing,
// options and provisioning (against a fake fetch). No network, no timers.
import { describe, expect, it } from 'vitest';
import { decodeTelemetry } from '../../server/pipeline/decode.ts';
import { AlarmEngine } from '../../server/pipeline/alarms/engine.ts';
import { scoreNews2 } from '../../server/pipeline/score/news2.ts';
import { NUMERIC_VITALS, PLAUSIBLE, type NumericVital, type VitalValues } from '../../server/pipeline/vitals.ts';
import { parseCliArgs } from '../../simulator/args.ts';
import { anonymousDevices, planFleet } from '../../simulator/fleet.ts';
import { patientNames } from '../../simulator/names.ts';
import { createPatient, createProfile, step, type PatientState } from '../../simulator/physiology.ts';
import { ApiError, bedLabel, provisionFleet } from '../../simulator/provision.ts';
import { createRng, deriveSeed, mulberry32 } from '../../simulator/rng.ts';
import {
  FLEET_SCENARIO_NAMES,
  SCENARIO_DESCRIPTIONS,
  SCENARIO_NAMES,
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
  const readings: { t: number; vitals: VitalValues; offline: boolean }[] = [];
  for (let t = 0; t <= durationMs; t += stepMs) {
    const result = step(state, T0 + t, rng);
    state = result.state;
    readings.push({ t, vitals: result.vitals, offline: result.offline });
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

  it('artifact: mostly plausible spikes, occasionally an implausible value', () => {
    const readings = simulate('artifact', 5, 12 * 60 * MIN, 1000);
    const implausible = readings.filter(({ vitals }) =>
      NUMERIC_VITALS.some((v) => vitals[v] !== undefined && (vitals[v] < PLAUSIBLE[v].min || vitals[v] > PLAUSIBLE[v].max)),
    ).length;
    expect(implausible / readings.length).toBeGreaterThan(0.002);
    expect(implausible / readings.length).toBeLessThan(0.01);
    const spikes = readings.filter(({ vitals }) => (vitals.hr ?? 0) > 130 || (vitals.spo2 ?? 100) < 88).length;
    expect(spikes / readings.length).toBeGreaterThan(0.005);
    expect(spikes / readings.length).toBeLessThan(0.05);
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

  it('carries ts, seq and the vitals, with o2 and ACVPU first, on change and every 30 s', () => {
    const first = buildPayload(T0, 0, vitals, null);
    expect(JSON.stringify(first.payload)).toBe(
      `{"ts":${T0},"seq":0,"hr":72,"spo2":97,"rr":14,"temp":36.8,"sbp":122,"dbp":78,"o2":false,"acvpu":"A"}`,
    );
    const memo = first.memo as CategoricalMemo;
    const second = buildPayload(T0 + 1000, 1, vitals, memo);
    expect(second.payload).not.toHaveProperty('o2');
    expect(second.payload).not.toHaveProperty('acvpu');
    expect(second.memo).toBe(memo);
    expect(buildPayload(T0 + 2000, 2, { ...vitals, o2: true }, memo).payload.o2).toBe(true);
    expect(buildPayload(T0 + 2000, 2, { ...vitals, acvpu: 'C' }, memo).payload.acvpu).toBe('C');
    expect(buildPayload(T0 + 30_000, 30, vitals, memo).payload.acvpu).toBe('A');
  });

  it('decodes without issues on the server, for every scenario but artifact', () => {
    for (const name of SCENARIO_NAMES.filter((n) => n !== 'artifact')) {
      let memo: CategoricalMemo | null = null;
      simulate(name, 9, 10 * MIN, 5000).forEach(({ t, vitals: v }, seq) => {
        const built = buildPayload(T0 + t, seq, v, memo);
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
        if (out.escalations.length > 0 && !first.has('escalation')) first.set('escalation', r.t / MIN);
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
});

describe('summary line', () => {
  const stats = { devices: 24, connected: 23, sent: 12345, errorsReceived: 2, connectFailures: 1, refused: 0, simulatedOffline: 1 };
  it('shows connections, rate, totals, errors and failures on one line', () => {
    const line = formatSummary(stats, 23.96, 83_000);
    expect(line).toBe('00:01:23 · 23/24 connected · 24.0 msg/s · 12,345 sent · 2 errors · 1 conn failures · 1 simulated offline');
    expect(line).not.toContain('\n');
    expect(fitToWidth(line, 40)).toHaveLength(39);
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
