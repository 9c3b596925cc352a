// Trend alarms on simulated courses: slow deteriorations fed to the pure trend functions over
// virtual time, with seeded noise (beat-to-beat noise, slow drift, a 24 h rhythm), each checked
// against the first moment a limit alarm (limitConditions on the raw readings, with its alarm
// condition delay: 10 s for HR, SpO2, RR) or a NEWS2 alarm (a single parameter scoring 3, or a
// total ≥ 5; scoreNews2 + news2Band) would fire for the same patient. NEWS2 is scored as the
// engine scores it: HR, SpO2 and RR from the median of their last minute (one outlying reading
// of a noisy stream does not open a NEWS2 alarm), SBP and temperature as last measured. Continuous
// parameters: a reading every 5 s; a cuff or a nurse every 15–60 min. And stable noisy patients,
// which must never fire.
//
// Timings measured: `TREND_COURSES_REPORT=1 npx vitest run test/unit/trend-courses.test.ts` prints
// them (minutes from the start of the course).
import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed, type Rng } from '../../simulator/rng.ts';
import {
  DEFAULT_TREND_RULES,
  EMPTY_TREND_STATE,
  trendConditions,
  updateTrends,
  type TrendContext,
  type TrendState,
} from '../../server/pipeline/alarms/trends.ts';
import { limitConditions, DEFAULT_LIMIT_POLICY } from '../../server/pipeline/alarms/physiological.ts';
import { news2Band, scoreNews2 } from '../../server/pipeline/score/news2.ts';
import type { AlarmLimits } from '../../server/domain/alarms.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
/** Continuous parameters: one reading every 5 s. */
const STEP = 5 * SEC;
/** Course start: a fixed date; the hour of day varies per seed (the 24 h rhythm). */
const DAY0 = Date.UTC(2024, 5, 1, 0, 0, 0);
const REPORT = process.env.TREND_COURSES_REPORT === '1';

type P = 'hr' | 'spo2' | 'rr' | 'temp' | 'sbp';
const CONTINUOUS: readonly P[] = ['hr', 'spo2', 'rr'];

/** Measurement noise (sd) per reading, and the slow drift (Ornstein–Uhlenbeck, τ 15 min). */
const NOISE: Record<P, number> = { hr: 1.5, spo2: 0.5, rr: 0.8, temp: 0.05, sbp: 4 };
const DRIFT: Record<P, number> = { hr: 2, spo2: 0.2, rr: 0.3, temp: 0.03, sbp: 2 };
const DRIFT_TAU = 15 * MIN;
/** Amplitude of the 24 h rhythm (peak late afternoon). */
const CIRCADIAN: Record<P, number> = { hr: 4, spo2: 0, rr: 0, temp: 0.25, sbp: 4 };
const NORMAL: Record<P, number> = { hr: 75, spo2: 97, rr: 16, temp: 36.8, sbp: 130 };

const round = (p: P, x: number) => (p === 'temp' ? Math.round(x * 10) / 10 : Math.round(x));
const clampFor = (p: P, x: number) => (p === 'spo2' ? Math.min(100, x) : x);
const rhythm = (ts: number) => Math.sin((2 * Math.PI * (ts / HOUR - 11)) / 24);

interface Course {
  /** Mean of each parameter `t` ms after the course start (negative: the history), before noise. */
  mean(p: P, t: number): number;
  /** Interval of the intermittent readings, or 'continuous' (every STEP). */
  temp?: number | 'continuous';
  sbp?: number | 'continuous';
  scale?: 1 | 2;
  limits?: AlarmLimits | null;
  /** Air/oxygen status `t` ms after the start; what the engine would pass as ctx.onOxygen. */
  o2?(t: number): boolean;
  /** Known to the trend functions? (false: ctx.onOxygen is null, as if never charted). */
  o2Known?: boolean;
  /** Continuous readings absent in [from, to) ms after the start. */
  gap?: [number, number];
  /** Single-reading artefacts: chance per reading and size. */
  spikes?: boolean;
  historyMs: number;
  durationMs: number;
}

interface Run {
  /** First time (ms from the course start) each trend key held; none before 0 is allowed. */
  trend: Map<string, number>;
  /** Trend keys seen before the course started (false alarms on stable history). */
  early: string[];
  limitAt: number | null;
  news2At: number | null;
  /** State snapshots by time (ms from start), when asked for. */
  snapshots: Map<number, TrendState>;
  /** Conditions by time, when asked for. */
  held: Map<number, string[]>;
  state: TrendState;
}

function run(course: Course, seed: number, opts: { snapshotAt?: number[]; heldAt?: number[]; deadlines?: boolean } = {}): Run {
  const rng: Rng = createRng(seed);
  const start = DAY0 + Math.floor(rng.uniform(0, 24)) * HOUR; // any hour of the day
  const from = start - course.historyMs;
  const to = start + course.durationMs;
  const scale = course.scale ?? 1;
  const drift: Record<P, number> = { hr: 0, spo2: 0, rr: 0, temp: 0, sbp: 0 };
  const keep = Math.exp(-STEP / DRIFT_TAU);
  const fresh = Math.sqrt(1 - keep * keep);
  const latest: Partial<Record<P, number>> = {};
  const interval = (p: 'temp' | 'sbp') => course[p] ?? 60 * MIN;

  let state: TrendState = EMPTY_TREND_STATE;
  const out: Run = { trend: new Map(), early: [], limitAt: null, news2At: null, snapshots: new Map(), held: new Map(), state };
  const pendingLimit = new Map<string, number>();
  const window: Record<P, number[]> = { hr: [], spo2: [], rr: [], temp: [], sbp: [] };
  const snapshotAt = new Set(opts.snapshotAt ?? []);
  const heldAt = new Set(opts.heldAt ?? []);

  for (let ts = from; ts < to; ts += STEP) {
    const t = ts - start;
    for (const p of Object.keys(drift) as P[]) drift[p] = drift[p] * keep + DRIFT[p] * fresh * rng.gaussian();
    const inGap = course.gap !== undefined && t >= course.gap[0] && t < course.gap[1];
    const values: Partial<Record<P, number>> = {};
    const reading = (p: P) => {
      let x = course.mean(p, t) + CIRCADIAN[p] * rhythm(ts) + drift[p] + rng.gaussian(0, NOISE[p]);
      if (course.spikes && rng.chance(p === 'temp' || p === 'sbp' ? 0.03 : 0.0005)) {
        // Motion (HR ±35, SBP ±30), a slipping probe (SpO2 −12), talking (RR ±12), a thermometer
        // not in place (temperature −1.2: temperature artefacts read low, a reading too high is
        // a finding — one reading 0.8 °C up fires the low-priority temperature trend by design).
        const size = { hr: 35, spo2: -12, rr: 12, temp: -1.2, sbp: 30 }[p];
        x += p === 'spo2' || p === 'temp' ? size : rng.chance(0.5) ? size : -size;
      }
      values[p] = round(p, clampFor(p, x));
    };
    if (!inGap) for (const p of CONTINUOUS) reading(p);
    for (const p of ['temp', 'sbp'] as const) {
      const every = interval(p);
      if (every === 'continuous' ? !inGap : (ts - from) % every === 0) reading(p);
    }
    Object.assign(latest, values);
    if (inGap) for (const p of CONTINUOUS) delete latest[p]; // stale within 30 s in the engine
    const o2 = course.o2?.(t) ?? false;
    const ctx: TrendContext = { spo2Scale: scale, onOxygen: course.o2Known === false ? null : o2 };
    state = updateTrends(state, ts, values, ctx);

    if (t < 0) {
      // Stable history: must be quiet (checked once a minute).
      if ((ts - from) % MIN === 0) for (const c of trendConditions(state, ts, ctx)) if (!out.early.includes(c.key)) out.early.push(c.key);
      continue;
    }
    const conditions = trendConditions(state, ts, ctx);
    for (const c of conditions) if (!out.trend.has(c.key)) out.trend.set(c.key, t);
    if (heldAt.has(t)) out.held.set(t, conditions.map((c) => c.key));
    if (snapshotAt.has(t)) out.snapshots.set(t, state);

    if (opts.deadlines === false) continue;
    // Limit alarms: the condition must hold for its delay (10 s for HR, SpO2, RR).
    const limits = limitConditions(latest, course.limits ?? null, {}, DEFAULT_LIMIT_POLICY, scale);
    for (const key of [...pendingLimit.keys()]) if (!limits.some((c) => c.key === key)) pendingLimit.delete(key);
    for (const c of limits) {
      const since = pendingLimit.get(c.key) ?? ts;
      pendingLimit.set(c.key, since);
      if (out.limitAt === null && ts - since >= c.delayMs) out.limitAt = t;
    }
    // NEWS2: medium (total ≥ 5) or a single parameter scoring 3 (RCP chart 2), immediate. Scored
    // as the engine does: HR, SpO2 and RR from the median of their last minute (a persistence
    // filter, so one outlying reading cannot open a NEWS2 alarm), the others as last measured.
    for (const p of CONTINUOUS) {
      const w = window[p];
      if (values[p] !== undefined) w.push(ts, values[p]!);
      while (w.length > 0 && w[0]! < ts - MIN) w.splice(0, 2);
    }
    if (out.news2At === null) {
      const scored: Partial<Record<P, number>> = { ...latest };
      for (const p of CONTINUOUS) scored[p] = median(window[p]);
      const score = scoreNews2({ ...scored, o2, acvpu: 'A' }, scale);
      const anyThree = Object.values(score.parameters).some((s) => s === 3);
      if (news2Band(score.total, anyThree) !== 'low') out.news2At = t;
    }
  }
  out.state = state;
  return out;
}

/** Median of the values of a [ts, value, ts, value, …] list; undefined when empty. */
function median(w: number[]): number | undefined {
  if (w.length === 0) return undefined;
  const xs = w.filter((_, i) => i % 2 === 1).sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** Linear from `a` to `b` over `overMs` from the course start, flat before and after. */
const ramp = (a: number, b: number, overMs: number) => (t: number) => a + (b - a) * Math.min(1, Math.max(0, t / overMs));

const timings: { course: string; seed: number; history: string; trend: number | null; limit: number | null; news2: number | null }[] = [];
const m = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : Math.round((ms / MIN) * 10) / 10);

/** The course fires `key` before any limit or NEWS2 alarm, and nothing fires during the history. */
function expectFirst(name: string, course: Course, key: string, seed: number) {
  const r = run(course, seed);
  const trendAt = r.trend.get(key) ?? null;
  const deadline = Math.min(r.limitAt ?? Infinity, r.news2At ?? Infinity);
  timings.push({ course: name, seed, history: `${course.historyMs / HOUR} h`, trend: m(trendAt), limit: m(r.limitAt), news2: m(r.news2At) });
  expect(r.early, `${name} seed ${seed}: quiet before the course`).toEqual([]);
  expect(trendAt, `${name} seed ${seed}: ${key} fires`).not.toBeNull();
  expect(Number.isFinite(deadline), `${name} seed ${seed}: a limit or NEWS2 alarm comes later`).toBe(true);
  expect(trendAt!, `${name} seed ${seed}: trend ${m(trendAt)} min before limit ${m(r.limitAt)} / NEWS2 ${m(r.news2At)}`).toBeLessThan(deadline);
  return r;
}

const SEEDS = [1, 2, 3];
const HISTORIES = [6 * HOUR, 30 * MIN];
const stable = (p: P) => NORMAL[p];

describe('slow deterioration fires before a limit or NEWS2', () => {
  it.each(HISTORIES)('HR +25/min per hour from 75 (history %d ms)', (historyMs) => {
    const course: Course = { mean: (p, t) => (p === 'hr' ? ramp(75, 75 + 25 * 3, 3 * HOUR)(t) : stable(p)), historyMs, durationMs: 3 * HOUR };
    for (const seed of SEEDS) expectFirst('HR +25/h', course, 'trend:hr', deriveSeed(seed, 'hr', historyMs));
  });

  it.each(HISTORIES)('SpO2 −4 points per hour from 97 (history %d ms)', (historyMs) => {
    const course: Course = { mean: (p, t) => (p === 'spo2' ? ramp(97, 85, 3 * HOUR)(t) : stable(p)), historyMs, durationMs: 2.5 * HOUR };
    for (const seed of SEEDS) expectFirst('SpO2 −4/h', course, 'trend:spo2', deriveSeed(seed, 'spo2', historyMs));
  });

  it.each(HISTORIES)('temperature +1 °C per hour from 36.8, continuous probe (history %d ms)', (historyMs) => {
    const course: Course = { mean: (p, t) => (p === 'temp' ? ramp(36.8, 39.8, 3 * HOUR)(t) : stable(p)), temp: 'continuous', historyMs, durationMs: 3 * HOUR };
    for (const seed of SEEDS) expectFirst('Temp +1/h probe', course, 'trend:temp', deriveSeed(seed, 'temp-probe', historyMs));
  });

  it.each(HISTORIES)('temperature +1 °C per hour from 36.8, a reading every 30 min (history %d ms)', (historyMs) => {
    const course: Course = { mean: (p, t) => (p === 'temp' ? ramp(36.8, 39.8, 3 * HOUR)(t) : stable(p)), temp: 30 * MIN, historyMs, durationMs: 3 * HOUR };
    for (const seed of SEEDS) expectFirst('Temp +1/h q30', course, 'trend:temp', deriveSeed(seed, 'temp-q30', historyMs));
  });

  it.each(HISTORIES)('RR falling 16 → 8 over 2 h, opioid (history %d ms)', (historyMs) => {
    const course: Course = { mean: (p, t) => (p === 'rr' ? ramp(16, 6, 2.5 * HOUR)(t) : stable(p)), historyMs, durationMs: 2.5 * HOUR };
    for (const seed of SEEDS) {
      const r = expectFirst('RR 16 → 8 / 2 h', course, 'trend:rr-down', deriveSeed(seed, 'rr', historyMs));
      expect(r.trend.has('trend:rr')).toBe(false); // not the rising rule
    }
  });

  it.each(HISTORIES)('SBP falling 130 → 90 over 2 h, a cuff reading every 15 min (history %d ms)', (historyMs) => {
    const course: Course = { mean: (p, t) => (p === 'sbp' ? ramp(130, 70, 3 * HOUR)(t) : stable(p)), sbp: 15 * MIN, historyMs, durationMs: 3 * HOUR };
    for (const seed of SEEDS) expectFirst('SBP 130 → 90 / 2 h q15', course, 'trend:sbp', deriveSeed(seed, 'sbp', historyMs));
  });
});

describe('gaps', () => {
  const hrRise: Course['mean'] = (p, t) => (p === 'hr' ? ramp(75, 150, 3 * HOUR)(t) : stable(p));

  it.each(HISTORIES)('a 20 min gap in an HR rise neither clears the condition nor moves the baseline to the raised level (history %d ms)', (historyMs) => {
    for (const seed of SEEDS) {
      // Fired by ~70 min; no HR, SpO2 or RR from 75 to 95 min.
      const gap: [number, number] = [75 * MIN, 95 * MIN];
      const course: Course = { mean: hrRise, gap, historyMs, durationMs: 2 * HOUR };
      const r = run(course, deriveSeed(seed, 'gap', historyMs), { snapshotAt: [gap[0] - STEP, gap[1]], heldAt: [gap[0] - STEP, gap[0] + 5 * MIN, gap[0] + 15 * MIN, gap[1]] });
      expect(r.early).toEqual([]);
      expect(r.trend.get('trend:hr')!).toBeLessThan(gap[0]);
      expect(r.held.get(gap[0] - STEP)).toContain('trend:hr');
      expect(r.held.get(gap[0] + 5 * MIN)).toContain('trend:hr'); // recent enough
      expect(r.held.get(gap[0] + 15 * MIN)).not.toContain('trend:hr'); // silent > 10 min: the engine holds it
      expect(r.held.get(gap[1])).toContain('trend:hr'); // the first reading after the gap: at once
      const before = r.snapshots.get(gap[0] - STEP)!.hr!;
      const after = r.snapshots.get(gap[1])!.hr!;
      // No baseline is moved to the raised level: the short one is frozen (beyond its threshold),
      // the bucket medians still see mostly the time before the rise.
      const raised = hrRise('hr', gap[1]);
      expect(after.baseline).toBe(before.baseline);
      expect(after.baseline).toBeLessThan(raised - 25);
      for (const b of [after.recent, after.long]) expect(b === null || b < raised - 25).toBe(true);
      expect(after.exceed['trend:hr']!.since).toBe(before.exceed['trend:hr']!.since); // one episode
      expect(Math.abs(after.fast - hrRise('hr', gap[1]))).toBeLessThan(12);
    }
  });

  it('a gap early in the rise does not hide it: it fires after the gap, before the limit', () => {
    const course: Course = { mean: hrRise, gap: [20 * MIN, 40 * MIN], historyMs: 6 * HOUR, durationMs: 2 * HOUR };
    for (const seed of SEEDS) expectFirst('HR +25/h, gap 20–40 min', course, 'trend:hr', deriveSeed(seed, 'early-gap'));
  });

  it('intermittent readings hours apart keep their baseline (no reset per reading)', () => {
    // SBP every 4 h for a day, then a fall: confirmed by the second low reading.
    const course: Course = {
      mean: (p, t) => (p === 'sbp' ? (t < 0 ? 130 : 100) : stable(p)),
      sbp: 4 * HOUR,
      historyMs: 24 * HOUR,
      durationMs: 4 * HOUR + MIN,
    };
    const r = run(course, 7, { heldAt: [0, 4 * HOUR] });
    expect(r.early).toEqual([]);
    expect(r.held.get(0)).not.toContain('trend:sbp'); // one low reading: not yet
    expect(r.held.get(4 * HOUR)).toContain('trend:sbp'); // the second one confirms it
  });
});

describe('SpO2 scale 2 and changes of oxygen', () => {
  const spo2 = (f: (t: number) => number): Course['mean'] => (p, t) => (p === 'spo2' ? f(t) : stable(p));

  it('scale 2: a fall from 95 to 90 (into the target range) does not fire', () => {
    const course: Course = { mean: spo2(ramp(95, 90, HOUR)), scale: 2, historyMs: 6 * HOUR, durationMs: 3 * HOUR };
    for (const seed of SEEDS) {
      const r = run(course, deriveSeed(seed, 'scale2-in-range'));
      expect(r.early).toEqual([]);
      expect(r.trend.has('trend:spo2')).toBe(false);
    }
    // On scale 1 the same fall fires.
    expect(run({ ...course, scale: 1 }, deriveSeed(1, 'scale2-in-range')).trend.has('trend:spo2')).toBe(true);
  });

  it.each(HISTORIES)('scale 2: 92 → 85 fires before SpO2 falls below the scale-2 limit (history %d ms)', (historyMs) => {
    const course: Course = { mean: spo2(ramp(92, 85, 3 * HOUR)), scale: 2, historyMs, durationMs: 3 * HOUR };
    for (const seed of SEEDS) expectFirst('Scale 2 92 → 85 / 3 h', course, 'trend:spo2', deriveSeed(seed, 'scale2-fall', historyMs));
  });

  it('scale 1: starting oxygen (93 → 98), then a fall to 94 on oxygen is still detected', () => {
    // On air at 93 for 6 h; oxygen at 0 (SpO2 rises over 5 min); 45 min later a fall of 4 points
    // over 40 min. No limit or NEWS2 alarm (94 on oxygen: 1 + 2) — only the trend sees it.
    const mean = (t: number) => (t < 0 ? 93 : t < 45 * MIN ? ramp(93, 98, 5 * MIN)(t) : ramp(98, 94, 40 * MIN)(t - 45 * MIN));
    const course: Course = { mean: spo2(mean), o2: (t) => t >= 0, historyMs: 6 * HOUR, durationMs: 3 * HOUR };
    for (const seed of SEEDS) {
      const r = run(course, deriveSeed(seed, 'o2-start'));
      expect(r.early).toEqual([]);
      const at = r.trend.get('trend:spo2');
      expect(at).toBeGreaterThan(45 * MIN); // not when oxygen started
      expect(at).toBeLessThan(100 * MIN);
      timings.push({ course: 'Scale 1 O2 on, later fall 98 → 94', seed, history: '6 h', trend: m(at), limit: m(r.limitAt), news2: m(r.news2At) });
      // Without knowing about the oxygen, the old air baseline (93) would hide the fall.
      expect(run({ ...course, o2Known: false }, deriveSeed(seed, 'o2-start')).trend.has('trend:spo2')).toBe(false);
    }
  });

  it('scale 2: starting oxygen (88 → 92), then a fall to 85 is detected before the limit', () => {
    // On air at the bottom of the target range for 6 h, oxygen titrated to its top; an hour later
    // a fall of 7 points over 3 h. Against the air baseline (88) the fall would meet the limit first.
    const mean = (t: number) => (t < 0 ? 88 : t < 60 * MIN ? ramp(88, 92, 5 * MIN)(t) : ramp(92, 85, 3 * HOUR)(t - 60 * MIN));
    const course: Course = { mean: spo2(mean), scale: 2, o2: (t) => t >= 0, historyMs: 6 * HOUR, durationMs: 4 * HOUR };
    for (const seed of SEEDS) {
      const r = run(course, deriveSeed(seed, 'o2-start-2'));
      // Scale 2: 88 on air scores 0; 92 on oxygen 0 + 2: no NEWS2 alarm from that.
      expect(r.early).toEqual([]);
      const at = r.trend.get('trend:spo2');
      expect(at).toBeGreaterThan(60 * MIN);
      expect(at!).toBeLessThan(Math.min(r.limitAt ?? Infinity, r.news2At ?? Infinity));
      timings.push({ course: 'Scale 2 O2 on, later fall 92 → 85', seed, history: '6 h', trend: m(at), limit: m(r.limitAt), news2: m(r.news2At) });
    }
  });

  it.each([1, 2] as const)('scale %i: removing oxygen with the expected fall does not fire', (scale) => {
    // On oxygen for 6 h (scale 1: 98; scale 2: 92), oxygen off at 0 and SpO2 settles 4 lower.
    const top = scale === 1 ? 98 : 92;
    const mean = (t: number) => (t < 0 ? top : ramp(top, top - 4, 10 * MIN)(t));
    const course: Course = { mean: spo2(mean), scale, o2: (t) => t < 0, historyMs: 6 * HOUR, durationMs: 3 * HOUR };
    for (const seed of SEEDS) {
      const r = run(course, deriveSeed(seed, 'o2-off', scale));
      expect(r.early).toEqual([]);
      expect(r.trend.has('trend:spo2')).toBe(false);
    }
    // Had the change of oxygen gone unnoticed, the fall would have fired.
    expect(run({ ...course, o2Known: false }, deriveSeed(1, 'o2-off', scale)).trend.has('trend:spo2')).toBe(true);
  });
});

describe('stable noisy patients do not fire', () => {
  it('20 seeded patients × 24 h: a 24 h rhythm, slow drift and single-reading artefacts', () => {
    const fired: string[] = [];
    for (let i = 0; i < 20; i++) {
      const rng = createRng(deriveSeed(42, 'stable', i));
      const base: Record<P, number> = {
        hr: rng.uniform(60, 92),
        spo2: rng.uniform(95, 99),
        rr: rng.uniform(12, 20),
        temp: rng.uniform(36.4, 37.2),
        sbp: rng.uniform(105, 155),
      };
      const course: Course = {
        mean: (p) => base[p],
        // Half the patients have a temperature probe, the others a nurse every 30 min–2 h.
        temp: i % 2 === 0 ? 'continuous' : [30, 60, 120][i % 3]! * MIN,
        sbp: [15, 30, 60, 240][i % 4]! * MIN,
        spikes: true,
        scale: i % 5 === 4 ? 2 : 1,
        historyMs: 0,
        durationMs: 24 * HOUR,
      };
      const r = run(course, deriveSeed(42, 'stable-run', i), { deadlines: false });
      for (const [key, at] of r.trend) fired.push(`patient ${i}: ${key} at ${m(at)} min`);
    }
    expect(fired).toEqual([]);
  });
});

describe('report', () => {
  it('prints the timings when asked (TREND_COURSES_REPORT=1)', () => {
    if (REPORT) console.table(timings);
    expect(timings.length).toBeGreaterThan(0);
  });
});
