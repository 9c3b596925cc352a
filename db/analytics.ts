// Ward statistics computed in SQL (GET /api/analytics/*). Days are UTC days: `time_bucket('1 day', …)`
// on TimescaleDB (its day buckets start at UTC midnight), `date_trunc('day', …, 'UTC')` on plain
// PostgreSQL — the same boundaries, so the same answers on both drivers.
import type { Queryable } from './driver.ts';
import type { Capabilities } from './migrate.ts';
import type { AlarmDay, AlarmGroupStats, ClinicDay, DeviceStats, News2BandTime, RevenueDay } from '../server/domain/analytics.ts';

export type { AlarmDay, AlarmGroupStats, ClinicDay, DeviceStats, News2BandTime, RevenueDay };

/** The UTC day an instant falls in, as SQL. */
const dayOf = (caps: Capabilities, col: string) =>
  caps.timescale ? `time_bucket(INTERVAL '1 day', ${col})` : `date_trunc('day', ${col}, 'UTC')`;

const isoDay = (v: unknown) => new Date(v as string).toISOString().slice(0, 10);
const num = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 1000) / 1000);

export interface AnalyticsRange {
  from: Date;
  to: Date;
  ward?: string | undefined;
}

/**
 * Alarms per ward and UTC day (the day the alarm was raised; the ward the patient is on now).
 * One query with two grouping sets: per ward/day/priority/kind and per ward/day.
 */
export async function alarmAnalytics(db: Queryable, caps: Capabilities, r: AnalyticsRange): Promise<AlarmDay[]> {
  const params = [r.from.toISOString(), r.to.toISOString(), r.ward ?? null];
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH a AS (
       SELECT p.ward, ${dayOf(caps, 'al.started_at')} AS day, al.priority, al.kind, al.escalation_level,
              extract(epoch FROM (SELECT min(t.at) FROM alert_transitions t
                                  WHERE t.alert_id = al.id AND t.to_state = 'acknowledged') - al.started_at)::float8 AS ack_s
       FROM alerts al JOIN patients p ON p.id = al.patient_id
       WHERE al.started_at >= $1 AND al.started_at < $2 AND ($3::text IS NULL OR p.ward = $3)
     )
     SELECT ward, day, priority, kind, grouping(priority, kind) AS total_row,
            count(*)::int AS alarms, count(ack_s)::int AS acknowledged,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ack_s) AS ack_median,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY ack_s) AS ack_p90,
            coalesce(sum(escalation_level), 0)::int AS escalations
     FROM a GROUP BY GROUPING SETS ((ward, day, priority, kind), (ward, day))
     ORDER BY ward, day, priority, kind`,
    params,
  );
  const beds = await bedDays(db, caps, r);
  const days = new Map<string, AlarmDay>();
  const keyOf = (ward: string | null, day: string) => `${ward ?? ''}\u0000${day}`;
  const dayEntry = (ward: string | null, day: string): AlarmDay => {
    const key = keyOf(ward, day);
    let d = days.get(key);
    if (!d) {
      const n = beds.get(key) ?? 0;
      d = { ward, day, alarms: 0, acknowledged: 0, ackMedianSeconds: null, ackP90Seconds: null, escalations: 0, bedDays: n, alarmsPerBedDay: n ? 0 : null, byPriority: {}, byKind: {}, groups: [] };
      days.set(key, d);
    }
    return d;
  };
  for (const row of rows) {
    const d = dayEntry(row.ward as string | null, isoDay(row.day));
    const stats: AlarmGroupStats = {
      alarms: Number(row.alarms),
      acknowledged: Number(row.acknowledged),
      ackMedianSeconds: num(row.ack_median),
      ackP90Seconds: num(row.ack_p90),
      escalations: Number(row.escalations),
    };
    if (Number(row.total_row) !== 0) {
      Object.assign(d, stats);
      d.alarmsPerBedDay = d.bedDays ? Math.round((stats.alarms / d.bedDays) * 1000) / 1000 : null;
    } else {
      const priority = row.priority as string;
      const kind = row.kind as string;
      d.groups.push({ priority, kind, ...stats });
      d.byPriority[priority] = (d.byPriority[priority] ?? 0) + stats.alarms;
      d.byKind[kind] = (d.byKind[kind] ?? 0) + stats.alarms;
    }
  }
  // Ward days with patients but no alarm are answers too (0 alarms per bed-day).
  for (const key of beds.keys()) {
    const [ward, day] = key.split('\u0000') as [string, string];
    dayEntry(ward === '' ? null : ward, day);
  }
  return [...days.values()].sort((a, b) => (a.ward ?? '').localeCompare(b.ward ?? '') || a.day.localeCompare(b.day));
}

/**
 * Bed-days: distinct patients of the ward with at least one reading per UTC day, from the raw
 * readings on both flavours. Not from the `vitals_1m` continuous aggregate: a late reading below
 * its watermark stays invisible there until the next refresh, and this count must be exact.
 */
async function bedDays(db: Queryable, caps: Capabilities, r: AnalyticsRange): Promise<Map<string, number>> {
  const { rows } = await db.query<{ ward: string | null; day: unknown; n: number }>(
    `SELECT p.ward, ${dayOf(caps, 'v.time')} AS day, count(DISTINCT v.patient_id)::int AS n
     FROM vitals v JOIN patients p ON p.id = v.patient_id
     WHERE v.time >= $1 AND v.time < $2 AND ($3::text IS NULL OR p.ward = $3)
     GROUP BY 1, 2`,
    [r.from.toISOString(), r.to.toISOString(), r.ward ?? null],
  );
  return new Map(rows.map((x) => [`${x.ward ?? ''}\u0000${isoDay(x.day)}`, Number(x.n)]));
}

/** How long a score's band is taken to hold without a newer score. */
export const NEWS2_HOLD_CAP_SECONDS = 3600;

/**
 * Time in each NEWS2 band per ward: each score's band holds from its time until the patient's
 * next score, at most NEWS2_HOLD_CAP_SECONDS, clipped to the range. A score up to the cap before
 * `from` counts for its part inside the range.
 */
export async function news2Analytics(db: Queryable, r: AnalyticsRange): Promise<News2BandTime[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH s AS (
       SELECT p.ward, sc.patient_id, sc.band, sc.time,
              lead(sc.time) OVER (PARTITION BY sc.patient_id ORDER BY sc.time) AS next
       FROM scores sc JOIN patients p ON p.id = sc.patient_id
       WHERE sc.time >= $1::timestamptz - make_interval(secs => $4) AND sc.time < $2 AND ($3::text IS NULL OR p.ward = $3)
     ), spans AS (
       SELECT ward, patient_id, band,
              extract(epoch FROM least(coalesce(next, 'infinity'::timestamptz), time + make_interval(secs => $4), $2::timestamptz)
                                 - greatest(time, $1::timestamptz)) AS secs
       FROM s
     )
     SELECT ward, band, sum(secs) AS seconds, count(DISTINCT patient_id)::int AS patients
     FROM spans WHERE secs > 0
     GROUP BY ward, band ORDER BY ward, band`,
    [r.from.toISOString(), r.to.toISOString(), r.ward ?? null, NEWS2_HOLD_CAP_SECONDS],
  );
  return rows.map((x) => ({ ward: x.ward as string | null, band: x.band as string, seconds: num(x.seconds) ?? 0, patients: Number(x.patients) }));
}

/**
 * Appointments per doctor and day and payments per UTC day and method. An appointment's slot
 * (its date and time) is read as UTC when matched against the range and against now (no-shows).
 * With `doctorId`, revenue counts only payments of bills for that doctor's appointments.
 */
export async function clinicAnalytics(
  db: Queryable,
  caps: Capabilities,
  r: { from: Date; to: Date; doctorId?: string | undefined },
): Promise<{ appointments: ClinicDay[]; revenue: RevenueDay[] }> {
  const params = [r.from.toISOString(), r.to.toISOString(), r.doctorId ?? null];
  const appts = await db.query<Record<string, unknown>>(
    `SELECT a.doctor_id, d.name AS doctor, a.date::text AS day, count(*)::int AS appointments,
            count(*) FILTER (WHERE a.status = 'pending')::int AS pending,
            count(*) FILTER (WHERE a.status = 'confirmed')::int AS confirmed,
            count(*) FILTER (WHERE a.status = 'completed')::int AS completed,
            count(*) FILTER (WHERE a.status = 'cancelled')::int AS cancelled,
            count(*) FILTER (WHERE a.status IN ('pending', 'confirmed') AND (a.date + a.time) AT TIME ZONE 'UTC' < now())::int AS no_shows
     FROM appointments a JOIN doctors d ON d.id = a.doctor_id
     WHERE (a.date + a.time) AT TIME ZONE 'UTC' >= $1 AND (a.date + a.time) AT TIME ZONE 'UTC' < $2
       AND ($3::uuid IS NULL OR a.doctor_id = $3)
     GROUP BY a.doctor_id, d.name, a.date ORDER BY d.name, a.doctor_id, a.date`,
    params,
  );
  const pays = await db.query<Record<string, unknown>>(
    `SELECT ${dayOf(caps, 'p.created_at')} AS day, p.method, b.currency, count(*)::int AS payments, sum(p.amount)::bigint AS amount
     FROM payments p JOIN bills b ON b.id = p.bill_id LEFT JOIN appointments a ON a.id = b.appointment_id
     WHERE p.created_at >= $1 AND p.created_at < $2 AND ($3::uuid IS NULL OR a.doctor_id = $3)
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    params,
  );
  return {
    appointments: appts.rows.map((x) => ({
      doctorId: x.doctor_id as string,
      doctor: x.doctor as string,
      day: x.day as string,
      appointments: Number(x.appointments),
      pending: Number(x.pending),
      confirmed: Number(x.confirmed),
      completed: Number(x.completed),
      cancelled: Number(x.cancelled),
      noShows: Number(x.no_shows),
    })),
    revenue: pays.rows.map((x) => ({ day: isoDay(x.day), method: x.method as string, currency: x.currency as string, payments: Number(x.payments), amount: Number(x.amount) })),
  };
}

/**
 * Data completeness and offline time per device over the part of the range it existed in (from
 * its creation, up to now). A silence is the time from the window's start to the first reading,
 * between consecutive readings, and from the last reading to the window's end; each silence longer
 * than `silenceSeconds` counts wholly as offline.
 */
export async function deviceAnalytics(
  db: Queryable,
  r: AnalyticsRange & { intervalSeconds: number; silenceSeconds: number },
): Promise<DeviceStats[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH d AS (
       SELECT dv.id, dv.label, p.ward, greatest($1::timestamptz, dv.created_at) AS start, least($2::timestamptz, now()) AS stop
       FROM devices dv LEFT JOIN patients p ON p.id = dv.patient_id
       WHERE ($3::text IS NULL OR p.ward = $3)
     ), r AS (
       SELECT v.device_id, v.time, lag(v.time) OVER (PARTITION BY v.device_id ORDER BY v.time) AS prev
       FROM vitals v JOIN d ON d.id = v.device_id
       WHERE v.time >= d.start AND v.time < d.stop
     ), gaps AS (
       SELECT r.device_id, extract(epoch FROM r.time - coalesce(r.prev, d.start))::float8 AS s
       FROM r JOIN d ON d.id = r.device_id
       UNION ALL
       SELECT d.id, extract(epoch FROM d.stop - coalesce(max(r.time), d.start))::float8
       FROM d LEFT JOIN r ON r.device_id = d.id GROUP BY d.id, d.start, d.stop
     )
     SELECT d.id, d.label, d.ward,
            greatest(extract(epoch FROM d.stop - d.start), 0)::float8 AS window_s,
            (SELECT count(*) FROM r WHERE r.device_id = d.id)::int AS readings,
            (SELECT coalesce(sum(g.s), 0) FROM gaps g WHERE g.device_id = d.id AND g.s > $4)::float8 AS offline_s
     FROM d ORDER BY d.id`,
    [r.from.toISOString(), r.to.toISOString(), r.ward ?? null, r.silenceSeconds],
  );
  return rows.map((x) => {
    const windowSeconds = num(x.window_s) ?? 0;
    const readings = Number(x.readings);
    const expected = Math.floor(windowSeconds / r.intervalSeconds);
    return {
      deviceId: x.id as string,
      label: (x.label as string | null) ?? null,
      ward: (x.ward as string | null) ?? null,
      windowSeconds,
      readings,
      expected,
      completeness: expected > 0 ? Math.round((readings / expected) * 10_000) / 10_000 : null,
      offlineSeconds: windowSeconds > 0 ? (num(x.offline_s) ?? 0) : 0,
    };
  });
}
