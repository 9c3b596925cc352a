// The analytics page's pure logic: filters → range and query, and the API's answers (docs/api.md
// "Analytics") → chart series and table rows. (<wp-analytics> draws Chart.js charts in shadow
// roots, which happy-dom cannot lay out: its rendering is looked at in a real Chromium.)
import { describe, expect, it } from 'vitest';
import {
  ackTimes,
  alarmsByPriority,
  analyticsQuery,
  appointmentsByStatus,
  daysOf,
  defaultFilters,
  deviceRows,
  duration,
  isEmpty,
  news2Hours,
  rangeOf,
  revenueByDay,
  revenueTotals,
  type AlarmDay,
  type ClinicAnswer,
} from '../../web/src/logic/analytics.ts';

const NOW = Date.UTC(2026, 11, 6, 21, 30);
const D = (s: string) => Date.parse(`${s}T00:00:00Z`);

const alarmDay = (p: Partial<AlarmDay> & { ward: string; day: string }): AlarmDay => ({
  alarms: 0,
  acknowledged: 0,
  ackMedianSeconds: null,
  ackP90Seconds: null,
  escalations: 0,
  bedDays: 1,
  alarmsPerBedDay: 0,
  byPriority: {},
  byKind: {},
  groups: [],
  ...p,
});

describe('analytics filters', () => {
  it('defaults to the last 7 UTC days, today included, all wards', () => {
    const f = defaultFilters(NOW);
    expect(f).toEqual({ ward: '', from: '2026-11-30', to: '2026-12-06' });
    const r = rangeOf(f);
    expect(r).toEqual({ ok: true, from: D('2026-11-30'), to: D('2026-12-07') });
    if (r.ok) expect(daysOf(r)).toEqual(['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05', '2026-12-06']);
  });

  it('takes a single day (from = to) and refuses an end before the start', () => {
    expect(rangeOf({ ward: '', from: '2026-12-06', to: '2026-12-06' })).toEqual({ ok: true, from: D('2026-12-06'), to: D('2026-12-07') });
    expect(rangeOf({ ward: '', from: '2026-12-06', to: '2026-12-05' })).toEqual({ ok: false, error: 'The end date must not be before the start date.' });
  });

  it('allows 92 days and refuses 93 (the API limit)', () => {
    // 2026-09-06 … 2026-12-06 inclusive is 92 days.
    expect(rangeOf({ ward: '', from: '2026-09-06', to: '2026-12-06' }).ok).toBe(true);
    expect(rangeOf({ ward: '', from: '2026-09-05', to: '2026-12-06' })).toEqual({ ok: false, error: 'The range is at most 92 days.' });
  });

  it('refuses a missing or malformed date', () => {
    expect(rangeOf({ ward: '', from: '', to: '2026-12-06' })).toEqual({ ok: false, error: 'Enter both dates.' });
    expect(rangeOf({ ward: '', from: '2026-12-01', to: 'yesterday' }).ok).toBe(false);
  });

  it('builds the query with ISO instants and the ward, and without the ward for the clinic', () => {
    const f = { ward: 'A & B', from: '2026-12-01', to: '2026-12-02' };
    const r = { from: D('2026-12-01'), to: D('2026-12-03') };
    const q = new URLSearchParams(analyticsQuery(f, r));
    expect(Object.fromEntries(q)).toEqual({ from: '2026-12-01T00:00:00.000Z', to: '2026-12-03T00:00:00.000Z', ward: 'A & B' });
    expect(new URLSearchParams(analyticsQuery(f, r, false)).has('ward')).toBe(false);
    expect(new URLSearchParams(analyticsQuery({ ...f, ward: '' }, r)).has('ward')).toBe(false);
  });
});

describe('analytics series', () => {
  const days = ['2026-12-01', '2026-12-02', '2026-12-03'];

  it('sums alarms per day and priority over the wards, zero on days without any', () => {
    const c = alarmsByPriority(days, {
      days: [
        alarmDay({ ward: 'A', day: '2026-12-01', alarms: 3, byPriority: { high: 2, low: 1 } }),
        alarmDay({ ward: 'B', day: '2026-12-01', alarms: 1, byPriority: { high: 1 } }),
        alarmDay({ ward: 'A', day: '2026-12-03', alarms: 1, byPriority: { medium: 1 } }),
        // Outside the days shown: ignored.
        alarmDay({ ward: 'A', day: '2026-11-30', alarms: 9, byPriority: { high: 9 } }),
      ],
    });
    expect(c.labels).toEqual(['Tue 1 Dec', 'Wed 2 Dec', 'Thu 3 Dec']);
    expect(c.datasets.map((d) => [d.label, d.data])).toEqual([
      ['High', [3, 0, 0]],
      ['Medium', [0, 0, 1]],
      ['Low', [1, 0, 0]],
    ]);
    expect(isEmpty(c)).toBe(false);
    expect(isEmpty(alarmsByPriority(days, { days: [] }))).toBe(true);
  });

  it('draws a median and a p90 line per ward in minutes, with gaps where nothing was acknowledged', () => {
    const c = ackTimes(days, {
      days: [
        alarmDay({ ward: 'B', day: '2026-12-02', alarms: 2, acknowledged: 2, ackMedianSeconds: 90, ackP90Seconds: 150 }),
        alarmDay({ ward: 'A', day: '2026-12-01', alarms: 1, acknowledged: 1, ackMedianSeconds: 30, ackP90Seconds: 30 }),
        alarmDay({ ward: 'A', day: '2026-12-02', alarms: 1, acknowledged: 0 }),
        // A ward that never acknowledged anything has no line.
        alarmDay({ ward: 'C', day: '2026-12-02', alarms: 4, acknowledged: 0 }),
      ],
    });
    expect(c.datasets.map((d) => [d.label, d.data, d.dashed ?? false])).toEqual([
      ['Ward A median', [0.5, null, null], false],
      ['Ward A 90th percentile', [0.5, null, null], true],
      ['Ward B median', [null, 1.5, null], false],
      ['Ward B 90th percentile', [null, 2.5, null], true],
    ]);
    expect(isEmpty(ackTimes(days, { days: [alarmDay({ ward: 'C', day: '2026-12-01', alarms: 1 })] }))).toBe(true);
  });

  it('turns NEWS2 band seconds into patient-hours per band and ward', () => {
    const c = news2Hours({
      holdCapSeconds: 3600,
      bands: [
        { ward: 'A', band: 'low', seconds: 9000, patients: 2 },
        { ward: 'A', band: 'high', seconds: 3600, patients: 1 },
        { ward: 'B', band: 'medium', seconds: 1800, patients: 1 },
      ],
    });
    expect(c.labels).toEqual(['Low (0–4)', 'Low-medium (a single 3)', 'Medium (5–6)', 'High (7+)']);
    expect(c.datasets.map((d) => [d.label, d.data])).toEqual([
      ['Ward A', [2.5, 0, 0, 1]],
      ['Ward B', [0, 0, 0.5, 0]],
    ]);
    expect(isEmpty(news2Hours({ holdCapSeconds: 3600, bands: [] }))).toBe(true);
  });

  it('lists devices least complete first, with readable figures', () => {
    const rows = deviceRows({
      devices: [
        { deviceId: 'bed-2', label: 'bed-2', ward: 'A', windowSeconds: 600, readings: 600, expected: 600, completeness: 1, offlineSeconds: 0 },
        { deviceId: 'x1', label: 'Spare monitor', ward: null, windowSeconds: 0, readings: 0, expected: 0, completeness: null, offlineSeconds: 0 },
        { deviceId: 'dev-9', label: null, ward: 'B', windowSeconds: 60, readings: 30, expected: 60, completeness: 0.5, offlineSeconds: 0 },
        { deviceId: 'bed-1', label: 'bed-1', ward: 'A', windowSeconds: 7200, readings: 1920, expected: 7200, completeness: 0.2667, offlineSeconds: 4980 },
      ],
    });
    expect(rows).toEqual([
      { device: 'bed-1', ward: 'A', completeness: '26.7 %', share: 0.2667, readings: '1,920 of 7,200', offline: '1 h 23 min' },
      { device: 'dev-9', ward: 'B', completeness: '50.0 %', share: 0.5, readings: '30 of 60', offline: '0' },
      { device: 'bed-2', ward: 'A', completeness: '100.0 %', share: 1, readings: '600 of 600', offline: '0' },
      { device: 'Spare monitor (x1)', ward: 'unassigned', completeness: '—', share: null, readings: '0 of 0', offline: '0' },
    ]);
  });

  it('words durations', () => {
    expect([duration(0), duration(45), duration(60), duration(3600), duration(3661)]).toEqual(['0', '45 s', '1 min', '1 h', '1 h 1 min']);
  });

  const clinic: ClinicAnswer = {
    appointments: [
      { doctorId: 'd1', doctor: 'Dr A', day: '2026-12-01', appointments: 5, pending: 1, confirmed: 1, completed: 2, cancelled: 1, noShows: 2 },
      { doctorId: 'd2', doctor: 'Dr B', day: '2026-12-01', appointments: 1, pending: 0, confirmed: 1, completed: 0, cancelled: 0, noShows: 0 },
      { doctorId: 'd1', doctor: 'Dr A', day: '2026-12-03', appointments: 1, pending: 0, confirmed: 0, completed: 1, cancelled: 0, noShows: 0 },
    ],
    revenue: [
      { day: '2026-12-01', method: 'cash', currency: 'EUR', payments: 2, amount: 7500 },
      { day: '2026-12-01', method: 'card', currency: 'EUR', payments: 1, amount: 1250 },
      { day: '2026-12-03', method: 'cash', currency: 'EUR', payments: 1, amount: 99 },
      { day: '2026-12-03', method: 'cash', currency: 'GBP', payments: 1, amount: 123456 },
    ],
  };

  it('stacks appointments by outcome, no-shows apart from those still booked', () => {
    const c = appointmentsByStatus(days, clinic);
    expect(c.datasets.map((d) => [d.label, d.data])).toEqual([
      ['Completed', [2, 0, 1]],
      ['Booked', [1, 0, 0]],
      ['No-show', [2, 0, 0]],
      ['Cancelled', [1, 0, 0]],
    ]);
  });

  it('shows revenue in major units per method, stacked per currency, with totals', () => {
    const c = revenueByDay(days, clinic);
    expect(c.datasets.map((d) => [d.label, d.stack, d.data])).toEqual([
      ['card (EUR)', 'EUR', [12.5, 0, 0]],
      ['cash (EUR)', 'EUR', [75, 0, 0.99]],
      ['cash (GBP)', 'GBP', [0, 0, 1234.56]],
    ]);
    expect(revenueTotals(clinic)).toEqual(['EUR 88.49', 'GBP 1,234.56']);
    expect(isEmpty(revenueByDay(days, { appointments: [], revenue: [] }))).toBe(true);
  });
});

describe('analytics route', () => {
  it('is /analytics, for the roles with analytics:read only', async () => {
    const { parseRoute, canSeeAnalytics } = await import('../../web/src/components/wp-app.ts');
    expect(parseRoute('/analytics')).toEqual({ name: 'analytics' });
    expect(parseRoute('/analytics/')).toEqual({ name: 'analytics' });
    expect(['admin', 'doctor', 'nurse', 'front-desk', 'patient', 'kiosk', undefined].filter(canSeeAnalytics)).toEqual(['admin', 'doctor']);
  });
});
