// Trend alarms: a sustained change from the patient's own baseline — the short EWMA baseline and
// the 1–4 h / 4–24 h bucket medians — with gaps, intermittent parameters, SpO2 scale 2 and changes
// of oxygen. Simulated courses against limits and NEWS2: trend-courses.test.ts.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TREND_RULES,
  EMPTY_TREND_STATE,
  INTERMITTENT_STALE_MS,
  LONG_BUCKET_MS,
  TREND_GAP_MS,
  TREND_HISTORY_MS,
  trendConditions,
  updateTrends,
  type TrendContext,
  type TrendRule,
  type TrendState,
} from '../../server/pipeline/alarms/trends.ts';

const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const STEP = 5 * SEC;
const CTX: TrendContext = { spo2Scale: 1, onOxygen: false };

type Values = Partial<Record<string, number>>;

/** Feed one reading every `step` from `from` (inclusive) to `to` (exclusive). */
function feed(state: TrendState, from: number, to: number, values: (t: number) => Values, rules?: TrendRule[], ctx: TrendContext = CTX, step = STEP): TrendState {
  let s = state;
  for (let t = from; t < to; t += step) s = updateTrends(s, t, values(t), ctx, rules);
  return s;
}

/** Feed like `feed`, returning the first time a condition with `key` holds (or null). */
function firstFiring(state: TrendState, from: number, to: number, values: (t: number) => Values, key: string, rules?: TrendRule[], ctx: TrendContext = CTX, step = STEP) {
  let s = state;
  for (let t = from; t < to; t += step) {
    s = updateTrends(s, t, values(t), ctx, rules);
    if (trendConditions(s, t, ctx, rules).some((c) => c.key === key)) return { at: t, state: s };
  }
  return { at: null, state: s };
}

const keys = (s: TrendState, now: number, rules?: TrendRule[], ctx: TrendContext = CTX) => trendConditions(s, now, ctx, rules).map((c) => c.key).sort();

/** Deterministic noise: mulberry32 with Box–Muller. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

const rule = (key: string): TrendRule => DEFAULT_TREND_RULES.find((r) => (r.key ?? `trend:${r.parameter}`) === key)!;
const stable = (): Values => ({ hr: 72, spo2: 97, rr: 16, temp: 36.8, sbp: 130 });

describe('DEFAULT_TREND_RULES', () => {
  it('holds the agreed rules', () => {
    const common = { baselineTauMs: 45 * MIN, fastTauMs: 2 * MIN, minHistoryMs: 20 * MIN };
    const continuous = { ...common, intermittent: false, confirmReadings: 1 };
    const intermittent = { ...common, intermittent: true, confirmReadings: 2, minHistoryMs: 30 * MIN };
    expect(DEFAULT_TREND_RULES).toEqual([
      { parameter: 'hr', direction: 'up', change: 20, relative: true, minChange: 12, sustainMs: 10 * MIN, priority: 'medium', ...continuous },
      { parameter: 'spo2', direction: 'down', change: 3, relative: false, sustainMs: 5 * MIN, priority: 'medium', ...continuous },
      { parameter: 'rr', direction: 'up', change: 30, relative: true, minChange: 4, sustainMs: 10 * MIN, priority: 'low', ...continuous },
      { key: 'trend:rr-down', parameter: 'rr', direction: 'down', change: 25, relative: true, minChange: 3, sustainMs: 10 * MIN, priority: 'medium', ...continuous },
      { parameter: 'temp', direction: 'up', change: 0.8, relative: false, sustainMs: 15 * MIN, priority: 'low', ...intermittent, confirmReadings: 1 },
      { parameter: 'sbp', direction: 'down', change: 15, relative: true, minChange: 15, sustainMs: 10 * MIN, priority: 'medium', ...intermittent },
    ]);
  });
});

describe('updateTrends', () => {
  it('starts a parameter at its first value', () => {
    const s = updateTrends(EMPTY_TREND_STATE, T0, { hr: 72, spo2: 97 }, CTX);
    const bucket = Math.floor(T0 / LONG_BUCKET_MS);
    expect(s.hr).toMatchObject({ baseline: 72, fast: 72, n: 1, warm: [72], dataMs: 0, lastTs: T0, holdSince: null, o2: null, bucket, bucketSum: 72, bucketCount: 1, recent: null, long: null, exceed: {} });
    expect(s.spo2).toMatchObject({ baseline: 97, fast: 97, o2: false }); // SpO2 remembers air/oxygen
    expect(s.hr!.means).toHaveLength(48);
    expect(s.hr!.means.every((m) => m === -1)).toBe(true);
  });

  it('uses alpha = 1 − exp(−dt/τ) for both averages (after warm-up)', () => {
    const s0 = feed(EMPTY_TREND_STATE, T0, T0 + 30 * MIN, () => ({ hr: 70 }));
    const s = updateTrends(s0, T0 + 31 * MIN, { hr: 75 }, CTX);
    const dt = 31 * MIN - (30 * MIN - STEP);
    expect(s.hr!.fast).toBeCloseTo(70 + 5 * (1 - Math.exp(-dt / (2 * MIN))), 10);
    expect(s.hr!.baseline).toBeCloseTo(70 + 5 * (1 - Math.exp(-dt / (45 * MIN))), 10);
  });

  it('moves the short baseline at most half the change per reading (a spike barely moves it)', () => {
    const s0 = feed(EMPTY_TREND_STATE, T0, T0 + 30 * MIN, () => ({ hr: 70 }));
    // HR threshold: 70 + max(14, 12) = 84; a reading of 40 pulls as if it were 70 − 7.
    const s = updateTrends(s0, T0 + 30 * MIN, { hr: 40 }, CTX);
    expect(s.hr!.baseline).toBeCloseTo(70 - 7 * (1 - Math.exp(-STEP / (45 * MIN))), 10);
  });

  it('ignores a reading not newer than the last one, and parameters without rules', () => {
    const s1 = updateTrends(EMPTY_TREND_STATE, T0, { hr: 72 }, CTX);
    expect(updateTrends(s1, T0, { hr: 150 }, CTX)).toEqual(s1);
    expect(updateTrends(s1, T0 - SEC, { hr: 150 }, CTX)).toEqual(s1);
    expect(updateTrends(s1, T0 + SEC, { dbp: 80, hr: Number.NaN }, CTX)).toBe(s1);
  });

  it('never mutates its input', () => {
    const s1 = deepFreeze(feed(EMPTY_TREND_STATE, T0, T0 + 45 * MIN, () => ({ hr: 72, spo2: 97, sbp: 130 })));
    const copy = structuredClone(s1);
    const s2 = updateTrends(s1, T0 + 80 * MIN, { hr: 120, spo2: 90, sbp: 90 }, { spo2Scale: 1, onOxygen: true }); // a gap, a new bucket, a change of oxygen
    expect(s1).toEqual(copy);
    expect(s2).not.toBe(s1);
    const rules = deepFreeze(structuredClone(DEFAULT_TREND_RULES));
    expect(() => trendConditions(s2, T0 + 80 * MIN, CTX, rules)).not.toThrow();
    expect(() => updateTrends(s2, T0 + 81 * MIN, { hr: 70 }, CTX, rules)).not.toThrow();
  });

  it('keeps plain JSON data: a state rebuilt from JSON behaves the same', () => {
    const onset = T0 + 6 * HOUR;
    const s = feed(EMPTY_TREND_STATE, T0, onset, stable);
    const rebuilt = JSON.parse(JSON.stringify(s)) as TrendState;
    expect(rebuilt).toEqual(s);
    const risen = (): Values => ({ ...stable(), hr: 95, sbp: 100 });
    const a = feed(s, onset, onset + 20 * MIN, risen);
    const b = feed(rebuilt, onset, onset + 20 * MIN, risen);
    expect(b).toEqual(a);
    expect(trendConditions(b, onset + 20 * MIN, CTX)).toEqual(trendConditions(a, onset + 20 * MIN, CTX));
  });

  it('stays small: one patient after 24 h of every parameter serialises to under 4 KB', () => {
    const g = gaussian(5);
    const s = feed(EMPTY_TREND_STATE, T0, T0 + 24 * HOUR, () => ({ hr: 75 + 2 * g(), spo2: 97, rr: 16 + g(), temp: 36.8 + 0.05 * g(), sbp: 130 + 4 * g() }), undefined, CTX, 30 * SEC);
    expect(JSON.stringify(s).length).toBeLessThan(4096);
  });
});

describe('trendConditions', () => {
  it('fires after the deviation has held for sustainMs, and not before', () => {
    const onset = T0 + 30 * MIN;
    let s = feed(EMPTY_TREND_STATE, T0, onset, stable);
    expect(trendConditions(s, onset, CTX)).toEqual([]);

    // HR 72 → 90 (+25%): the fast average crosses 72 × 1.2 within a few minutes.
    const risen = (): Values => ({ ...stable(), hr: 90 });
    s = feed(s, onset, onset + 8 * MIN, risen);
    const since = s.hr!.exceed['trend:hr']!.since;
    expect(since).toBeGreaterThan(onset);
    expect(since).toBeLessThan(onset + 8 * MIN);

    s = feed(s, onset + 8 * MIN, since + 10 * MIN, risen);
    expect(trendConditions(s, since + 10 * MIN - 1, CTX)).toEqual([]);
    expect(trendConditions(s, since + 10 * MIN, CTX)).toHaveLength(1);

    s = updateTrends(s, since + 10 * MIN, risen(), CTX);
    const [c] = trendConditions(s, since + 10 * MIN, CTX);
    expect(c).toMatchObject({ key: 'trend:hr', kind: 'trend', category: 'physiological', priority: 'medium', parameter: 'hr', value: 90, delayMs: 0 });
    // The first reading beyond the threshold froze the baseline: it is still exactly 72.
    expect(s.hr!.baseline).toBe(72);
    expect(c!.limit).toBe(86.4);
    expect(c!.rule).toBe('hr up ≥20% from baseline 72 for 10 min');
    expect(c!.message).toBe('HR rising: 90 /min vs baseline 72 (+25%) for 10 min');
  });

  it('counts 20 min of data before deviations count, where a gap counts at most 10 min', () => {
    // 19 min of data: nothing is judged yet, however far the value moves.
    let s = feed(EMPTY_TREND_STATE, T0, T0 + 19 * MIN, () => ({ hr: 72 }));
    s = feed(s, T0 + 19 * MIN, T0 + 20 * MIN, () => ({ hr: 130 }));
    expect(s.hr!.exceed).toEqual({});
    // A nurse's HR every hour: judged from the third reading (two earlier readings, 10 min each).
    let m = updateTrends(EMPTY_TREND_STATE, T0, { hr: 70 }, CTX);
    m = updateTrends(m, T0 + HOUR, { hr: 74 }, CTX);
    expect(m.hr!.dataMs).toBe(10 * MIN);
    m = updateTrends(m, T0 + 2 * HOUR, { hr: 110 }, CTX);
    expect(m.hr!.exceed['trend:hr']).toEqual({ since: T0 + 2 * HOUR, samples: 1 });
    expect(m.hr!.baseline).toBe(72); // the median of the first two, frozen
  });

  it('learns the baseline during warm-up: a change in the first minutes becomes the baseline', () => {
    // Only 1 min of "normal" before the rise: too little to call it the patient's baseline.
    const { at, state } = firstFiring(EMPTY_TREND_STATE, T0, T0 + 90 * MIN, (t) => ({ hr: t < T0 + MIN ? 72 : 95 }), 'trend:hr');
    expect(at).toBeNull();
    expect(state.hr!.baseline).toBeGreaterThan(93);
  });

  it('is not fooled by one settling first reading', () => {
    // A probe reads 60 on attach, then the true 75: no freeze on that first reading.
    const { at } = firstFiring(EMPTY_TREND_STATE, T0, T0 + 90 * MIN, (t) => ({ hr: t === T0 ? 60 : 75 }), 'trend:hr');
    expect(at).toBeNull();
  });

  it('a single spike beyond the threshold neither fires nor moves the baseline', () => {
    const onset = T0 + 30 * MIN;
    let s = feed(EMPTY_TREND_STATE, T0, onset, stable);
    s = updateTrends(s, onset, { hr: 150 }, CTX);
    expect(s.hr!.baseline).toBe(72);
    expect(s.hr!.exceed).toEqual({});
    s = feed(s, onset + STEP, onset + 60 * MIN, stable);
    expect(s.hr!.exceed).toEqual({});
    expect(trendConditions(s, onset + 60 * MIN, CTX)).toEqual([]);
  });

  it('respects the direction of each rule', () => {
    const onset = T0 + 30 * MIN;
    let s = feed(EMPTY_TREND_STATE, T0, onset, stable);
    // HR falls 30% (the rule is "up"), SpO2 rises 3 (the rule is "down"), SBP rises 30%.
    s = feed(s, onset, onset + 60 * MIN, () => ({ ...stable(), hr: 50, spo2: 100, sbp: 170 }));
    expect(trendConditions(s, onset + 60 * MIN, CTX)).toEqual([]);
    expect(s.hr!.exceed).toEqual({});

    // The same size of change the other way does fire.
    let d = feed(EMPTY_TREND_STATE, T0, onset, stable);
    d = feed(d, onset, onset + 60 * MIN, () => ({ ...stable(), hr: 95, spo2: 93, sbp: 95 }));
    expect(keys(d, onset + 60 * MIN)).toEqual(['trend:hr', 'trend:sbp', 'trend:spo2']);
  });

  it('RR has a rising and a falling rule, each with its own key', () => {
    const onset = T0 + 30 * MIN;
    const base = feed(EMPTY_TREND_STATE, T0, onset, stable);
    const up = feed(base, onset, onset + 30 * MIN, () => ({ ...stable(), rr: 22 }));
    expect(keys(up, onset + 30 * MIN)).toEqual(['trend:rr']);
    const down = feed(base, onset, onset + 30 * MIN, () => ({ ...stable(), rr: 11 }));
    const [c] = trendConditions(down, onset + 30 * MIN, CTX);
    expect(c).toMatchObject({ key: 'trend:rr-down', parameter: 'rr', priority: 'medium', value: 11, limit: 12 });
    expect(c!.rule).toBe('rr down ≥25% from baseline 16 for 10 min');
    expect(c!.message).toMatch(/^RR falling: 11 \/min vs baseline 16 \(-31%\) for \d+ min$/);
    // A rule list with two rules of one key: the first wins.
    const twice = [rule('trend:rr-down'), { ...rule('trend:rr-down'), change: 50 }];
    expect(trendConditions(down, onset + 30 * MIN, CTX, twice).map((x) => x.limit)).toEqual([12]);
  });

  it('a relative change has a floor in units: HR 55 → 66 (+20%) is no trend, 55 → 68 is', () => {
    const onset = T0 + 30 * MIN;
    const base = feed(EMPTY_TREND_STATE, T0, onset, () => ({ hr: 55 }));
    expect(firstFiring(base, onset, onset + 60 * MIN, () => ({ hr: 66 }), 'trend:hr').at).toBeNull();
    const { at, state } = firstFiring(base, onset, onset + 60 * MIN, () => ({ hr: 68 }), 'trend:hr');
    const [c] = trendConditions(state, at!, CTX);
    expect(c!.rule).toBe('hr up ≥12 from baseline 55 for 10 min');
    expect(c!.limit).toBe(67);
  });

  it('freezes the baseline while the deviation lasts, and lets go when it ends', () => {
    const onset = T0 + 30 * MIN;
    let s = feed(EMPTY_TREND_STATE, T0, onset, stable);
    s = feed(s, onset, onset + 10 * MIN, () => ({ ...stable(), hr: 90 }));
    const frozen = s.hr!.baseline;
    s = feed(s, onset + 10 * MIN, onset + 120 * MIN, () => ({ ...stable(), hr: 90 }));
    // Unfrozen, a 45 min EWMA would have moved most of the way to 90 in 2 h.
    expect(s.hr!.baseline).toBe(frozen);
    expect(frozen).toBe(72);
    expect(keys(s, onset + 120 * MIN)).toEqual(['trend:hr']);

    // Back to normal: the deviation clears, the condition goes, the baseline follows again.
    s = feed(s, onset + 120 * MIN, onset + 135 * MIN, stable);
    expect(s.hr!.exceed).toEqual({});
    expect(trendConditions(s, onset + 135 * MIN, CTX)).toEqual([]);
    s = updateTrends(s, onset + 136 * MIN, { hr: 80 }, CTX);
    expect(s.hr!.baseline).not.toBe(frozen);
  });

  it('holds the short baseline while a continuous parameter drifts towards the threshold', () => {
    // HR +25/min per hour with 30 min of history: the 45-min EWMA alone would follow it (its lag,
    // 19/min, stays under 20 % of the rising baseline); held, it fires within the hour.
    const onset = T0 + 30 * MIN;
    const base = feed(EMPTY_TREND_STATE, T0, onset, () => ({ hr: 75 }));
    const rise = (t: number): Values => ({ hr: 75 + (25 * (t - onset)) / HOUR });
    const { at, state } = firstFiring(base, onset, onset + 2 * HOUR, rise, 'trend:hr');
    expect(at! - onset).toBeLessThan(60 * MIN);
    expect(state.hr!.baseline).toBeLessThan(78);
    expect(state.hr!.holdSince).not.toBeNull(); // held since the drift passed a quarter of the change
    expect(state.hr!.recent).toBeNull(); // not yet 1 h of buckets behind: the hold did it
  });

  it('lets a held baseline follow after 2 h inside the threshold (a new level, not a trend)', () => {
    const onset = T0 + 30 * MIN;
    const base = feed(EMPTY_TREND_STATE, T0, onset, () => ({ hr: 72 }));
    const s = feed(base, onset, onset + 2 * HOUR + 30 * MIN, () => ({ hr: 80 }));
    expect(s.hr!.exceed).toEqual({});
    expect(s.hr!.baseline).toBeGreaterThan(74);
  });

  it('a gap does not reset the baselines nor end a deviation; stale data reports nothing', () => {
    const onset = T0 + 30 * MIN;
    const base = feed(EMPTY_TREND_STATE, T0, onset, stable);

    let s = feed(base, onset, onset + 30 * MIN, () => ({ ...stable(), hr: 95 }));
    expect(keys(s, onset + 30 * MIN)).toEqual(['trend:hr']);
    const since = s.hr!.exceed['trend:hr']!.since;
    // Silent: reported while the last reading is at most 10 min old, then not (the engine holds
    // the open alarm while HR has no fresh value).
    const last = onset + 30 * MIN - STEP;
    expect(trendConditions(s, last + TREND_GAP_MS, CTX)).toHaveLength(1);
    expect(trendConditions(s, last + TREND_GAP_MS + 1, CTX)).toEqual([]);
    // Other parameters going on do not touch HR.
    s = feed(s, onset + 30 * MIN, onset + 50 * MIN, () => ({ spo2: 97 }));
    expect(s.hr!.baseline).toBe(72);
    // Back after 20 min, still 95: the same episode, at once; baseline still 72.
    s = updateTrends(s, onset + 50 * MIN, { hr: 95 }, CTX);
    expect(s.hr!.baseline).toBe(72);
    expect(s.hr!.fast).toBe(95); // the fast average restarts from the first reading after a gap
    expect(s.hr!.exceed['trend:hr']).toEqual({ since, samples: 1 });
    expect(keys(s, onset + 50 * MIN)).toEqual(['trend:hr']);
    // Back inside: it ends.
    s = updateTrends(s, onset + 51 * MIN, { hr: 72 }, CTX);
    s = feed(s, onset + 51 * MIN + STEP, onset + 60 * MIN, () => ({ hr: 72 }));
    expect(trendConditions(s, onset + 60 * MIN, CTX)).toEqual([]);

    // A rise that starts during a gap: it is judged against the old baseline (it used to start
    // over from the raised value and never fire).
    const back = onset + 11 * MIN;
    const r = updateTrends(base, back, { hr: 95 }, CTX);
    expect(r.hr!.baseline).toBe(72);
    const { at } = firstFiring(r, back + STEP, back + 60 * MIN, () => ({ hr: 95 }), 'trend:hr');
    expect(at).toBe(back + 10 * MIN);
  });

  it('a gap counts as at most 10 min of baseline time', () => {
    const onset = T0 + 30 * MIN;
    const base = feed(EMPTY_TREND_STATE, T0, onset, () => ({ hr: 70 }));
    // 73 after 3 h of silence: well inside the threshold (84), so it moves the baseline — as
    // after 10 min, not 3 h.
    const s = updateTrends(base, onset + 3 * HOUR, { hr: 73 }, CTX);
    expect(s.hr!.baseline).toBeCloseTo(70 + 3 * (1 - Math.exp(-10 / 45)), 10);
  });

  it('starts over after 24 h of silence', () => {
    const s = feed(EMPTY_TREND_STATE, T0, T0 + 6 * HOUR, stable, undefined, CTX, MIN);
    const later = T0 + 6 * HOUR + TREND_HISTORY_MS;
    const r = updateTrends(s, later, { hr: 95 }, CTX);
    expect(r.hr).toMatchObject({ baseline: 95, n: 1, dataMs: 0, long: null, recent: null, exceed: {} });
  });

  it('applies a relative change as a percentage of the baseline and an absolute change in units', () => {
    const sbpRule = rule('trend:sbp');
    const relative: TrendRule[] = [{ ...sbpRule, change: 20, minChange: undefined }];
    const absolute: TrendRule[] = [{ ...sbpRule, relative: false, change: 20, minChange: undefined }];
    const onset = T0 + 30 * MIN;
    const high = (t: number): Values => ({ sbp: t < onset ? 150 : 125 }); // −25 mmHg, −17%

    expect(firstFiring(EMPTY_TREND_STATE, T0, onset + 60 * MIN, high, 'trend:sbp', relative).at).toBeNull();
    const abs = firstFiring(EMPTY_TREND_STATE, T0, onset + 60 * MIN, high, 'trend:sbp', absolute);
    expect(abs.at).not.toBeNull();
    const [c] = trendConditions(abs.state, abs.at!, CTX, absolute);
    expect(c!.rule).toBe('sbp down ≥20 from baseline 150 on 2 readings or for 10 min');
    expect(c!.message).toBe('SBP falling: 125 mmHg vs baseline 150 (-25) for 10 min');
    expect(c!.limit).toBe(130);

    const lower = (t: number): Values => ({ sbp: t < onset ? 150 : 115 }); // −23%
    const rel = firstFiring(EMPTY_TREND_STATE, T0, onset + 60 * MIN, lower, 'trend:sbp', relative);
    expect(rel.at).not.toBeNull();
    const [r] = trendConditions(rel.state, rel.at!, CTX, relative);
    expect(r!.rule).toBe('sbp down ≥20% from baseline 150 on 2 readings or for 10 min');
    expect(r!.message).toBe('SBP falling: 115 mmHg vs baseline 150 (-23%) for 10 min');
    expect(r!.limit).toBe(120);
  });

  it('SpO2 down 3 points fires after 5 min; down 2 does not', () => {
    const onset = T0 + 30 * MIN;
    const down = (by: number) => (t: number): Values => ({ spo2: t < onset ? 97 : 97 - by });
    expect(firstFiring(EMPTY_TREND_STATE, T0, onset + 90 * MIN, down(2), 'trend:spo2').at).toBeNull();
    const { at, state } = firstFiring(EMPTY_TREND_STATE, T0, onset + 90 * MIN, down(4), 'trend:spo2');
    const since = state.spo2!.exceed['trend:spo2']!.since;
    expect(at! - since).toBeGreaterThanOrEqual(5 * MIN);
    expect(at! - since).toBeLessThan(5 * MIN + STEP);
    const [c] = trendConditions(state, at!, CTX);
    expect(c).toMatchObject({ key: 'trend:spo2', priority: 'medium', value: 93 });
    expect(c!.message).toBe('SpO2 falling: 93 % vs baseline 97 (-4) for 5 min');
  });

  it('temperature from a probe: one decimal, low priority, 15 min sustain', () => {
    const onset = T0 + 30 * MIN;
    const { at, state } = firstFiring(EMPTY_TREND_STATE, T0, onset + 90 * MIN, (t) => ({ temp: t < onset ? 36.8 : 38.0 }), 'trend:temp');
    expect(at).not.toBeNull();
    expect(at! - state.temp!.exceed['trend:temp']!.since).toBe(15 * MIN);
    const [c] = trendConditions(state, at!, CTX);
    expect(c).toMatchObject({ key: 'trend:temp', priority: 'low', value: 38 });
    expect(c!.rule).toBe('temp up ≥0.8 from baseline 36.8 on 1 reading or for 15 min');
    expect(c!.message).toBe('Temp rising: 38.0 °C vs baseline 36.8 (+1.2) for 15 min');
  });

  it('does not fire on noise (seeded), and still sees a real change through it', () => {
    const sd = { hr: 3, spo2: 0.8, rr: 1.5, temp: 0.1, sbp: 6 };
    const mean = { hr: 78, spo2: 96, rr: 17, temp: 36.9, sbp: 125 };
    for (const seed of [1, 2, 3]) {
      const g = gaussian(seed);
      const noisy = (m: typeof mean) => () => ({
        hr: m.hr + sd.hr * g(),
        spo2: Math.min(100, Math.round(m.spo2 + sd.spo2 * g())),
        rr: m.rr + sd.rr * g(),
        temp: m.temp + sd.temp * g(),
        sbp: m.sbp + sd.sbp * g(),
      });
      let s = EMPTY_TREND_STATE;
      for (let t = T0; t < T0 + 6 * 60 * MIN; t += STEP) {
        s = updateTrends(s, t, noisy(mean)(), CTX);
        expect(trendConditions(s, t, CTX)).toEqual([]);
      }
      const onset = T0 + 6 * 60 * MIN;
      const { at } = firstFiring(s, onset, onset + 40 * MIN, noisy({ ...mean, hr: 100 }), 'trend:hr');
      expect(at).not.toBeNull();
      expect(at! - onset).toBeGreaterThanOrEqual(10 * MIN);
    }
  });
});

describe('baselines from hours before', () => {
  const hrOnly = [rule('trend:hr')];
  // The short baseline never ready: only the bucket baselines judge.
  const bucketsOnly = [{ ...rule('trend:hr'), minHistoryMs: 48 * HOUR }];

  it('the long baseline is the median of the 30-min bucket means 4–24 h before, from 4 buckets on', () => {
    // 2 h of 70, then 80: no long baseline until 4 buckets are at least 4 h old.
    let s = feed(EMPTY_TREND_STATE, T0, T0 + 2 * HOUR, () => ({ hr: 70 }), hrOnly, CTX, MIN);
    s = feed(s, T0 + 2 * HOUR, T0 + 5 * HOUR, () => ({ hr: 80 }), hrOnly, CTX, MIN);
    expect(s.hr!.long).toBeNull();
    s = feed(s, T0 + 5 * HOUR, T0 + 6 * HOUR, () => ({ hr: 80 }), hrOnly, CTX, MIN);
    expect(s.hr!.long).toBe(70); // buckets 0–2 h (70 ×4) …
    s = feed(s, T0 + 6 * HOUR, T0 + 10 * HOUR, () => ({ hr: 80 }), hrOnly, CTX, MIN);
    expect(s.hr!.long).toBe(80); // … until 80 is most of the window
    expect(s.hr!.recent).toBe(80);
  });

  it('a slow rise fires against the 4–24 h baseline and says so', () => {
    const onset = T0 + 8 * HOUR;
    const base = feed(EMPTY_TREND_STATE, T0, onset, () => ({ hr: 72 }), bucketsOnly, CTX, 30 * SEC);
    // +4/min per hour: the 1–4 h median trails by ~10/min, under 20 %; the 4–24 h one stays at 72.
    const rise = (t: number): Values => ({ hr: 72 + (4 * (t - onset)) / HOUR });
    const { at, state } = firstFiring(base, onset, onset + 6 * HOUR, rise, 'trend:hr', bucketsOnly, CTX, 30 * SEC);
    expect(at! - onset).toBeGreaterThan(3.5 * HOUR);
    expect(at! - onset).toBeLessThan(4 * HOUR);
    const [c] = trendConditions(state, at!, CTX, bucketsOnly);
    expect(c!.rule).toBe('hr up ≥20% from baseline 72 (4–24 h baseline) for 10 min');
    expect(c!.message).toMatch(/^HR rising: 8\d \/min vs 4–24 h baseline 72 \(\+2\d%\) for 10 min$/);
    // With the short baseline too (the default rule) it fires no later.
    expect(firstFiring(feed(EMPTY_TREND_STATE, T0, onset, () => ({ hr: 72 }), hrOnly, CTX, 30 * SEC), onset, onset + 6 * HOUR, rise, 'trend:hr', hrOnly, CTX, 30 * SEC).at).toBeLessThanOrEqual(at!);
  });

  it('with under 4 h of history the 1–4 h baseline stands in', () => {
    const onset = T0 + 2 * HOUR;
    const base = feed(EMPTY_TREND_STATE, T0, onset, () => ({ hr: 72 }), bucketsOnly, CTX, 30 * SEC);
    expect(base.hr!.long).toBeNull();
    expect(base.hr!.recent).toBe(72);
    const { at, state } = firstFiring(base, onset, onset + HOUR, () => ({ hr: 90 }), 'trend:hr', bucketsOnly, CTX, 30 * SEC);
    expect(at).not.toBeNull();
    const [c] = trendConditions(state, at!, CTX, bucketsOnly);
    expect(c!.rule).toBe('hr up ≥20% from baseline 72 (1–4 h baseline) for 10 min');
    expect(c!.message).toBe('HR rising: 90 /min vs 1–4 h baseline 72 (+25%) for 10 min');
  });
});

describe('intermittent parameters', () => {
  const cuff = (v: number) => ({ sbp: v });

  it('take each reading as a sample: two readings beyond confirm, one does not', () => {
    // A cuff every 30 min: 130, 130, 130, then 105, then 104.
    let s = EMPTY_TREND_STATE;
    for (let i = 0; i < 3; i++) s = updateTrends(s, T0 + i * 30 * MIN, cuff(130), CTX);
    s = updateTrends(s, T0 + 90 * MIN, cuff(105), CTX);
    expect(s.sbp!.exceed['trend:sbp']).toEqual({ since: T0 + 90 * MIN, samples: 1 });
    expect(trendConditions(s, T0 + 100 * MIN, CTX)).toEqual([]); // one reading, however long ago
    s = updateTrends(s, T0 + 120 * MIN, cuff(104), CTX);
    const [c] = trendConditions(s, T0 + 120 * MIN, CTX);
    expect(c).toMatchObject({ key: 'trend:sbp', value: 104, limit: 110.5 });
    expect(c!.rule).toBe('sbp down ≥15% from baseline 130 on 2 readings or for 10 min');
    expect(c!.message).toBe('SBP falling: 104 mmHg vs baseline 130 (-20%) for 30 min, 2 readings');
    // It persists until a reading is back inside — or 12 h without one.
    expect(trendConditions(s, T0 + 120 * MIN + INTERMITTENT_STALE_MS, CTX)).toHaveLength(1);
    expect(trendConditions(s, T0 + 120 * MIN + INTERMITTENT_STALE_MS + 1, CTX)).toEqual([]);
    s = updateTrends(s, T0 + 150 * MIN, cuff(125), CTX);
    expect(trendConditions(s, T0 + 150 * MIN, CTX)).toEqual([]);
  });

  it('a single wrong reading among the first three does not become the baseline', () => {
    let s = EMPTY_TREND_STATE;
    [130, 95, 128].forEach((v, i) => (s = updateTrends(s, T0 + i * HOUR, cuff(v), CTX)));
    s = updateTrends(s, T0 + 3 * HOUR, cuff(127), CTX);
    expect(s.sbp!.baseline).toBeGreaterThan(127); // from the median 128, not the mean 118
    expect(s.sbp!.exceed).toEqual({});
  });

  it('temperature: one reading 0.8 °C up is enough (as the 38.5 limit, no delay)', () => {
    let s = EMPTY_TREND_STATE;
    [36.8, 36.9, 36.8].forEach((v, i) => (s = updateTrends(s, T0 + i * HOUR, { temp: v }, CTX)));
    s = updateTrends(s, T0 + 3 * HOUR, { temp: 37.7 }, CTX);
    const [c] = trendConditions(s, T0 + 3 * HOUR, CTX);
    expect(c).toMatchObject({ key: 'trend:temp', value: 37.7, limit: 37.6, priority: 'low' });
    expect(c!.message).toBe('Temp rising: 37.7 °C vs baseline 36.8 (+0.9) for 0 min, 1 reading');
  });

  it('readings hours apart do not reset anything', () => {
    let s = EMPTY_TREND_STATE;
    for (let i = 0; i < 6; i++) s = updateTrends(s, T0 + i * 4 * HOUR, cuff(130 + (i % 2)), CTX);
    expect(s.sbp!.n).toBe(6);
    expect(s.sbp!.baseline).toBeCloseTo(130.5, 0);
    expect(s.sbp!.long).not.toBeNull(); // five 4-hourly readings 4–24 h back
  });
});

describe('SpO2 scale 2 and oxygen', () => {
  const scale2: TrendContext = { spo2Scale: 2, onOxygen: false };
  const spo2 = [rule('trend:spo2')];

  it('caps the baseline at 92 on scale 2: 96 → 91 does not fire, 92 → 88 does', () => {
    const onset = T0 + 30 * MIN;
    const at96 = feed(EMPTY_TREND_STATE, T0, onset, () => ({ spo2: 96 }), spo2, scale2);
    expect(firstFiring(at96, onset, onset + HOUR, () => ({ spo2: 91 }), 'trend:spo2', spo2, scale2).at).toBeNull();
    // The same on scale 1 fires.
    expect(firstFiring(at96, onset, onset + HOUR, () => ({ spo2: 91 }), 'trend:spo2', spo2, CTX).at).not.toBeNull();

    const from96 = firstFiring(at96, onset, onset + HOUR, () => ({ spo2: 88 }), 'trend:spo2', spo2, scale2);
    const [c] = trendConditions(from96.state, from96.at!, scale2, spo2);
    expect(c).toMatchObject({ value: 88, limit: 89 });
    expect(c!.rule).toBe('spo2 down ≥3 from baseline 92 (SpO2 scale 2: baseline capped at 92) for 5 min');
    expect(c!.message).toBe('SpO2 falling: 88 % vs baseline 92 (-4) for 5 min');

    const at92 = feed(EMPTY_TREND_STATE, T0, onset, () => ({ spo2: 92 }), spo2, scale2);
    expect(firstFiring(at92, onset, onset + HOUR, () => ({ spo2: 88 }), 'trend:spo2', spo2, scale2).at).not.toBeNull();
  });

  it('restarts the SpO2 baselines when oxygen starts or stops, not when it is unknown', () => {
    const onset = T0 + 6 * HOUR;
    const onAir = feed(EMPTY_TREND_STATE, T0, onset, () => ({ spo2: 93, hr: 72 }), undefined, CTX, MIN);
    expect(onAir.spo2!.long).toBe(93);
    const o2: TrendContext = { spo2Scale: 1, onOxygen: true };
    const started = updateTrends(onAir, onset, { spo2: 96, hr: 72 }, o2);
    expect(started.spo2).toMatchObject({ baseline: 96, n: 1, dataMs: 0, long: null, recent: null, o2: true, exceed: {} });
    expect(started.hr).toMatchObject({ long: 72 }); // nothing else restarts
    const unknown = updateTrends(onAir, onset, { spo2: 96 }, { spo2Scale: 1, onOxygen: null });
    expect(unknown.spo2).toMatchObject({ long: 93, o2: false });
    // Then off again: restarts again.
    const on = feed(started, onset + MIN, onset + HOUR, () => ({ spo2: 98 }), undefined, o2, MIN);
    const off = updateTrends(on, onset + HOUR, { spo2: 94 }, CTX);
    expect(off.spo2).toMatchObject({ baseline: 94, n: 1, o2: false });
    // Removing oxygen with the expected fall does not fire.
    expect(firstFiring(off, onset + HOUR + MIN, onset + 3 * HOUR, () => ({ spo2: 94 }), 'trend:spo2', undefined, CTX, MIN).at).toBeNull();
  });
});
