// Per-patient alarm limits: defaults, overrides, and the crossing rule
// ("a value equal to a limit is inside it; only crossing it alarms" — limits.ts).
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ADULT_LIMITS,
  effectiveLimits,
  limitViolations,
} from '../../server/pipeline/score/limits.ts';
import type { AlarmLimits } from '../../server/domain/alarms.ts';
import { NUMERIC_VITALS } from '../../server/domain/vitals.ts';

const DEFAULTS_SNAPSHOT = structuredClone(DEFAULT_ADULT_LIMITS);

describe('effectiveLimits', () => {
  it.each([null, undefined, {}])('%j → the adult defaults', (overrides) => {
    expect(effectiveLimits(overrides)).toEqual(DEFAULT_ADULT_LIMITS);
  });

  it('defines a bound for every numeric vital', () => {
    expect(Object.keys(DEFAULT_ADULT_LIMITS).sort()).toEqual([...NUMERIC_VITALS].sort());
  });

  it.each<[string, AlarmLimits, Partial<typeof DEFAULT_ADULT_LIMITS>]>([
    ['raises one side, keeps the other', { hr: { high: 140 } }, { hr: { low: 50, high: 140 } }],
    ['lowers one side, keeps the other', { hr: { low: 40 } }, { hr: { low: 40, high: 120 } }],
    ['replaces both sides', { rr: { low: 6, high: 30 } }, { rr: { low: 6, high: 30 } }],
    // COPD patient on a scale-2 target: SpO2 low at 88.
    ['adds a side the default lacks', { spo2: { low: 88, high: 98 } }, { spo2: { low: 88, high: 98 } }],
    ['several parameters at once', { temp: { high: 39 }, sbp: { low: 100 } }, { temp: { low: 35, high: 39 }, sbp: { low: 100, high: 180 } }],
  ])('%s', (_name, overrides, changed) => {
    expect(effectiveLimits(overrides)).toEqual({ ...DEFAULT_ADULT_LIMITS, ...changed });
  });

  it('an empty bound leaves the default as is', () => {
    expect(effectiveLimits({ hr: {} })).toEqual(DEFAULT_ADULT_LIMITS);
  });

  it('never mutates the defaults or the overrides', () => {
    const overrides: AlarmLimits = { hr: { high: 140 }, spo2: { low: 85 } };
    const copy = structuredClone(overrides);
    effectiveLimits(overrides);
    expect(DEFAULT_ADULT_LIMITS).toEqual(DEFAULTS_SNAPSHOT);
    expect(overrides).toEqual(copy);
    expect(effectiveLimits(null)).toEqual(DEFAULTS_SNAPSHOT);
  });
});

describe('limitViolations with the adult defaults', () => {
  const limits = effectiveLimits(null);

  // Each default bound: at the limit is fine, just past it alarms.
  it.each([
    ['hr', 50, null],
    ['hr', 49, 'low'],
    ['hr', 120, null],
    ['hr', 121, 'high'],
    ['spo2', 90, null],
    ['spo2', 89, 'low'],
    ['spo2', 100, null], // no high SpO2 limit by default
    ['rr', 8, null],
    ['rr', 7, 'low'],
    ['rr', 25, null],
    ['rr', 26, 'high'],
    ['temp', 35.0, null],
    ['temp', 34.9, 'low'],
    ['temp', 38.5, null],
    ['temp', 38.6, 'high'],
    ['sbp', 90, null],
    ['sbp', 89, 'low'],
    ['sbp', 180, null],
    ['sbp', 181, 'high'],
    ['dbp', 40, null],
    ['dbp', 39, 'low'],
    ['dbp', 110, null],
    ['dbp', 111, 'high'],
  ] as const)('%s %d → %s', (parameter, value, direction) => {
    const out = limitViolations(limits, { [parameter]: value });
    if (direction === null) expect(out).toEqual([]);
    else {
      const bound = DEFAULT_ADULT_LIMITS[parameter];
      expect(out).toEqual([{ parameter, value, direction, limit: direction === 'low' ? bound.low : bound.high }]);
    }
  });

  it('no values → no violations', () => {
    expect(limitViolations(limits, {})).toEqual([]);
  });

  it('ignores o2 and acvpu (not limit-checked)', () => {
    expect(limitViolations(limits, { o2: true, acvpu: 'U' })).toEqual([]);
  });

  it('reports every violated parameter, one entry each', () => {
    const out = limitViolations(limits, { hr: 150, spo2: 85, rr: 16, temp: 34, sbp: 120 });
    expect(out).toHaveLength(3);
    expect(out).toEqual(
      expect.arrayContaining([
        { parameter: 'hr', value: 150, direction: 'high', limit: 120 },
        { parameter: 'spo2', value: 85, direction: 'low', limit: 90 },
        { parameter: 'temp', value: 34, direction: 'low', limit: 35 },
      ]),
    );
  });

  it('a value of 0 is a value (asystole reads as low, not as missing)', () => {
    expect(limitViolations(limits, { hr: 0 })).toEqual([{ parameter: 'hr', value: 0, direction: 'low', limit: 50 }]);
  });
});

describe('limitViolations with overrides', () => {
  it('uses the overridden bound, not the default', () => {
    const limits = effectiveLimits({ hr: { high: 140 } });
    expect(limitViolations(limits, { hr: 130 })).toEqual([]);
    expect(limitViolations(limits, { hr: 141 })).toEqual([{ parameter: 'hr', value: 141, direction: 'high', limit: 140 }]);
    // The untouched side still applies.
    expect(limitViolations(limits, { hr: 45 })).toEqual([{ parameter: 'hr', value: 45, direction: 'low', limit: 50 }]);
  });

  it('a lowered SpO2 limit (scale-2 patient) silences 88–89', () => {
    const limits = effectiveLimits({ spo2: { low: 88 } });
    expect(limitViolations(limits, { spo2: 88 })).toEqual([]);
    expect(limitViolations(limits, { spo2: 87 })).toHaveLength(1);
  });

  it('an added high SpO2 limit alarms on over-oxygenation', () => {
    const limits = effectiveLimits({ spo2: { high: 96 } });
    expect(limitViolations(limits, { spo2: 97 })).toEqual([{ parameter: 'spo2', value: 97, direction: 'high', limit: 96 }]);
  });

  it('a parameter with no bound at all never alarms', () => {
    const limits = { ...effectiveLimits(null), hr: {} };
    expect(limitViolations(limits, { hr: 0 })).toEqual([]);
    expect(limitViolations(limits, { hr: 300 })).toEqual([]);
  });
});
