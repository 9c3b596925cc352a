// The patient panel's pure helpers: range → history query, history rows → chart points, live
// appends (raw and folded into aggregate buckets), trimming to the window, alarm-limit bands,
// the observation body and the NEWS2 breakdown.
import { describe, expect, it } from 'vitest';
import { RANGES, RANGE_KEYS, alignedTicks, bucketStart, rangeWindow, scoresPath, vitalsParams, vitalsPath, alertsPath } from '../../web/src/logic/panel-range.ts';
import {
  appendAll,
  appendLive,
  emptySeries,
  isIsolated,
  seriesFromBuckets,
  seriesFromRaw,
  seriesFromScores,
  trimBefore,
  type XY,
} from '../../web/src/logic/panel-series.ts';
import { LIMIT_LINE, limitDatasets, suggestedY } from '../../web/src/logic/panel-limits.ts';
import { observationBody, type ObservationDraft } from '../../web/src/logic/panel-observation.ts';
import { BREAKDOWN_ORDER, breakdownRows, readableText, textOn } from '../../web/src/logic/panel-breakdown.ts';
import { formatClock, formatSpan } from '../../web/src/logic/panel-format.ts';
import { contrastRatio, subScoreColour } from '../../web/src/logic/bands.ts';
import { PLAUSIBLE } from '../../server/domain/vitals.ts';
import { NEWS2_PARAMETERS } from '../../server/domain/news2.ts';

const NOW = Date.UTC(2025, 5, 10, 12, 0, 0);

describe('ranges and queries', () => {
  it('offers 5 min, 1 h, 24 h and 7 d', () => {
    expect(RANGE_KEYS).toEqual(['5m', '1h', '24h', '7d']);
    expect(RANGE_KEYS.map((k) => RANGES[k].ms)).toEqual([300_000, 3_600_000, 86_400_000, 604_800_000]);
  });

  it('window ends now and spans the range', () => {
    expect(rangeWindow('1h', NOW)).toEqual({ from: NOW - 3_600_000, to: NOW });
  });

  it.each([
    ['5m', null],
    ['1h', null],
    ['24h', '1m'],
    ['7d', '15m'],
  ] as const)('%s asks for %s buckets', (range, bucket) => {
    const q = vitalsParams(range, NOW);
    expect(q.get('from')).toBe(String(NOW - RANGES[range].ms));
    expect(q.get('to')).toBe(String(NOW));
    expect(q.get('bucket')).toBe(bucket);
    // Raw ranges ask for enough rows for 1 Hz over the whole range.
    if (!bucket) expect(Number(q.get('limit'))).toBeGreaterThanOrEqual(RANGES[range].ms / 1000);
  });

  it('builds the REST paths', () => {
    const id = '0b7d8a8e-4a5c-4c8e-9d5e-1f2a3b4c5d6e';
    expect(vitalsPath(id, '24h', NOW)).toBe(`/api/patients/${id}/vitals?from=${NOW - 86_400_000}&to=${NOW}&bucket=1m`);
    expect(vitalsPath(id, '5m', NOW)).toBe(`/api/patients/${id}/vitals?from=${NOW - 300_000}&to=${NOW}&limit=10000`);
    expect(scoresPath(id, '7d', NOW)).toBe(`/api/patients/${id}/scores?from=${NOW - 604_800_000}&to=${NOW}`);
    expect(alertsPath(id)).toBe(`/api/alerts?patientId=${id}&order=recent&limit=20`);
  });

  it('floors fractional times to whole milliseconds', () => {
    const q = vitalsParams('5m', NOW + 0.6);
    expect(q.get('from')).toMatch(/^\d+$/);
    expect(q.get('to')).toMatch(/^\d+$/);
  });

  it('bucket starts line up with the server (date_bin from 2000-01-03T00:00Z)', () => {
    const origin = Date.UTC(2000, 0, 3);
    for (const ms of [60_000, 900_000]) {
      expect(origin % ms).toBe(0);
      expect(bucketStart(NOW + 59_999, ms)).toBe(NOW);
      expect(bucketStart(NOW + ms, ms)).toBe(NOW + ms);
    }
  });
});

describe('time-axis ticks', () => {
  const utc = () => 0;

  it('fall on round times inside the window', () => {
    expect(alignedTicks(NOW - 300_000 + 1000, NOW + 1000, 60_000, utc)).toEqual([1, 2, 3, 4, 5].map((i) => NOW - 300_000 + i * 60_000));
    expect(alignedTicks(NOW, NOW, 60_000, utc)).toEqual([NOW]);
  });

  it('align hours and days on local time', () => {
    // UTC+2 (getTimezoneOffset -120): local midnight is 22:00 UTC the day before.
    const ticks = alignedTicks(Date.UTC(2025, 5, 3, 12), Date.UTC(2025, 5, 6, 12), 86_400_000, () => -120);
    expect(ticks).toEqual([Date.UTC(2025, 5, 3, 22), Date.UTC(2025, 5, 4, 22), Date.UTC(2025, 5, 5, 22)]);
    const three = alignedTicks(Date.UTC(2025, 5, 3, 0, 30), Date.UTC(2025, 5, 3, 7), 3 * 3600_000, () => -60);
    expect(three).toEqual([Date.UTC(2025, 5, 3, 2), Date.UTC(2025, 5, 3, 5)]);
  });

  it('follows a daylight-saving change for day ticks', () => {
    const change = Date.UTC(2025, 2, 30, 1);
    const offset = (t: number) => (t < change ? -60 : -120);
    expect(alignedTicks(Date.UTC(2025, 2, 29, 12), Date.UTC(2025, 2, 31, 12), 86_400_000, offset)).toEqual([Date.UTC(2025, 2, 29, 23), Date.UTC(2025, 2, 30, 22)]);
  });

  it('nothing for an empty or reversed window', () => {
    expect(alignedTicks(10, 5, 1, utc)).toEqual([]);
    expect(alignedTicks(0, 10, 0, utc)).toEqual([]);
  });
});

describe('history → points', () => {
  it('splits raw rows per vital, as {x: ms, y}, marking manual observations', () => {
    const s = seriesFromRaw([
      { ts: new Date(NOW).toISOString(), values: { hr: 70, spo2: 97, o2: false } },
      { ts: new Date(NOW + 1000).toISOString(), values: { hr: 72 } },
      { ts: new Date(NOW + 2000).toISOString(), source: 'manual', values: { temp: 37.2, acvpu: 'A' } },
    ]);
    expect(s.hr.points).toEqual([
      { x: NOW, y: 70 },
      { x: NOW + 1000, y: 72 },
    ]);
    expect(s.spo2.points).toEqual([{ x: NOW, y: 97 }]);
    expect(s.temp.points).toEqual([{ x: NOW + 2000, y: 37.2, m: true }]);
    expect(s.rr.points).toEqual([]);
    expect(s.hr.lastTs).toBe(NOW + 1000);
    expect(s.rr.lastTs).toBe(-Infinity);
  });

  it('skips bad timestamps, non-numbers and same-millisecond duplicates', () => {
    const s = seriesFromRaw([
      { ts: 'nope', values: { hr: 1 } },
      { ts: new Date(NOW).toISOString(), values: { hr: 70, rr: '12' } },
      { ts: new Date(NOW).toISOString(), values: { hr: 99 } },
    ]);
    expect(s.hr.points).toEqual([{ x: NOW, y: 70 }]);
    expect(s.rr.points).toEqual([]);
  });

  it('aggregates keep the bucket counts; live readings count from the fetch time', () => {
    const s = seriesFromBuckets(
      [
        { ts: new Date(NOW).toISOString(), count: 60, values: { hr: 71.5 } },
        { ts: new Date(NOW + 60_000).toISOString(), count: 0, values: { hr: 80, spo2: null } },
      ],
      NOW + 90_000,
    );
    expect(s.hr.points).toEqual([
      { x: NOW, y: 71.5, n: 60 },
      { x: NOW + 60_000, y: 80, n: 1 },
    ]);
    expect(s.spo2.points).toEqual([]);
    expect(s.hr.lastTs).toBe(NOW + 90_000);
  });

  it('score rows become one point per change', () => {
    const s = seriesFromScores([
      { ts: NOW, news2: { total: 1 } },
      { ts: NOW + 5000, news2: { total: 3 } },
    ]);
    expect(s.points).toEqual([
      { x: NOW, y: 1 },
      { x: NOW + 5000, y: 3 },
    ]);
  });
});

describe('live appends', () => {
  it('adds only readings newer than the last point', () => {
    const s = emptySeries();
    expect(appendLive(s, NOW, 70, null)).toBe(true);
    expect(appendLive(s, NOW, 71, null)).toBe(false);
    expect(appendLive(s, NOW - 1000, 69, null)).toBe(false);
    expect(appendLive(s, NOW + 1000, 72, null, true)).toBe(true);
    expect(appendLive(s, NOW + 2000, Number.NaN, null)).toBe(false);
    expect(s.points).toEqual([
      { x: NOW, y: 70 },
      { x: NOW + 1000, y: 72, m: true },
    ]);
  });

  it('folds readings into the open bucket as a running mean, then opens the next one', () => {
    const s = seriesFromBuckets([{ ts: new Date(NOW).toISOString(), count: 2, values: { hr: 70 } }], NOW + 10_000).hr;
    expect(appendLive(s, NOW + 5_000, 99, 60_000)).toBe(false); // already in the fetched bucket
    expect(appendLive(s, NOW + 20_000, 76, 60_000)).toBe(true);
    expect(s.points).toEqual([{ x: NOW, y: 72, n: 3 }]);
    expect(appendLive(s, NOW + 61_000, 80, 60_000)).toBe(true);
    expect(s.points[1]).toEqual({ x: NOW + 60_000, y: 80, n: 1 });
    expect(s.lastTs).toBe(NOW + 61_000);
  });

  it('appendAll takes the new tail of the store buffer only', () => {
    const s = seriesFromRaw([{ ts: new Date(NOW + 2000).toISOString(), values: { hr: 72 } }]).hr;
    const recent = [0, 1000, 2000, 3000, 4000].map((d, i) => ({ ts: NOW + d, v: 70 + i }));
    expect(appendAll(s, recent, null)).toBe(2);
    expect(s.points.map((p) => p.x)).toEqual([NOW + 2000, NOW + 3000, NOW + 4000]);
    expect(appendAll(s, recent, null)).toBe(0);
    expect(appendAll(emptySeries(), [], null)).toBe(0);
  });

  it('keeps the same array (Chart.js holds a reference to it)', () => {
    const s = emptySeries();
    const ref = s.points;
    appendLive(s, NOW, 1, null);
    trimBefore(s.points, NOW + 1);
    expect(s.points).toBe(ref);
  });
});

describe('trimming to the window', () => {
  const pts = (): XY[] => [0, 1, 2, 3, 4].map((i) => ({ x: NOW + i * 1000, y: i }));

  it('keeps the newest point before the window so the line enters from the edge', () => {
    const p = pts();
    expect(trimBefore(p, NOW + 2500)).toBe(2);
    expect(p.map((q) => q.y)).toEqual([2, 3, 4]);
  });

  it('can drop everything before the cutoff', () => {
    const p = pts();
    expect(trimBefore(p, NOW + 2500, false)).toBe(3);
    expect(p.map((q) => q.y)).toEqual([3, 4]);
  });

  it('empty, nothing old, and everything old', () => {
    expect(trimBefore([], NOW)).toBe(0);
    const p = pts();
    expect(trimBefore(p, NOW - 1)).toBe(0);
    expect(p).toHaveLength(5);
    expect(trimBefore(p, NOW + 10_000)).toBe(4);
    expect(p).toEqual([{ x: NOW + 4000, y: 4 }]);
  });

  it('isolated points (no neighbour within the gap) are the ones drawn as dots', () => {
    const p: XY[] = [{ x: 0, y: 1 }, { x: 1000, y: 1 }, { x: 100_000, y: 1 }];
    expect([0, 1, 2].map((i) => isIsolated(p, i, 30_000))).toEqual([false, false, true]);
    expect(isIsolated(p, 5, 30_000)).toBe(false);
  });
});

describe('alarm limit bands', () => {
  it('draws a line at each limit, shading beyond it to the chart edge', () => {
    const ds = limitDatasets([{ bound: { low: 50, high: 120 }, name: 'HR' }], NOW - 1000, NOW);
    expect(ds.map((d) => [d.label, d.fill, d.limit])).toEqual([
      ['HR low limit 50', 'start', 'low'],
      ['HR high limit 120', 'end', 'high'],
    ]);
    expect(ds[0]!.data).toEqual([
      { x: NOW - 1000, y: 50 },
      { x: NOW, y: 50 },
    ]);
    expect(ds[0]!.borderColor).toBe(LIMIT_LINE);
    expect(ds[0]!.pointRadius).toBe(0);
  });

  it('one-sided and missing limits', () => {
    expect(limitDatasets([{ bound: { low: 90 }, name: 'SpO2' }], 0, 1)).toHaveLength(1);
    expect(limitDatasets([{ bound: undefined, name: 'x' }, { bound: {}, name: 'y' }], 0, 1)).toEqual([]);
  });

  it('BP shades only its outer zones', () => {
    const ds = limitDatasets(
      [
        { bound: { low: 90, high: 180 }, name: 'SBP', shade: { low: false, high: true } },
        { bound: { low: 40, high: 110 }, name: 'DBP', shade: { low: true, high: false } },
      ],
      0,
      1,
    );
    expect(ds.map((d) => `${d.label}:${d.fill}`)).toEqual(['SBP low limit 90:false', 'SBP high limit 180:end', 'DBP low limit 40:start', 'DBP high limit 110:false']);
  });

  it('the y axis leaves room for the limits', () => {
    expect(suggestedY('hr', [{ low: 50, high: 120 }])).toEqual({ suggestedMin: 40, suggestedMax: 140 });
    const wide = suggestedY('hr', [{ low: 30, high: 180 }]);
    expect(wide.suggestedMin).toBeLessThan(30);
    expect(wide.suggestedMax).toBeGreaterThan(180);
    expect(suggestedY('spo2', [{ low: 90, high: 99.5 }]).suggestedMax).toBe(100);
    expect(suggestedY('rr', [{ low: 0.5 }]).suggestedMin).toBe(0);
  });
});

describe('manual observation body', () => {
  const draft = (d: Partial<ObservationDraft>): ObservationDraft => ({ numbers: {}, acvpu: '', o2: null, ...d });

  it('refuses what the server would refuse as implausible, at the server’s bounds', () => {
    expect(observationBody(draft({ numbers: { hr: String(PLAUSIBLE.hr.max) } })).ok).toBe(true);
    expect(observationBody(draft({ numbers: { hr: String(PLAUSIBLE.hr.max + 1) } })).ok).toBe(false);
    expect(observationBody(draft({ numbers: { temp: String(PLAUSIBLE.temp.min - 0.1) } })).ok).toBe(false);
  });

  it('sends only what was filled in', () => {
    expect(observationBody(draft({ numbers: { hr: '72', spo2: '', temp: ' 37.4 ' }, acvpu: 'V', o2: true }))).toEqual({
      ok: true,
      body: { hr: 72, temp: 37.4, acvpu: 'V', o2: true },
    });
    expect(observationBody(draft({ o2: false }))).toEqual({ ok: true, body: { o2: false } });
    expect(observationBody(draft({ numbers: { temp: '37,5' } }))).toEqual({ ok: true, body: { temp: 37.5 } });
  });

  it('refuses an empty observation', () => {
    expect(observationBody(draft({}))).toEqual({ ok: false, errors: ['Enter at least one value'] });
  });

  it.each([
    [{ numbers: { hr: '351' } }, 'Heart rate: must be between 0 and 350 /min'],
    [{ numbers: { temp: '19.9' } }, 'Temperature: must be between 20 and 45 °C'],
    [{ numbers: { spo2: 'abc' } }, 'SpO₂: not a number'],
    [{ acvpu: 'X' }, 'Consciousness: must be one of A, C, V, P, U'],
    [{ numbers: { sbp: '80', dbp: '90' } }, 'Diastolic BP must be below systolic BP'],
  ] as const)('%j → %s', (d, error) => {
    const r = observationBody(draft(d as Partial<ObservationDraft>));
    expect(r).toEqual({ ok: false, errors: [error] });
  });

  it('accepts the range ends', () => {
    const r = observationBody(draft({ numbers: { hr: '0', spo2: '100', rr: '120', temp: '45', sbp: '300', dbp: '10' } }));
    expect(r.ok).toBe(true);
  });
});

describe('NEWS2 breakdown', () => {
  it('lists the RCP parameters in chart order', () => {
    expect([...BREAKDOWN_ORDER].sort()).toEqual([...NEWS2_PARAMETERS].sort());
    expect(BREAKDOWN_ORDER).toEqual(['rr', 'spo2', 'o2', 'sbp', 'hr', 'acvpu', 'temp']);
  });

  it('shows values, sub-scores and their colours; missing as —', () => {
    const rows = breakdownRows(
      { rr: 3, spo2: 0, o2: 2, sbp: null, hr: 1, acvpu: 0, temp: 1 },
      { rr: 26, spo2: 96, o2: true, hr: 95, acvpu: 'A', temp: 38.24 },
    );
    const byKey = Object.fromEntries(rows.map((r) => [r.parameter, r]));
    expect(byKey.rr).toMatchObject({ value: '26 /min', score: '3', missing: false, background: subScoreColour(3) });
    expect(byKey.o2).toMatchObject({ value: 'Oxygen', score: '2' });
    expect(byKey.sbp).toMatchObject({ value: '—', score: '—', missing: true, background: subScoreColour(null) });
    expect(byKey.temp!.value).toBe('38.2 °C');
    expect(byKey.acvpu!.value).toBe('A');
  });

  it('no score yet: every row missing', () => {
    expect(breakdownRows(null).every((r) => r.missing && r.score === '—' && r.value === '—')).toBe(true);
  });

  it('text colour: the candidate with the most contrast', () => {
    expect(textOn('#e53935', ['#ffffff', '#000000'])).toBe('#000000');
    expect(textOn('#c62828')).toBe('#ffffff');
    expect(contrastRatio(textOn('#e53935', ['#ffffff', '#000000']), '#e53935')).toBeGreaterThanOrEqual(4.5);
  });

  it('keeps a preferred text colour that passes AA, replaces one that does not', () => {
    expect(readableText('#d32f2f', '#ffffff')).toBe('#ffffff');
    expect(readableText('#fdd835', '#111111')).toBe('#111111');
    expect(readableText('#e53935', '#ffffff')).toBe('#000000');
  });

  it('sub-score text meets WCAG AA on its colour', () => {
    for (const s of [null, 0, 1, 2, 3]) {
      const bg = subScoreColour(s);
      expect(contrastRatio(textOn(bg), bg)).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe('times', () => {
  it('clock time today, date otherwise', () => {
    const now = new Date(2025, 5, 10, 15, 0, 0).getTime();
    expect(formatClock(new Date(2025, 5, 10, 9, 5, 7).getTime(), now)).toBe('09:05:07');
    expect(formatClock(new Date(2025, 5, 8, 23, 59, 0).getTime(), now)).toBe('8 Jun 23:59');
  });

  it('durations', () => {
    expect(formatSpan(0, 45_000, 0)).toBe('45s');
    expect(formatSpan(0, null, 12 * 60_000)).toBe('12m');
    expect(formatSpan(0, 3 * 3600_000 + 5 * 60_000, 0)).toBe('3h 5m');
    expect(formatSpan(0, 3 * 86_400_000, 0)).toBe('3d');
  });
});
