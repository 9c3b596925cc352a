// NEWS2 scoring against the Royal College of Physicians chart (RCP 2017, chart 1 for the
// parameter tables, chart 2/3 for the clinical-risk bands). Every boundary on both sides.
import { describe, expect, it } from 'vitest';
import {
  news2Band,
  scoreConsciousness,
  scoreNews2,
  maxSubScore,
  scoreOxygen,
  scorePulse,
  scoreRespiration,
  scoreSpo2Scale1,
  scoreSpo2Scale2,
  scoreSystolic,
  scoreTemperature,
} from '../../server/pipeline/score/news2.ts';
import { BAND_RANK, NEWS2_PARAMETERS, type News2Input } from '../../server/domain/news2.ts';
import { ACVPU } from '../../server/domain/vitals.ts';

/** All parameters present and scoring 0: the baseline every row below perturbs. */
const NORMAL: Required<News2Input> = { rr: 16, spo2: 97, o2: false, sbp: 120, hr: 70, acvpu: 'A', temp: 37.0 };

describe('respiration rate', () => {
  // RCP NEWS2 chart 1: respiration rate ≤8→3; 9–11→1; 12–20→0; 21–24→2; ≥25→3
  it.each([
    [0, 3],
    [8, 3],
    [9, 1],
    [11, 1],
    [12, 0],
    [20, 0],
    [21, 2],
    [24, 2],
    [25, 3],
    [60, 3],
  ])('rr %d → %d', (rr, score) => {
    expect(scoreRespiration(rr)).toBe(score);
    expect(scoreNews2({ ...NORMAL, rr }).parameters.rr).toBe(score);
  });
});

describe('SpO2 scale 1', () => {
  // RCP NEWS2 chart 1: SpO2 scale 1 ≤91→3; 92–93→2; 94–95→1; ≥96→0
  it.each([
    [50, 3],
    [91, 3],
    [92, 2],
    [93, 2],
    [94, 1],
    [95, 1],
    [96, 0],
    [100, 0],
  ])('spo2 %d → %d', (spo2, score) => {
    expect(scoreSpo2Scale1(spo2)).toBe(score);
    expect(scoreNews2({ ...NORMAL, spo2 }).parameters.spo2).toBe(score);
    expect(scoreNews2({ ...NORMAL, spo2 }, 1).parameters.spo2).toBe(score);
  });

  it('does not depend on oxygen (oxygen is scored separately)', () => {
    // RCP NEWS2 chart 1: scale 1 has one column for air and oxygen
    expect(scoreNews2({ ...NORMAL, spo2: 97, o2: true }).parameters.spo2).toBe(0);
    expect(scoreNews2({ ...NORMAL, spo2: 91, o2: true }).parameters.spo2).toBe(3);
  });
});

describe('SpO2 scale 2 (hypercapnic respiratory failure)', () => {
  // RCP NEWS2 chart 1: SpO2 scale 2 ≤83→3; 84–85→2; 86–87→1; 88–92 or ≥93 on air→0;
  // 93–94 on oxygen→1; 95–96 on oxygen→2; ≥97 on oxygen→3
  it.each([
    [50, false, 3],
    [83, false, 3],
    [84, false, 2],
    [85, false, 2],
    [86, false, 1],
    [87, false, 1],
    [88, false, 0],
    [92, false, 0],
    [93, false, 0],
    [97, false, 0],
    [100, false, 0],
    // The low half does not depend on oxygen.
    [83, true, 3],
    [84, true, 2],
    [85, true, 2],
    [86, true, 1],
    [87, true, 1],
    [88, true, 0],
    [92, true, 0],
    // ≥93 on oxygen: over-oxygenation scores.
    [93, true, 1],
    [94, true, 1],
    [95, true, 2],
    [96, true, 2],
    [97, true, 3],
    [100, true, 3],
  ])('spo2 %d, oxygen %s → %d', (spo2, o2, score) => {
    expect(scoreSpo2Scale2(spo2, o2)).toBe(score);
    expect(scoreNews2({ ...NORMAL, spo2, o2 }, 2).parameters.spo2).toBe(score);
  });

  it('scale 2 is only used when asked for', () => {
    // 88 scores 0 on scale 2 but 3 on scale 1.
    expect(scoreNews2({ ...NORMAL, spo2: 88 }).parameters.spo2).toBe(3);
    expect(scoreNews2({ ...NORMAL, spo2: 88 }, 2).parameters.spo2).toBe(0);
  });
});

describe('air or oxygen', () => {
  // RCP NEWS2 chart 1: oxygen→2; air→0
  it.each([
    [true, 2],
    [false, 0],
  ])('o2 %s → %d', (o2, score) => {
    expect(scoreOxygen(o2)).toBe(score);
    expect(scoreNews2({ ...NORMAL, o2 }).parameters.o2).toBe(score);
  });

  it('is missing when never given: no silent default to air (a clinical assessment)', () => {
    const { o2: _o2, ...rest } = NORMAL;
    const r = scoreNews2(rest);
    expect(r.parameters.o2).toBeNull();
    expect(r.partial).toBe(true);
    expect(r.missing).toEqual(['o2']);
  });

  it('scale 2 with o2 not assessed scores SpO2 ≥ 93 on the air row: a lower bound of a partial score', () => {
    const { o2: _o2, ...rest } = NORMAL;
    const r = scoreNews2({ ...rest, spo2: 97 }, 2);
    expect(r.parameters.spo2).toBe(0);
    expect(r.partial).toBe(true);
    // Assessed: on oxygen the same saturation scores 3 (+2 for the oxygen).
    expect(scoreNews2({ ...rest, spo2: 97, o2: true }, 2).total).toBe(5);
  });
});

describe('systolic blood pressure', () => {
  // RCP NEWS2 chart 1: systolic BP ≤90→3; 91–100→2; 101–110→1; 111–219→0; ≥220→3
  it.each([
    [50, 3],
    [90, 3],
    [91, 2],
    [100, 2],
    [101, 1],
    [110, 1],
    [111, 0],
    [219, 0],
    [220, 3],
    [280, 3],
  ])('sbp %d → %d', (sbp, score) => {
    expect(scoreSystolic(sbp)).toBe(score);
    expect(scoreNews2({ ...NORMAL, sbp }).parameters.sbp).toBe(score);
  });
});

describe('pulse', () => {
  // RCP NEWS2 chart 1: pulse ≤40→3; 41–50→1; 51–90→0; 91–110→1; 111–130→2; ≥131→3
  it.each([
    [20, 3],
    [40, 3],
    [41, 1],
    [50, 1],
    [51, 0],
    [90, 0],
    [91, 1],
    [110, 1],
    [111, 2],
    [130, 2],
    [131, 3],
    [200, 3],
  ])('hr %d → %d', (hr, score) => {
    expect(scorePulse(hr)).toBe(score);
    expect(scoreNews2({ ...NORMAL, hr }).parameters.hr).toBe(score);
  });
});

describe('consciousness', () => {
  // RCP NEWS2 chart 1: Alert→0; new Confusion, Voice, Pain, Unresponsive→3
  it.each([
    ['A', 0],
    ['C', 3],
    ['V', 3],
    ['P', 3],
    ['U', 3],
  ] as const)('%s → %d', (acvpu, score) => {
    expect(scoreConsciousness(acvpu)).toBe(score);
    expect(scoreNews2({ ...NORMAL, acvpu }).parameters.acvpu).toBe(score);
  });

  it('covers every ACVPU level', () => {
    expect([...ACVPU].sort()).toEqual(['A', 'C', 'P', 'U', 'V']);
  });

  it('is missing when never given: nobody assessed consciousness, so nothing says "alert"', () => {
    const { acvpu: _acvpu, ...rest } = NORMAL;
    const r = scoreNews2(rest);
    expect(r.parameters.acvpu).toBeNull();
    expect(r.partial).toBe(true);
    expect(r.missing).toEqual(['acvpu']);
  });
});

describe('temperature', () => {
  // RCP NEWS2 chart 1: temperature ≤35.0→3; 35.1–36.0→1; 36.1–38.0→0; 38.1–39.0→1; ≥39.1→2
  it.each([
    [30.0, 3],
    [35.0, 3],
    [35.1, 1],
    [36.0, 1],
    [36.1, 0],
    [38.0, 0],
    [38.1, 1],
    [39.0, 1],
    [39.1, 2],
    [42.0, 2],
  ])('temp %d → %d', (temp, score) => {
    expect(scoreTemperature(temp)).toBe(score);
    expect(scoreNews2({ ...NORMAL, temp }).parameters.temp).toBe(score);
  });
});

describe('values between two charted bands score on the worse side (no rounding)', () => {
  // The chart lists integers (temperature in tenths); a value in the gap between two rows takes
  // the row with the higher score, so measurement resolution never makes a patient look better.
  it.each([
    ['hr', 90.4, 1], // between 90 (0) and 91 (1)
    ['hr', 90.0, 0],
    ['hr', 40.5, 3], // between 40 (3) and 41 (1)
    ['hr', 41, 1],
    ['hr', 50.5, 1], // between 50 (1) and 51 (0)
    ['hr', 130.49, 3], // between 130 (2) and 131 (3)
    ['hr', 130, 2],
    ['rr', 20.4, 2], // between 20 (0) and 21 (2)
    ['rr', 8.5, 3], // between 8 (3) and 9 (1)
    ['rr', 11.5, 1], // between 11 (1) and 12 (0)
    ['rr', 24.5, 3], // between 24 (2) and 25 (3)
    ['spo2', 95.5, 1], // between 95 (1) and 96 (0)
    ['spo2', 91.5, 3], // between 91 (3) and 92 (2)
    ['spo2', 93.5, 2], // between 93 (2) and 94 (1)
    ['sbp', 90.5, 3], // between 90 (3) and 91 (2)
    ['sbp', 100.5, 2],
    ['sbp', 110.5, 1],
    ['sbp', 219.5, 3], // between 219 (0) and 220 (3)
  ] as const)('%s %d → %d', (param, value, score) => {
    expect(scoreNews2({ ...NORMAL, [param]: value }).parameters[param]).toBe(score);
  });

  it.each([
    [35.05, 3], // between 35.0 (3) and 35.1 (1)
    [35.1, 1],
    [36.05, 1], // between 36.0 (1) and 36.1 (0)
    [36.1, 0],
    [38.0, 0],
    [38.04, 1], // between 38.0 (0) and 38.1 (1)
    [39.0, 1],
    [39.05, 2], // between 39.0 (1) and 39.1 (2)
  ])('temp %d → %d', (temp, score) => {
    expect(scoreNews2({ ...NORMAL, temp }).parameters.temp).toBe(score);
  });

  it('scale 2 gaps: 87.5 → 1, 83.5 → 3, 92.5 on oxygen → 1, 92.5 on air → 0', () => {
    expect(scoreNews2({ ...NORMAL, spo2: 87.5 }, 2).parameters.spo2).toBe(1);
    expect(scoreNews2({ ...NORMAL, spo2: 83.5 }, 2).parameters.spo2).toBe(3);
    expect(scoreNews2({ ...NORMAL, spo2: 92.5, o2: true }, 2).parameters.spo2).toBe(1);
    expect(scoreNews2({ ...NORMAL, spo2: 92.5, o2: false }, 2).parameters.spo2).toBe(0);
  });

  it('does not mutate the caller input', () => {
    const input: News2Input = { ...NORMAL, hr: 90.5, temp: 38.06 };
    scoreNews2(input);
    expect(input).toEqual({ ...NORMAL, hr: 90.5, temp: 38.06 });
  });
});

describe('clinical-risk band', () => {
  // RCP NEWS2 chart 4: aggregate 0–4 low; a score of 3 in any single parameter → low-medium;
  // 5–6 medium (key threshold for urgent response); ≥7 high.
  it.each([
    [0, false, 'low'],
    [4, false, 'low'],
    [3, true, 'low-medium'],
    [4, true, 'low-medium'],
    [5, false, 'medium'],
    [6, false, 'medium'],
    [5, true, 'medium'], // ≥5 overrides the single-3 rule
    [6, true, 'medium'],
    [7, false, 'high'],
    [7, true, 'high'],
    [20, true, 'high'],
  ] as const)('total %d, single 3: %s → %s', (total, anySingleThree, band) => {
    expect(news2Band(total, anySingleThree)).toBe(band);
  });

  it('ranks bands in escalating order', () => {
    expect(BAND_RANK.low).toBeLessThan(BAND_RANK['low-medium']);
    expect(BAND_RANK['low-medium']).toBeLessThan(BAND_RANK.medium);
    expect(BAND_RANK.medium).toBeLessThan(BAND_RANK.high);
  });
});

describe('scoreNews2 totals and bands', () => {
  it.each<[string, News2Input, number, string]>([
    ['all normal', NORMAL, 0, 'low'],
    ['total 4 from four 1s', { ...NORMAL, rr: 10, hr: 95, temp: 38.5, sbp: 105 }, 4, 'low'],
    ['one 2 only', { ...NORMAL, rr: 22 }, 2, 'low'],
    // Single parameter at 3 with a small total: low-medium.
    ['single 3 (rr 8)', { ...NORMAL, rr: 8 }, 3, 'low-medium'],
    ['single 3 (new confusion)', { ...NORMAL, acvpu: 'C' }, 3, 'low-medium'],
    ['single 3 (temp 35.0)', { ...NORMAL, temp: 35.0 }, 3, 'low-medium'],
    ['single 3 plus 1', { ...NORMAL, sbp: 220, hr: 95 }, 4, 'low-medium'],
    // Oxygen scores 2, never 3: it cannot trigger the single-3 rule.
    ['oxygen + 2 from pulse', { ...NORMAL, o2: true, hr: 120 }, 4, 'low'],
    // Medium: 5–6, with or without a single 3.
    ['total 5 without a 3', { ...NORMAL, o2: true, rr: 22, hr: 95 }, 5, 'medium'],
    ['total 5 with a 3', { ...NORMAL, hr: 131, rr: 22 }, 5, 'medium'],
    ['total 6', { ...NORMAL, hr: 131, rr: 10, sbp: 100 }, 6, 'medium'],
    // High: ≥7.
    ['total 7', { ...NORMAL, hr: 131, rr: 25, temp: 38.5 }, 7, 'high'],
    [
      'every parameter at its maximum',
      { rr: 30, spo2: 85, o2: true, sbp: 80, hr: 150, acvpu: 'U', temp: 34.0 },
      3 + 3 + 2 + 3 + 3 + 3 + 3,
      'high',
    ],
  ])('%s → %d, %s', (_name, input, total, band) => {
    const r = scoreNews2(input);
    expect(r.total).toBe(total);
    expect(r.band).toBe(band);
    expect(r.partial).toBe(false);
  });

  it('total is the sum of the parameter sub-scores', () => {
    const r = scoreNews2({ rr: 22, spo2: 94, o2: true, sbp: 105, hr: 45, acvpu: 'V', temp: 39.5 });
    expect(r.parameters).toEqual({ rr: 2, spo2: 1, o2: 2, sbp: 1, hr: 1, acvpu: 3, temp: 2 });
    expect(r.total).toBe(12);
    expect(r.band).toBe('high');
  });

  it('reports a sub-score for every NEWS2 parameter', () => {
    expect(Object.keys(scoreNews2(NORMAL).parameters).sort()).toEqual([...NEWS2_PARAMETERS].sort());
  });

  it('scale 2 changes the total through the SpO2 sub-score', () => {
    // On oxygen at 97%: scale 1 → spo2 0 + o2 2; scale 2 → spo2 3 + o2 2.
    const input = { ...NORMAL, spo2: 97, o2: true };
    expect(scoreNews2(input, 1)).toMatchObject({ total: 2, band: 'low' });
    expect(scoreNews2(input, 2)).toMatchObject({ total: 5, band: 'medium' });
  });
});

describe('missing parameters', () => {
  // Every one of the seven parameters must be observed: nothing is defaulted.
  it.each(['rr', 'spo2', 'o2', 'sbp', 'hr', 'acvpu', 'temp'] as const)('missing %s → partial, sub-score null, listed', (param) => {
    const input: News2Input = { ...NORMAL };
    delete input[param];
    const r = scoreNews2(input);
    expect(r.partial).toBe(true);
    expect(r.missing).toEqual([param]);
    expect(r.parameters[param]).toBeNull();
    for (const other of NEWS2_PARAMETERS) {
      if (other !== param) expect(r.parameters[other]).not.toBeNull();
    }
  });

  it('a missing parameter contributes nothing to the total', () => {
    const { hr: _hr, ...rest } = NORMAL;
    const r = scoreNews2({ ...rest, rr: 25 });
    expect(r).toMatchObject({ total: 3, band: 'low-medium', partial: true, missing: ['hr'] });
  });

  it('an empty input: partial, nothing defaulted, all seven missing', () => {
    const r = scoreNews2({});
    expect(r).toEqual({
      total: 0,
      band: 'low',
      partial: true,
      missing: ['rr', 'spo2', 'o2', 'sbp', 'hr', 'acvpu', 'temp'],
      parameters: { rr: null, spo2: null, o2: null, sbp: null, hr: null, acvpu: null, temp: null },
    });
  });

  it('device data without a nurse assessment: 5 of 7, missing acvpu and o2', () => {
    const r = scoreNews2({ rr: 16, spo2: 97, sbp: 125, hr: 72, temp: 37 });
    expect(r).toMatchObject({ total: 0, partial: true, missing: ['o2', 'acvpu'] });
  });

  it('a partial score still reaches high when the present values say so', () => {
    const r = scoreNews2({ rr: 30, hr: 140, acvpu: 'U' });
    expect(r).toMatchObject({ total: 9, band: 'high', partial: true });
  });

  it('a value of 0 is present, not missing', () => {
    const r = scoreNews2({ ...NORMAL, rr: 0 });
    expect(r.partial).toBe(false);
    expect(r.missing).toEqual([]);
    expect(r.parameters.rr).toBe(3);
  });

  it('maxSubScore: the highest known sub-score', () => {
    expect(maxSubScore(scoreNews2({ ...NORMAL, rr: 22 }))).toBe(2);
    expect(maxSubScore(scoreNews2({}))).toBe(0);
  });
});
