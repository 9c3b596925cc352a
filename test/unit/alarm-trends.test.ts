// Trend alarms: a sustained change from the patient's own baseline (time-aware EWMAs).
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TREND_RULES,
  EMPTY_TREND_STATE,
  TREND_GAP_MS,
  trendConditions,
  updateTrends,
  type TrendRule,
  type TrendState,
} from '../../server/pipeline/alarms/trends.ts';

const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);
const SEC = 1000;
const MIN = 60 * SEC;
const STEP = 5 * SEC;

type Values = Partial<Record<string, number>>;

/** Feed one reading every STEP from `from` (inclusive) to `to` (exclusive). */
function feed(state: TrendState, from: number, to: number, values: (t: number) => Values, rules?: TrendRule[]): TrendState {
  let s = state;
  for (let t = from; t < to; t += STEP) s = updateTrends(s, t, values(t), rules);
  return s;
}

/** Feed like `feed`, returning the first time a condition with `key` holds (or null). */
function firstFiring(state: TrendState, from: number, to: number, values: (t: number) => Values, key: string, rules?: TrendRule[]) {
  let s = state;
  for (let t = from; t < to; t += STEP) {
    s = updateTrends(s, t, values(t), rules);
    if (trendConditions(s, t, rules).some((c) => c.key === key)) return { at: t, state: s };
  }
  return { at: null, state: s };
}

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

const rule = (p: TrendRule['parameter']): TrendRule => DEFAULT_TREND_RULES.find((r) => r.parameter === p)!;

describe('DEFAULT_TREND_RULES', () => {
  it('holds the agreed rules', () => {
    const common = { baselineTauMs: 45 * MIN, fastTauMs: 2 * MIN, minHistoryMs: 20 * MIN };
    expect(DEFAULT_TREND_RULES).toEqual([
      { parameter: 'hr', direction: 'up', change: 20, relative: true, sustainMs: 10 * MIN, priority: 'medium', ...common },
      { parameter: 'spo2', direction: 'down', change: 3, relative: false, sustainMs: 15 * MIN, priority: 'medium', ...common },
      { parameter: 'rr', direction: 'up', change: 30, relative: true, sustainMs: 10 * MIN, priority: 'low', ...common },
      { parameter: 'temp', direction: 'up', change: 1.0, relative: false, sustainMs: 30 * MIN, priority: 'low', ...common },
      { parameter: 'sbp', direction: 'down', change: 20, relative: true, sustainMs: 10 * MIN, priority: 'medium', ...common },
    ]);
  });
});

describe('updateTrends', () => {
  it('starts a parameter at its first value', () => {
    const s = updateTrends(EMPTY_TREND_STATE, T0, { hr: 72, spo2: 97 });
    expect(s.hr).toEqual({ baseline: 72, fast: 72, firstTs: T0, lastTs: T0, exceedSince: null });
    expect(s.spo2).toEqual({ baseline: 97, fast: 97, firstTs: T0, lastTs: T0, exceedSince: null });
  });

  it('uses alpha = 1 − exp(−dt/τ) for both averages (after warm-up)', () => {
    const start: TrendState = { hr: { baseline: 70, fast: 70, firstTs: T0, lastTs: T0 + 30 * MIN, exceedSince: null } };
    const s = updateTrends(start, T0 + 31 * MIN, { hr: 80 });
    expect(s.hr!.fast).toBeCloseTo(70 + 10 * (1 - Math.exp(-1 / 2)), 10);
    expect(s.hr!.baseline).toBeCloseTo(70 + 10 * (1 - Math.exp(-1 / 45)), 10);
  });

  it('ignores a reading not newer than the last one, and parameters without rules', () => {
    const s1 = updateTrends(EMPTY_TREND_STATE, T0, { hr: 72 });
    expect(updateTrends(s1, T0, { hr: 150 })).toEqual(s1);
    expect(updateTrends(s1, T0 - SEC, { hr: 150 })).toEqual(s1);
    expect(updateTrends(s1, T0 + SEC, { dbp: 80, hr: Number.NaN })).toEqual(s1);
  });

  it('never mutates its input', () => {
    const s1 = deepFreeze(feed(EMPTY_TREND_STATE, T0, T0 + 25 * MIN, () => ({ hr: 72, spo2: 97 })));
    const copy = structuredClone(s1);
    const s2 = updateTrends(s1, T0 + 40 * MIN, { hr: 120 }); // also a gap reset of spo2
    expect(s1).toEqual(copy);
    expect(s2).not.toBe(s1);
    const rules = deepFreeze(structuredClone(DEFAULT_TREND_RULES));
    expect(() => trendConditions(s2, T0 + 40 * MIN, rules)).not.toThrow();
  });
});

describe('trendConditions', () => {
  const stable = (t: number): Values => ({ hr: 72, spo2: 97, rr: 16, temp: 36.8, sbp: 130 });

  it('fires after the deviation has held for sustainMs, and not before', () => {
    const onset = T0 + 30 * MIN;
    let s = feed(EMPTY_TREND_STATE, T0, onset, stable);
    expect(trendConditions(s, onset)).toEqual([]);

    // HR 72 → 90 (+25%): the fast average crosses 72 × 1.2 within a few minutes.
    const risen = (t: number): Values => ({ ...stable(t), hr: 90 });
    s = feed(s, onset, onset + 8 * MIN, risen);
    const since = s.hr!.exceedSince!;
    expect(since).toBeGreaterThan(onset);
    expect(since).toBeLessThan(onset + 8 * MIN);

    s = feed(s, onset + 8 * MIN, since + 10 * MIN, risen);
    expect(trendConditions(s, since + 10 * MIN - 1)).toEqual([]);
    expect(trendConditions(s, since + 10 * MIN)).toHaveLength(1);

    s = updateTrends(s, since + 10 * MIN, risen(0));
    const [c] = trendConditions(s, since + 10 * MIN);
    expect(c).toMatchObject({
      key: 'trend:hr',
      kind: 'trend',
      category: 'physiological',
      priority: 'medium',
      parameter: 'hr',
      value: 90,
      delayMs: 0,
    });
    // The first reading beyond the threshold froze the baseline: it is still exactly 72.
    expect(s.hr!.baseline).toBe(72);
    expect(c!.limit).toBe(86.4);
    expect(c!.rule).toBe('hr up ≥20% from baseline 72 for 10 min');
    expect(c!.message).toBe('HR rising: 90 /min vs baseline 72 (+25%) for 10 min');
  });

  it('does not fire within minHistoryMs of history', () => {
    // A state that has been beyond its threshold for long enough, but with only 15 min of history.
    const s: TrendState = { hr: { baseline: 72, fast: 95, firstTs: T0, lastTs: T0 + 15 * MIN, exceedSince: T0 + 2 * MIN } };
    expect(trendConditions(s, T0 + 15 * MIN)).toEqual([]);
    expect(trendConditions(s, T0 + 20 * MIN)).toHaveLength(1);
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
    s = updateTrends(s, onset, { hr: 150 });
    expect(s.hr!.baseline).toBe(72);
    expect(s.hr!.exceedSince).toBeNull();
    s = feed(s, onset + STEP, onset + 60 * MIN, stable);
    expect(s.hr!.exceedSince).toBeNull();
    expect(trendConditions(s, onset + 60 * MIN)).toEqual([]);
  });

  it('respects the direction of each rule', () => {
    const onset = T0 + 30 * MIN;
    let s = feed(EMPTY_TREND_STATE, T0, onset, stable);
    // HR falls 30% (the rule is "up"), SpO2 rises 3 (the rule is "down"), SBP rises 30%.
    s = feed(s, onset, onset + 60 * MIN, (t) => ({ ...stable(t), hr: 50, spo2: 100, sbp: 170 }));
    expect(trendConditions(s, onset + 60 * MIN)).toEqual([]);
    expect(s.hr!.exceedSince).toBeNull();

    // The same size of change the other way does fire.
    let d = feed(EMPTY_TREND_STATE, T0, onset, stable);
    d = feed(d, onset, onset + 60 * MIN, (t) => ({ ...stable(t), hr: 95, spo2: 93, sbp: 95 }));
    expect(trendConditions(d, onset + 60 * MIN).map((c) => c.key).sort()).toEqual(['trend:hr', 'trend:sbp', 'trend:spo2']);
  });

  it('freezes the baseline while the deviation lasts, and lets go when it ends', () => {
    const onset = T0 + 30 * MIN;
    let s = feed(EMPTY_TREND_STATE, T0, onset, stable);
    s = feed(s, onset, onset + 10 * MIN, (t) => ({ ...stable(t), hr: 90 }));
    const frozen = s.hr!.baseline;
    s = feed(s, onset + 10 * MIN, onset + 120 * MIN, (t) => ({ ...stable(t), hr: 90 }));
    // Unfrozen, a 45 min EWMA would have moved most of the way to 90 in 2 h.
    expect(s.hr!.baseline).toBe(frozen);
    expect(frozen).toBe(72);
    expect(trendConditions(s, onset + 120 * MIN).map((c) => c.key)).toEqual(['trend:hr']);

    // Back to normal: the deviation clears, the condition goes, the baseline follows again.
    s = feed(s, onset + 120 * MIN, onset + 135 * MIN, (t) => stable(t));
    expect(s.hr!.exceedSince).toBeNull();
    expect(trendConditions(s, onset + 135 * MIN)).toEqual([]);
    s = updateTrends(s, onset + 136 * MIN, { hr: 80 });
    expect(s.hr!.baseline).not.toBe(frozen);
  });

  it('resets a parameter after a gap of more than 10 min (a stale baseline must not fire)', () => {
    const onset = T0 + 30 * MIN;
    const base = feed(EMPTY_TREND_STATE, T0, onset, stable);

    // A state that had been firing stops firing once its parameter goes silent.
    let s = feed(base, onset, onset + 30 * MIN, (t) => ({ ...stable(t), hr: 95 }));
    expect(trendConditions(s, onset + 30 * MIN).map((c) => c.key)).toEqual(['trend:hr']);
    s = feed(s, onset + 30 * MIN, onset + 42 * MIN, (t) => ({ spo2: 97 }));
    expect(s.hr).toBeUndefined();
    expect(trendConditions(s, onset + 42 * MIN)).toEqual([]);

    // Without further updates, trendConditions alone ignores a stale parameter.
    const stale = feed(base, onset, onset + 30 * MIN, (t) => ({ ...stable(t), hr: 95 }));
    expect(trendConditions(stale, onset + 30 * MIN - STEP + TREND_GAP_MS)).toHaveLength(1);
    expect(trendConditions(stale, onset + 30 * MIN - STEP + TREND_GAP_MS + 1)).toEqual([]);

    // Back after 11 min at a higher value: it starts over from there, no alarm against the old baseline.
    const back = onset + 11 * MIN;
    const r = updateTrends(base, back, { hr: 95 });
    expect(r.hr).toEqual({ baseline: 95, fast: 95, firstTs: back, lastTs: back, exceedSince: null });
    const { at } = firstFiring(r, back + STEP, back + 60 * MIN, () => ({ hr: 95 }), 'trend:hr');
    expect(at).toBeNull();
  });

  it('applies a relative change as a percentage of the baseline and an absolute change in units', () => {
    const sbpRule = rule('sbp');
    const relative: TrendRule[] = [sbpRule];
    const absolute: TrendRule[] = [{ ...sbpRule, relative: false, change: 20 }];
    const onset = T0 + 30 * MIN;
    const high = (t: number): Values => ({ sbp: t < onset ? 150 : 125 }); // −25 mmHg, −17%

    expect(firstFiring(EMPTY_TREND_STATE, T0, onset + 60 * MIN, high, 'trend:sbp', relative).at).toBeNull();
    const abs = firstFiring(EMPTY_TREND_STATE, T0, onset + 60 * MIN, high, 'trend:sbp', absolute);
    expect(abs.at).not.toBeNull();
    const [c] = trendConditions(abs.state, abs.at!, absolute);
    expect(c!.rule).toBe('sbp down ≥20 from baseline 150 for 10 min');
    expect(c!.message).toBe('SBP falling: 125 mmHg vs baseline 150 (-25) for 10 min');
    expect(c!.limit).toBe(130);

    const lower = (t: number): Values => ({ sbp: t < onset ? 150 : 115 }); // −23%
    const rel = firstFiring(EMPTY_TREND_STATE, T0, onset + 60 * MIN, lower, 'trend:sbp', relative);
    expect(rel.at).not.toBeNull();
    const [r] = trendConditions(rel.state, rel.at!, relative);
    expect(r!.rule).toBe('sbp down ≥20% from baseline 150 for 10 min');
    expect(r!.message).toBe('SBP falling: 115 mmHg vs baseline 150 (-23%) for 10 min');
    expect(r!.limit).toBe(120);
  });

  it('SpO2 down 3 points fires after 15 min; down 2 does not', () => {
    const onset = T0 + 30 * MIN;
    const down = (by: number) => (t: number): Values => ({ spo2: t < onset ? 97 : 97 - by });
    expect(firstFiring(EMPTY_TREND_STATE, T0, onset + 90 * MIN, down(2), 'trend:spo2').at).toBeNull();
    const { at, state } = firstFiring(EMPTY_TREND_STATE, T0, onset + 90 * MIN, down(4), 'trend:spo2');
    expect(at! - state.spo2!.exceedSince!).toBeGreaterThanOrEqual(15 * MIN);
    expect(at! - state.spo2!.exceedSince!).toBeLessThan(15 * MIN + STEP);
    const [c] = trendConditions(state, at!);
    expect(c).toMatchObject({ key: 'trend:spo2', priority: 'medium', value: 93 });
    expect(c!.message).toBe('SpO2 falling: 93 % vs baseline 97 (-4) for 15 min');
  });

  it('temperature: one decimal, low priority, 30 min sustain', () => {
    const onset = T0 + 30 * MIN;
    const { at, state } = firstFiring(EMPTY_TREND_STATE, T0, onset + 90 * MIN, (t) => ({ temp: t < onset ? 36.8 : 38.0 }), 'trend:temp');
    expect(at).not.toBeNull();
    const [c] = trendConditions(state, at!);
    expect(c).toMatchObject({ key: 'trend:temp', priority: 'low', value: 38 });
    expect(c!.rule).toBe('temp up ≥1.0 from baseline 36.8 for 30 min');
    expect(c!.message).toBe('Temp rising: 38.0 °C vs baseline 36.8 (+1.2) for 30 min');
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
        s = updateTrends(s, t, noisy(mean)());
        expect(trendConditions(s, t)).toEqual([]);
      }
      const onset = T0 + 6 * 60 * MIN;
      const { at } = firstFiring(s, onset, onset + 40 * MIN, noisy({ ...mean, hr: 100 }), 'trend:hr');
      expect(at).not.toBeNull();
      expect(at! - onset).toBeGreaterThanOrEqual(10 * MIN);
    }
  });
});
