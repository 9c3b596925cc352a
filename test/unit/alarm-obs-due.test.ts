// Manual observations due, from the NEWS2 score: RCP NEWS2 chart 4 (minimum frequency of monitoring).
import { describe, expect, it } from 'vitest';
import { obsDueCondition, observationDue, observationInterval } from '../../server/pipeline/alarms/obs-due.ts';
import { scoreNews2 } from '../../server/pipeline/score/news2.ts';
import type { News2Band } from '../../server/domain/news2.ts';

const T0 = Date.UTC(2024, 5, 1, 8, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

describe('observationInterval', () => {
  // RCP NEWS2 chart 4: minimum frequency of monitoring
  const table: [total: number, band: News2Band, interval: number | 'continuous'][] = [
    [0, 'low', 12 * HOUR], // 0 → minimum 12-hourly
    [1, 'low', 4 * HOUR], // 1–4 → minimum 4–6-hourly (the stricter 4 h)
    [4, 'low', 4 * HOUR],
    [3, 'low-medium', HOUR], // a single parameter scoring 3 → minimum 1-hourly
    [4, 'low-medium', HOUR],
    [5, 'medium', HOUR], // 5–6 → minimum 1-hourly
    [6, 'medium', HOUR],
    [7, 'high', 'continuous'], // ≥ 7 → continuous monitoring of vital signs
    [12, 'high', 'continuous'],
  ];
  it.each(table)('total %i (%s) → %s', (total, band, interval) => {
    expect(observationInterval({ total, band })).toBe(interval);
  });

  it('follows the total even if the band disagrees', () => {
    expect(observationInterval({ total: 5, band: 'low' })).toBe(HOUR);
    expect(observationInterval({ total: 8, band: 'medium' })).toBe('continuous');
  });

  it('no score yet → hourly (unknown state: observe soon)', () => {
    expect(observationInterval(null)).toBe(HOUR);
  });

  it('takes a NEWS2 result as it comes', () => {
    const normal = scoreNews2({ rr: 16, spo2: 97, o2: false, sbp: 125, hr: 72, acvpu: 'A', temp: 37.0 });
    expect(observationInterval(normal)).toBe(12 * HOUR);
    const singleThree = scoreNews2({ rr: 16, spo2: 97, o2: false, sbp: 125, hr: 72, acvpu: 'V', temp: 37.0 });
    expect(singleThree.band).toBe('low-medium');
    expect(observationInterval(singleThree)).toBe(HOUR);
  });
});

describe('observationDue', () => {
  it('counts from the last manual set', () => {
    expect(observationDue(T0 + HOUR, T0, { total: 2, band: 'low' })).toEqual({ dueAt: T0 + 5 * HOUR, interval: 4 * HOUR });
  });

  it('counts from admission when there is no manual set yet', () => {
    expect(observationDue(null, T0, { total: 0, band: 'low' })).toEqual({ dueAt: T0 + 12 * HOUR, interval: 12 * HOUR });
    expect(observationDue(null, T0, null)).toEqual({ dueAt: T0 + HOUR, interval: HOUR });
  });

  it('no countdown under continuous monitoring', () => {
    expect(observationDue(T0, T0, { total: 7, band: 'high' })).toEqual({ dueAt: null, interval: 'continuous' });
  });
});

describe('obsDueCondition', () => {
  const hourly = observationDue(T0, T0, { total: 5, band: 'medium' }); // due T0 + 1 h

  it('nothing until the due time has passed', () => {
    expect(obsDueCondition(hourly, T0 + 30 * MIN)).toBeNull();
    expect(obsDueCondition(hourly, T0 + HOUR)).toBeNull();
  });

  it('overdue → a low-priority physiological condition', () => {
    expect(obsDueCondition(hourly, T0 + HOUR + 25 * MIN)).toEqual({
      key: 'obs-due',
      kind: 'obs-due',
      category: 'physiological',
      priority: 'low',
      parameter: null,
      value: 25,
      limit: 60,
      rule: 'observations every 1 h (RCP NEWS2 chart 4)',
      message: 'Observations overdue by 25 min (full set due every 1 h)',
      delayMs: 0,
    });
  });

  it('formats short and long overdue spans', () => {
    expect(obsDueCondition(hourly, T0 + HOUR + 1)!.message).toBe('Observations overdue by < 1 min (full set due every 1 h)');
    const fourHourly = observationDue(T0, T0, { total: 1, band: 'low' });
    expect(obsDueCondition(fourHourly, T0 + 6 * HOUR + 5 * MIN)!.message).toBe('Observations overdue by 2 h 5 min (full set due every 4 h)');
    const twelveHourly = observationDue(T0, T0, { total: 0, band: 'low' });
    expect(obsDueCondition(twelveHourly, T0 + 15 * HOUR)!.message).toBe('Observations overdue by 3 h (full set due every 12 h)');
  });

  it('never under continuous monitoring', () => {
    const continuous = observationDue(T0, T0, { total: 9, band: 'high' });
    expect(obsDueCondition(continuous, T0 + 48 * HOUR)).toBeNull();
  });
});

describe('never relaxed by what is unknown', () => {
  it('a partial score is observed at least hourly, whatever its known total (any missing parameter may score 3)', () => {
    expect(observationInterval({ total: 0, band: 'low', partial: true })).toBe(HOUR);
    expect(observationInterval({ total: 3, band: 'low', partial: true })).toBe(HOUR);
    const deviceOnly = scoreNews2({ rr: 16, spo2: 97, sbp: 125, hr: 72, temp: 37.0 });
    expect(deviceOnly).toMatchObject({ total: 0, partial: true });
    expect(observationInterval(deviceOnly)).toBe(HOUR);
  });

  it('NEWS2 ≥ 7 is continuous only while a device streams; without one, a reminder every 30 min', () => {
    expect(observationInterval({ total: 8, band: 'high' }, true)).toBe('continuous');
    expect(observationInterval({ total: 8, band: 'high' }, false)).toBe(30 * MIN);
    expect(observationDue(T0, T0 - HOUR, { total: 8, band: 'high' }, false)).toEqual({ dueAt: T0 + 30 * MIN, interval: 30 * MIN });
    expect(obsDueCondition(observationDue(T0, T0, { total: 8, band: 'high' }, false), T0 + 31 * MIN)).toMatchObject({ key: 'obs-due', priority: 'low' });
  });
});
