// Limit conditions (delay, hysteresis, extreme → high) and NEWS2 band conditions (RCP chart 4).
import { describe, expect, it } from 'vitest';
import { limitConditions, news2Conditions, DEFAULT_LIMIT_POLICY, NEWS2_RESPONSE } from '../../server/pipeline/alarms/physiological.ts';
import { scoreNews2 } from '../../server/pipeline/score/news2.ts';

const NORMAL = { hr: 70, spo2: 97, rr: 14, temp: 36.8, sbp: 120, dbp: 80 };

describe('limitConditions', () => {
  it('is silent inside the adult defaults', () => {
    expect(limitConditions(NORMAL, null, {})).toEqual([]);
  });

  it.each([
    ['hr', 121, 'high', 120, 'medium', 10_000],
    ['hr', 49, 'low', 50, 'medium', 10_000],
    ['hr', 150, 'high', 120, 'high', 10_000],
    ['hr', 40, 'low', 50, 'high', 10_000],
    ['spo2', 89, 'low', 90, 'medium', 10_000],
    ['spo2', 85, 'low', 90, 'high', 10_000],
    ['rr', 26, 'high', 25, 'medium', 10_000],
    ['temp', 38.6, 'high', 38.5, 'medium', 0],
    ['sbp', 89, 'low', 90, 'medium', 0],
    ['sbp', 80, 'low', 90, 'high', 0],
    ['dbp', 111, 'high', 110, 'medium', 0],
  ] as const)('%s %d crosses the %s limit %d: %s, delay %d ms', (p, value, side, limit, priority, delayMs) => {
    const [c] = limitConditions({ ...NORMAL, [p]: value }, null, {});
    expect(c).toMatchObject({ key: `limit:${p}`, kind: 'limit', category: 'physiological', parameter: p, value, limit, priority, delayMs });
    expect(c!.message).toContain(`${side} ${value}`);
  });

  it('a value equal to the limit is inside it', () => {
    expect(limitConditions({ ...NORMAL, hr: 120, spo2: 90 }, null, {})).toEqual([]);
  });

  it('uses the patient’s own limits', () => {
    expect(limitConditions({ ...NORMAL, hr: 105 }, { hr: { high: 100 } }, {})[0]).toMatchObject({ limit: 100 });
    expect(limitConditions({ ...NORMAL, hr: 125 }, { hr: { high: 130 } }, {})).toEqual([]);
  });

  it('holds an open alarm until the value is back inside by the margin (hysteresis)', () => {
    const openHigh = { 'limit:hr': { limit: 120, value: 125, priority: 'medium' as const } };
    expect(DEFAULT_LIMIT_POLICY.margin.hr).toBe(5);
    expect(limitConditions({ ...NORMAL, hr: 118 }, null, openHigh)).toHaveLength(1);
    expect(limitConditions({ ...NORMAL, hr: 116 }, null, { 'limit:hr': { limit: 120, value: 118, priority: 'medium' } })).toHaveLength(1);
    expect(limitConditions({ ...NORMAL, hr: 115 }, null, openHigh)).toEqual([]);
    const openLow = { 'limit:spo2': { limit: 90, value: 88, priority: 'medium' as const } };
    expect(limitConditions({ ...NORMAL, spo2: 91 }, null, openLow)).toHaveLength(1);
    expect(limitConditions({ ...NORMAL, spo2: 92 }, null, openLow)).toEqual([]);
  });

  it('ignores missing values (absent data is not a violation, and not a recovery)', () => {
    expect(limitConditions({}, null, { 'limit:hr': { limit: 120, value: 130, priority: 'medium' } })).toEqual([]);
  });
});

/** Every NEWS2 parameter assessed (air, alert): a complete score. */
const FULL = { ...NORMAL, o2: false, acvpu: 'A' } as const;

describe('news2Conditions', () => {
  // RCP NEWS2 chart 4: low-medium → urgent ward-based response; medium → urgent; high → emergency.
  it.each([
    [{ ...FULL }, null],
    [{ ...FULL, rr: 26 }, 'medium'], // a single 3: medium by default (urgent ward-based response)
    [{ ...FULL, rr: 22, spo2: 93, hr: 95 }, 'medium'],
    [{ ...FULL, rr: 26, spo2: 91, hr: 95 }, 'high'],
  ] as const)('%o → %s priority', (values, priority) => {
    const c = news2Conditions(scoreNews2(values), {});
    if (priority === null) expect(c).toEqual([]);
    else expect(c[0]).toMatchObject({ key: 'news2:total', kind: 'news2', priority, delayMs: 0 });
  });

  it('carries the RCP recommended response', () => {
    const [c] = news2Conditions(scoreNews2({ ...FULL, rr: 26, spo2: 91, hr: 95 }), {});
    expect(c!.message).toContain(NEWS2_RESPONSE.high);
    expect(c!.rule).toBe('NEWS2 ≥ 7');
  });

  it('does not lower an open alarm on a partial score, nor drop it without a score', () => {
    const open = { 'news2:total': { limit: 7, value: 8, priority: 'high' as const } };
    const partialLow = scoreNews2({ rr: 14, spo2: 97 });
    expect(partialLow.partial).toBe(true);
    expect(news2Conditions(partialLow, open)[0]).toMatchObject({ priority: 'high', value: 8 });
    expect(news2Conditions(null, open)[0]).toMatchObject({ priority: 'high' });
    expect(news2Conditions(scoreNews2(FULL), open)).toEqual([]); // a full low score clears it
  });
});

describe('no flapping at band and limit edges', () => {
  it('holds a NEWS2 alarm until the total is 2 below its threshold', () => {
    const openHigh = { 'news2:total': { limit: 7, value: 7, priority: 'high' as const } };
    // total 6 (medium band) keeps the high alarm; total 5 lets it step down to medium
    const six = scoreNews2({ ...FULL, rr: 26, spo2: 92, hr: 95 }); // 3 + 2 + 1
    expect(six.total).toBe(6);
    expect(news2Conditions(six, openHigh)[0]).toMatchObject({ priority: 'high' });
    const five = scoreNews2({ ...FULL, rr: 26, spo2: 94, hr: 95 }); // 3 + 1 + 1
    // Hysteresis for high: holds at 6, steps down at 5.
    expect(news2Conditions(five, openHigh)[0]).toMatchObject({ priority: 'medium' });
    const openMedium = { 'news2:total': { limit: 5, value: 5, priority: 'medium' as const } };
    const four = scoreNews2({ ...FULL, rr: 22, spo2: 93 }); // 2 + 2
    expect(four.total).toBe(4);
    expect(news2Conditions(four, openMedium)[0]).toMatchObject({ priority: 'medium' });
    expect(news2Conditions(scoreNews2({ ...FULL, rr: 22, spo2: 94 }), openMedium)).toEqual([]); // 3: clears
  });

  it('keeps an extreme limit alarm high until the value is back from the extreme by the margin', () => {
    const openHigh = { 'limit:sbp': { limit: 90, value: 79, priority: 'high' as const } };
    expect(limitConditions({ ...FULL, sbp: 84 }, null, openHigh)[0]).toMatchObject({ priority: 'high' });
    expect(limitConditions({ ...FULL, sbp: 86 }, null, openHigh)[0]).toMatchObject({ priority: 'medium' });
    expect(limitConditions({ ...FULL, sbp: 84 }, null, {})[0]).toMatchObject({ priority: 'medium' });
  });
});

describe('NEWS2: a single parameter scoring 3, hysteresis of the low-medium band, partial scores', () => {
  it('a single 3 raises a medium alarm by default, low when configured', () => {
    const single = scoreNews2({ ...FULL, acvpu: 'C' });
    expect(single.band).toBe('low-medium');
    expect(news2Conditions(single, {})[0]).toMatchObject({ priority: 'medium', limit: 3, rule: 'a single NEWS2 parameter scores 3' });
    expect(news2Conditions(single, {}, { singleThreePriority: 'low' })[0]).toMatchObject({ priority: 'low' });
  });

  it('an open single-3 alarm holds while the parameter still scores 2, and clears below', () => {
    const open = { 'news2:total': { limit: 3, value: 3, priority: 'medium' as const } };
    const two = scoreNews2({ ...FULL, rr: 22 }); // rr 22 → 2
    expect(news2Conditions(two, open)[0]).toMatchObject({ priority: 'medium', limit: 3 });
    expect(news2Conditions(scoreNews2({ ...FULL, rr: 20 }), open)).toEqual([]);
  });

  it('a partial score opens an alarm from what it knows (a lower bound), and says what is missing', () => {
    const partial = scoreNews2({ rr: 26, spo2: 91, hr: 95, sbp: 120, temp: 37 }); // 3 + 3 + 1, no o2/acvpu
    const [c] = news2Conditions(partial, {});
    expect(c).toMatchObject({ priority: 'high', value: 7 });
    expect(c!.message).toContain('NEWS2 ≥ 7');
    expect(c!.message).toContain('missing o2, acvpu');
  });
});
