// The /analytics page (issue 15): the filters → the API's query, and the API's answers
// (GET /api/analytics/alarms|news2|devices|clinic, docs/api.md "Analytics") → chart series and
// table rows. Days are UTC days, as the API counts them. Pure.
import type { AlarmDay, ClinicDay, DeviceStats, News2Band, News2BandTime, RevenueDay } from '../../../server/domain/index.ts';

/** The API refuses a longer range (server/http/analytics.routes.ts MAX_RANGE_DAYS). */
export const MAX_RANGE_DAYS = 92;
const DAY = 86_400_000;

/** What the page's inputs hold: `from` and `to` are `YYYY-MM-DD` (UTC days, both included); '' ward = all wards. */
export interface AnalyticsFilters {
  ward: string;
  from: string;
  to: string;
}

// The answers' shapes: server/domain/analytics.ts (shared with the server).
export type { AlarmDay, DeviceStats } from '../../../server/domain/index.ts';
export interface AlarmsAnswer {
  days: AlarmDay[];
}
export interface News2Answer {
  holdCapSeconds: number;
  bands: News2BandTime[];
}
export interface DevicesAnswer {
  devices: DeviceStats[];
}
export interface ClinicAnswer {
  appointments: ClinicDay[];
  revenue: RevenueDay[];
}

/** A category chart: one label per bar group, datasets aligned with the labels. */
export interface StatChart {
  labels: string[];
  datasets: { label: string; colour: string; data: (number | null)[]; dashed?: boolean; stack?: string }[];
}

const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayStart = (s: string) => (/^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : NaN);

/** The last 7 UTC days, today included, all wards. */
export function defaultFilters(now: number): AnalyticsFilters {
  return { ward: '', from: ymd(now - 6 * DAY), to: ymd(now) };
}

export type Range = { ok: true; from: number; to: number } | { ok: false; error: string };

/** The filters' range as the API takes it: `from` at its UTC midnight, `to` the midnight after its day. */
export function rangeOf(f: AnalyticsFilters): Range {
  const from = dayStart(f.from);
  const toDay = dayStart(f.to);
  if (Number.isNaN(from) || Number.isNaN(toDay)) return { ok: false, error: 'Enter both dates.' };
  const to = toDay + DAY;
  if (toDay < from) return { ok: false, error: 'The end date must not be before the start date.' };
  if (to - from > MAX_RANGE_DAYS * DAY) return { ok: false, error: `The range is at most ${MAX_RANGE_DAYS} days.` };
  return { ok: true, from, to };
}

/** The query string of an analytics call; the clinic has no ward. */
export function analyticsQuery(f: AnalyticsFilters, r: { from: number; to: number }, withWard = true): string {
  const q = new URLSearchParams({ from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() });
  if (withWard && f.ward) q.set('ward', f.ward);
  return q.toString();
}

/** Every UTC day of the range, `YYYY-MM-DD`: the x axis of the per-day charts. */
export function daysOf(r: { from: number; to: number }): string[] {
  const out: string[] = [];
  for (let t = r.from; t < r.to; t += DAY) out.push(ymd(t));
  return out;
}

/** A day label for an axis: "Mon 7 Dec" (UTC). */
export function dayLabel(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  return d.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });
}

export const PRIORITIES = [
  { key: 'high', label: 'High', colour: '#ef5350' },
  { key: 'medium', label: 'Medium', colour: '#ffb74d' },
  { key: 'low', label: 'Low', colour: '#4fc3f7' },
] as const;

/** Alarms per day by priority, summed over the wards (stacked bars). */
export function alarmsByPriority(days: readonly string[], a: AlarmsAnswer): StatChart {
  const index = new Map(days.map((d, i) => [d, i]));
  const datasets = PRIORITIES.map((p) => ({ label: p.label, colour: p.colour, data: days.map(() => 0) as (number | null)[] }));
  for (const d of a.days) {
    const i = index.get(d.day);
    if (i === undefined) continue;
    PRIORITIES.forEach((p, k) => (datasets[k]!.data[i]! += d.byPriority[p.key] ?? 0));
  }
  return { labels: days.map(dayLabel), datasets };
}

const WARD_COLOURS = ['#69f0ae', '#7cc4ff', '#ffd54f', '#f48fb1', '#ce93d8', '#ffab91'];

/**
 * Time to acknowledge per day, in minutes: a median and a 90th-percentile line per ward (percentiles
 * of different wards cannot be merged). A day without an acknowledged alarm is a gap (null).
 */
export function ackTimes(days: readonly string[], a: AlarmsAnswer): StatChart {
  const index = new Map(days.map((d, i) => [d, i]));
  const wards = [...new Set(a.days.filter((d) => d.acknowledged > 0).map((d) => d.ward ?? 'no ward'))].sort();
  const datasets: StatChart['datasets'] = [];
  wards.forEach((w, k) => {
    const colour = WARD_COLOURS[k % WARD_COLOURS.length]!;
    const median = { label: `Ward ${w} median`, colour, data: days.map(() => null) as (number | null)[] };
    const p90 = { label: `Ward ${w} 90th percentile`, colour, data: days.map(() => null) as (number | null)[], dashed: true };
    for (const d of a.days) {
      const i = index.get(d.day);
      if ((d.ward ?? 'no ward') !== w || i === undefined) continue;
      median.data[i] = d.ackMedianSeconds === null ? null : round(d.ackMedianSeconds / 60, 2);
      p90.data[i] = d.ackP90Seconds === null ? null : round(d.ackP90Seconds / 60, 2);
    }
    datasets.push(median, p90);
  });
  return { labels: days.map(dayLabel), datasets };
}

export const BANDS: readonly { key: News2Band; label: string; colour: string }[] = [
  { key: 'low', label: 'Low (0–4)', colour: '#66bb6a' },
  { key: 'low-medium', label: 'Low-medium (a single 3)', colour: '#ffd54f' },
  { key: 'medium', label: 'Medium (5–6)', colour: '#ffb74d' },
  { key: 'high', label: 'High (7+)', colour: '#ef5350' },
];

/** Patient-hours in each NEWS2 band: the bands on the axis, a dataset per ward (stacked). */
export function news2Hours(a: News2Answer): StatChart {
  const wards = [...new Set(a.bands.map((b) => b.ward ?? 'no ward'))].sort();
  const datasets = wards.map((w, k) => ({
    label: `Ward ${w}`,
    colour: WARD_COLOURS[k % WARD_COLOURS.length]!,
    data: BANDS.map((band) => {
      const row = a.bands.find((b) => (b.ward ?? 'no ward') === w && b.band === band.key);
      return row ? round(row.seconds / 3600, 1) : 0;
    }) as (number | null)[],
  }));
  return { labels: BANDS.map((b) => b.label), datasets };
}

export interface DeviceRow {
  device: string;
  ward: string;
  completeness: string;
  /** 0–1 for a bar in the cell; null when nothing was expected. */
  share: number | null;
  readings: string;
  offline: string;
}

/** The device table: least complete first (those needing attention on top). */
export function deviceRows(a: DevicesAnswer): DeviceRow[] {
  return [...a.devices]
    .sort((x, y) => (x.completeness ?? Infinity) - (y.completeness ?? Infinity) || (x.label ?? x.deviceId).localeCompare(y.label ?? y.deviceId))
    .map((d) => ({
      device: d.label === null || d.label === d.deviceId ? d.deviceId : `${d.label} (${d.deviceId})`,
      ward: d.ward ?? 'unassigned',
      completeness: d.completeness === null ? '—' : `${(d.completeness * 100).toFixed(1)} %`,
      share: d.completeness === null ? null : Math.min(1, d.completeness),
      readings: `${d.readings.toLocaleString('en-GB')} of ${d.expected.toLocaleString('en-GB')}`,
      offline: duration(d.offlineSeconds),
    }));
}

/** "2 h 5 min", "45 s", "0". */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s === 0) return '0';
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h${m ? ` ${m} min` : ''}` : `${m} min`;
}

const STATUSES = [
  { key: 'completed', label: 'Completed', colour: '#66bb6a' },
  { key: 'upcoming', label: 'Booked', colour: '#7cc4ff' },
  { key: 'noShows', label: 'No-show', colour: '#ffb74d' },
  { key: 'cancelled', label: 'Cancelled', colour: '#9fb0c8' },
] as const;

/** Appointments per day by outcome, over all doctors (stacked); "Booked" excludes the no-shows. */
export function appointmentsByStatus(days: readonly string[], a: ClinicAnswer): StatChart {
  const index = new Map(days.map((d, i) => [d, i]));
  const datasets = STATUSES.map((s) => ({ label: s.label, colour: s.colour, data: days.map(() => 0) as (number | null)[] }));
  for (const r of a.appointments) {
    const i = index.get(r.day);
    if (i === undefined) continue;
    const v = { completed: r.completed, upcoming: r.pending + r.confirmed - r.noShows, noShows: r.noShows, cancelled: r.cancelled };
    STATUSES.forEach((s, k) => (datasets[k]!.data[i]! += v[s.key]));
  }
  return { labels: days.map(dayLabel), datasets };
}

const METHOD_COLOURS = ['#69f0ae', '#7cc4ff', '#ffd54f', '#f48fb1', '#ce93d8'];

/** Revenue per day in major units, a dataset per method and currency (stacked only within a currency). */
export function revenueByDay(days: readonly string[], a: ClinicAnswer): StatChart {
  const index = new Map(days.map((d, i) => [d, i]));
  const keys = [...new Set(a.revenue.map((r) => `${r.method} (${r.currency})`))].sort();
  const datasets = keys.map((k, n) => ({
    label: k,
    colour: METHOD_COLOURS[n % METHOD_COLOURS.length]!,
    data: days.map(() => 0) as (number | null)[],
    stack: /\((\w+)\)$/.exec(k)![1]!,
  }));
  for (const r of a.revenue) {
    const i = index.get(r.day);
    const k = keys.indexOf(`${r.method} (${r.currency})`);
    if (i === undefined) continue;
    datasets[k]!.data[i] = round(datasets[k]!.data[i]! + r.amount / 100, 2);
  }
  return { labels: days.map(dayLabel), datasets };
}

/** Revenue totals per currency, for the heading: "EUR 1,234.50". */
export function revenueTotals(a: ClinicAnswer): string[] {
  const sum = new Map<string, number>();
  for (const r of a.revenue) sum.set(r.currency, (sum.get(r.currency) ?? 0) + r.amount);
  return [...sum].sort(([x], [y]) => x.localeCompare(y)).map(([c, v]) => `${c} ${(v / 100).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);
}

/** True when no dataset has a non-zero value: the chart shows "No data in this range" instead. */
export function isEmpty(c: StatChart): boolean {
  return !c.datasets.some((d) => d.data.some((v) => v !== null && v !== 0));
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
