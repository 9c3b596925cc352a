// "My vitals" (a patient's own page): the pure series, the freshness of the newest values and the
// score line. (<wp-my-vitals> itself draws Chart.js charts in a shadow root, which happy-dom cannot
// lay out: its rendering is looked at in a real Chromium.)
import { describe, expect, it } from 'vitest';
import { latestOf, scoreText, seriesOf } from '../../web/src/logic/my-vitals.ts';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString();

describe('my vitals logic', () => {
  it('makes a point per bucket for each vital it holds', () => {
    const s = seriesOf([
      { ts: iso(600_000), values: { hr: 70, spo2: 97 } },
      { ts: iso(300_000), values: { hr: 75 } },
    ]);
    expect(s.hr).toEqual([{ x: NOW - 600_000, y: 70 }, { x: NOW - 300_000, y: 75 }]);
    expect(s.spo2).toHaveLength(1);
    expect(s.temp).toEqual([]);
  });

  it('keeps the newest value of each vital and marks it stale past its window', () => {
    const latest = latestOf(
      [
        { ts: iso(10_000), source: 'device', values: { hr: 80 } },
        { ts: iso(120_000), source: 'device', values: { hr: 60, spo2: 95 } },
        { ts: iso(3600_000), source: 'manual', values: { temp: 37.2 } },
      ],
      NOW,
    );
    expect(latest.hr).toMatchObject({ value: 80, stale: false, age: '' });
    // A continuous vital from a device: 30 s (DEFAULT_FRESHNESS.deviceMs).
    expect(latest.spo2).toMatchObject({ value: 95, stale: true, age: '2m ago' });
    // A manual temperature stays current for hours.
    expect(latest.temp).toMatchObject({ value: 37.2, stale: false });
    expect(latest.rr).toBeUndefined();
  });

  it('words the score, partial and stale included', () => {
    expect(scoreText(null)).toBe('No NEWS2 score yet');
    expect(scoreText({ news2: { total: 3, band: 'low-medium', partial: true }, stale: true })).toBe('NEWS2 ≥ 3 · low-medium (not current)');
  });
});
