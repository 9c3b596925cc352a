// Pure dashboard logic: grid layout, freshness, alarm ordering, colour contrast.
import { describe, expect, it } from 'vitest';
import { gridFor } from '../../web/src/logic/layout.ts';
import { formatAge, isStale, signalState } from '../../web/src/logic/freshness.ts';
import { highestPriority, sortAlarms, PRIORITY_STYLE } from '../../web/src/logic/alarms.ts';
import { BAND_STYLE, contrastRatio, subScoreColour } from '../../web/src/logic/bands.ts';

describe('gridFor', () => {
  it.each([4, 8, 12, 16, 24, 32, 48, 64])('fits %i beds on 1920×1080 without scrolling, with legible numbers', (n) => {
    const g = gridFor(n, 1904, 1024);
    expect(g.columns * g.rows).toBeGreaterThanOrEqual(n);
    expect(g.rows * g.tileHeight + (g.rows - 1) * 8).toBeLessThanOrEqual(1024 + 0.001);
    expect(g.columns * g.tileWidth + (g.columns - 1) * 8).toBeLessThanOrEqual(1904 + 0.001);
    // the big numbers are 21% of tile height: at 64 beds still > 24 px
    expect(g.tileHeight * 0.21).toBeGreaterThan(24);
    expect(g.tileWidth / g.tileHeight).toBeGreaterThan(1);
  });

  it('uses 8×8 for 64 beds and 2×2 for 4', () => {
    expect(gridFor(64, 1904, 1024)).toMatchObject({ columns: 8, rows: 8 });
    expect(gridFor(4, 1904, 1024)).toMatchObject({ columns: 2, rows: 2 });
  });
});

describe('freshness', () => {
  const now = 1_000_000_000;
  it('greys streamed values after 30 s and manual ones after 12 h', () => {
    const at = (ms: number, source: string) => ({ ts: now - ms, source });
    expect(isStale(at(30_000, 'device'), 'hr', now)).toBe(false);
    expect(isStale(at(30_001, 'device'), 'hr', now)).toBe(true);
    // Intermittent device values (cuff BP, temperature) count for 30 min, as on the server.
    expect(isStale(at(30 * 60_000, 'device'), 'sbp', now)).toBe(false);
    expect(isStale(at(30 * 60_000 + 1, 'device'), 'temp', now)).toBe(true);
    expect(isStale(at(12 * 3600_000, 'manual'), 'temp', now)).toBe(false);
    expect(isStale(at(12 * 3600_000 + 1, 'manual'), 'temp', now)).toBe(true);
    // The patient's monitoring interval narrows the manual window (RCP NEWS2 chart 4).
    expect(isStale(at(3600_000 + 1, 'manual'), 'acvpu', now, undefined, 3600_000)).toBe(true);
    // Age counts from receipt when the device clock runs fast: ts in the future, at = receipt.
    expect(isStale({ ts: now + 60_000, at: now - 31_000, source: 'device' }, 'hr', now)).toBe(true);
  });
  it('formats ages for a tile corner', () => {
    expect([0, 59_999, 60_000, 3599_000, 3600_000, 47 * 3600_000, 48 * 3600_000].map(formatAge)).toEqual(['0s', '59s', '1m', '59m', '1h', '47h', '2d']);
  });
  it('says no signal only when every device is offline', () => {
    expect(signalState([])).toBe('no-device');
    expect(signalState([{ status: 'offline' }, { status: 'online' }])).toBe('live');
    expect(signalState([{ status: 'offline' }, { status: 'unknown' }])).toBe('no-signal');
  });
});

describe('alarm presentation', () => {
  const a = (priority: 'high' | 'medium' | 'low', ts: number, state: 'active' | 'resolved' = 'active') => ({ priority, ts, state });
  it('lets the highest open priority win', () => {
    expect(highestPriority([a('low', 1), a('medium', 2)])).toBe('medium');
    expect(highestPriority([a('high', 1, 'resolved'), a('low', 2)])).toBe('low');
    expect(highestPriority([])).toBeNull();
  });
  it('orders highest priority first, newest first within a priority', () => {
    expect(sortAlarms([a('low', 5), a('high', 1), a('medium', 9), a('high', 3)]).map((x) => `${x.priority}${x.ts}`)).toEqual(['high3', 'high1', 'medium9', 'low5']);
  });
  it('follows IEC 60601-1-8: high flashes ~2 Hz, medium ~0.5 Hz, low steady', () => {
    expect(PRIORITY_STYLE.high.flashHz).toBe(2);
    expect(PRIORITY_STYLE.medium.flashHz).toBe(0.5);
    expect(PRIORITY_STYLE.low.flashHz).toBe(0);
  });
});

describe('colours pass WCAG AA', () => {
  it.each(Object.entries(BAND_STYLE))('NEWS2 band %s badge text', (_band, s) => {
    expect(contrastRatio(s.text, s.background)).toBeGreaterThanOrEqual(4.5);
  });
  it.each(Object.entries(PRIORITY_STYLE))('alarm %s flag text', (_p, s) => {
    expect(contrastRatio(s.text, s.colour)).toBeGreaterThanOrEqual(4.5);
  });
  it('body and muted text on the dark panel', () => {
    expect(contrastRatio('#e6edf7', '#131c2e')).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio('#9fb0c8', '#131c2e')).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio('#7f8ea6', '#131c2e')).toBeGreaterThanOrEqual(4.5);
  });
  it('sub-score colours follow the chart', () => {
    expect(subScoreColour(3)).toBe('#c62828');
    expect(subScoreColour(null)).toBe('#455a64');
  });
});
