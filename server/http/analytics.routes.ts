// Ward statistics (issue 15, Analytics): alarms and NEWS2 bands per ward, computed in SQL
// (db/analytics.ts). JSON by default, CSV with `Accept: text/csv`. Aggregates only: no patient ids,
// audited as a list read.
import type { Response } from 'express';
import { z } from 'zod';
import type { AppContext } from './context.ts';
import { defineRoute, type Route } from './route.ts';
import { instant, uuid } from './validate.ts';
import { alarmAnalytics, clinicAnalytics, deviceAnalytics, news2Analytics, NEWS2_HOLD_CAP_SECONDS, type AnalyticsRange } from '../../db/analytics.ts';

export const MAX_RANGE_DAYS = 92;

/** from < to, at most MAX_RANGE_DAYS apart: named on `to`. */
const checkRange = (q: { from: Date; to: Date }, ctx: z.RefinementCtx) => {
  if (q.to.getTime() <= q.from.getTime()) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  else if (q.to.getTime() - q.from.getTime() > MAX_RANGE_DAYS * 86_400_000) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${MAX_RANGE_DAYS} days after from` });
  }
};
const rangeQuery = z.strictObject({ from: instant, to: instant, ward: z.string().min(1).max(64).optional() }).superRefine(checkRange);
const devicesQuery = z
  .strictObject({
    from: instant,
    to: instant,
    ward: z.string().min(1).max(64).optional(),
    // The device's reporting interval (the simulator's default rate is 1/s) and the silence that
    // counts as offline (the server's DEVICE_SILENCE_S default).
    intervalSeconds: z.coerce.number().positive().max(86_400).default(1),
    silenceSeconds: z.coerce.number().int().min(1).max(86_400).default(30),
  })
  .superRefine(checkRange);
const clinicQuery = z.strictObject({ from: instant, to: instant, doctorId: uuid.optional() }).superRefine(checkRange);

const wantsCsv = (res: Response) => res.req.accepts(['application/json', 'text/csv']) === 'text/csv';

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
const csvField = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
function sendCsv(res: Response, header: string[], rows: unknown[][]): undefined {
  res.type('text/csv; charset=utf-8');
  res.send([header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n');
  return undefined;
}

export const ALARM_CSV_HEADER = ['ward', 'day', 'priority', 'kind', 'alarms', 'acknowledged', 'ack_median_s', 'ack_p90_s', 'escalations', 'bed_days', 'alarms_per_bed_day'];
export const NEWS2_CSV_HEADER = ['ward', 'band', 'seconds', 'patients'];
export const DEVICES_CSV_HEADER = ['device_id', 'label', 'ward', 'window_s', 'readings', 'expected', 'completeness', 'offline_s'];
export const CLINIC_CSV_HEADER = ['row', 'day', 'doctor_id', 'doctor', 'appointments', 'pending', 'confirmed', 'completed', 'cancelled', 'no_shows', 'method', 'currency', 'payments', 'amount'];

export function analyticsRoutes(ctx: AppContext): Route[] {
  const range = (q: AnalyticsRange) => ({ from: q.from.toISOString(), to: q.to.toISOString(), ward: q.ward ?? null });
  return [
    defineRoute({
      method: 'get',
      path: '/api/analytics/alarms',
      tag: 'analytics',
      summary:
        `Alarms per ward and UTC day: by priority and kind, per bed-day (distinct patients with a reading that day), ` +
        `median and 90th percentile seconds to first acknowledgement, escalations. from < to, at most ${MAX_RANGE_DAYS} days. ` +
        'Accept: text/csv for one row per ward/day/priority/kind plus a day total (priority and kind "*")',
      permission: 'analytics:read',
      query: rangeQuery,
      async handler({ query, res, audit }) {
        const days = await alarmAnalytics(ctx.db.driver, ctx.db.caps, query);
        audit('list', 'analytics-alarms', null, null, { ...range(query), count: days.length });
        if (!wantsCsv(res)) return { ...range(query), days };
        const rows: unknown[][] = [];
        for (const d of days) {
          const tail = (g: { alarms: number; acknowledged: number; ackMedianSeconds: number | null; ackP90Seconds: number | null; escalations: number }) =>
            [g.alarms, g.acknowledged, g.ackMedianSeconds, g.ackP90Seconds, g.escalations, d.bedDays];
          for (const g of d.groups) rows.push([d.ward, d.day, g.priority, g.kind, ...tail(g), d.bedDays ? Math.round((g.alarms / d.bedDays) * 1000) / 1000 : null]);
          rows.push([d.ward, d.day, '*', '*', ...tail(d), d.alarmsPerBedDay]);
        }
        return sendCsv(res, ALARM_CSV_HEADER, rows);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/analytics/news2',
      tag: 'analytics',
      summary:
        `Patient-seconds spent in each NEWS2 band per ward: a score's band holds until the patient's next score, ` +
        `at most ${NEWS2_HOLD_CAP_SECONDS} s, clipped to the range. from < to, at most ${MAX_RANGE_DAYS} days. Accept: text/csv`,
      permission: 'analytics:read',
      query: rangeQuery,
      async handler({ query, res, audit }) {
        const bands = await news2Analytics(ctx.db.driver, query);
        audit('list', 'analytics-news2', null, null, { ...range(query), count: bands.length });
        if (!wantsCsv(res)) return { ...range(query), holdCapSeconds: NEWS2_HOLD_CAP_SECONDS, bands };
        return sendCsv(res, NEWS2_CSV_HEADER, bands.map((b) => [b.ward, b.band, b.seconds, b.patients]));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/analytics/clinic',
      tag: 'analytics',
      summary:
        'Appointments per doctor and day (by status; no-shows: booked, past, never completed nor cancelled) and payments per UTC day, method and currency. ' +
        `from < to, at most ${MAX_RANGE_DAYS} days; slots read as UTC. Accept: text/csv (row "appointments" or "revenue")`,
      permission: 'analytics:read',
      query: clinicQuery,
      async handler({ query, res, audit }) {
        const out = await clinicAnalytics(ctx.db.driver, ctx.db.caps, query);
        const head = { from: query.from.toISOString(), to: query.to.toISOString(), doctorId: query.doctorId ?? null };
        audit('list', 'analytics-clinic', null, null, { ...head, count: out.appointments.length + out.revenue.length });
        if (!wantsCsv(res)) return { ...head, ...out };
        return sendCsv(res, CLINIC_CSV_HEADER, [
          ...out.appointments.map((a) => ['appointments', a.day, a.doctorId, a.doctor, a.appointments, a.pending, a.confirmed, a.completed, a.cancelled, a.noShows, '', '', '', '']),
          ...out.revenue.map((p) => ['revenue', p.day, '', '', '', '', '', '', '', '', p.method, p.currency, p.payments, p.amount]),
        ]);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/analytics/devices',
      tag: 'analytics',
      summary:
        'Per device: readings received ÷ expected at intervalSeconds (default 1) over the part of the range it existed in, and offline time ' +
        `(silences longer than silenceSeconds, default 30). from < to, at most ${MAX_RANGE_DAYS} days. Accept: text/csv`,
      permission: 'analytics:read',
      query: devicesQuery,
      async handler({ query, res, audit }) {
        const devices = await deviceAnalytics(ctx.db.driver, query);
        const head = { ...range(query), intervalSeconds: query.intervalSeconds, silenceSeconds: query.silenceSeconds };
        audit('list', 'analytics-devices', null, null, { ...head, count: devices.length });
        if (!wantsCsv(res)) return { ...head, devices };
        return sendCsv(res, DEVICES_CSV_HEADER, devices.map((d) => [d.deviceId, d.label, d.ward, d.windowSeconds, d.readings, d.expected, d.completeness, d.offlineSeconds]));
      },
    }),
  ];
}
