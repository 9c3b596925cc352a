// Time-series SQL: batched inserts (multi-row `unnest`) and history queries for vitals, scores,
// alerts and ingest errors. Works on TimescaleDB (hypertables, `vitals_1m`) and plain PostgreSQL.
import type { Queryable } from './driver.ts';
import type { Capabilities } from './migrate.ts';
import { NEWS2_PARAMETERS, NUMERIC_VITALS, type Alarm, type News2Result, type Reading, type Transition, type VitalValues } from '../server/domain/index.ts';
import type { RefusalCount } from '../broker/refusals.ts';

export interface ScoreRow {
  patientId: string;
  ts: number;
  news2: News2Result;
}

export interface IngestErrorRow {
  ts: number;
  deviceId: string | null;
  topic: string;
  index?: number;
  field?: string;
  reason: string;
  refused: boolean;
  payload?: string;
}

export interface RawVitalsRow {
  ts: string;
  deviceId: string | null;
  source: string;
  seq: number | null;
  values: VitalValues;
}

export interface BucketRow {
  ts: string;
  /** Readings in the bucket (rows, whichever vitals they carry). */
  count: number;
  values: Partial<Record<(typeof NUMERIC_VITALS)[number], number>>;
  min: Partial<Record<(typeof NUMERIC_VITALS)[number], number>>;
  max: Partial<Record<(typeof NUMERIC_VITALS)[number], number>>;
}

const col = <T, R>(rows: T[], f: (r: T) => R): R[] => rows.map(f);
const iso = (ms: number) => new Date(ms).toISOString();

export async function insertVitals(db: Queryable, rows: Reading[]): Promise<number> {
  const r = await db.query(
    `INSERT INTO vitals (time, patient_id, device_id, source, seq, hr, spo2, rr, temp, sbp, dbp, o2, acvpu)
     SELECT * FROM unnest($1::timestamptz[], $2::uuid[], $3::text[], $4::text[], $5::bigint[],
       $6::real[], $7::real[], $8::real[], $9::real[], $10::real[], $11::real[], $12::boolean[], $13::char(1)[])
     ON CONFLICT DO NOTHING`,
    [
      col(rows, (r) => iso(r.ts)),
      col(rows, (r) => r.patientId),
      col(rows, (r) => r.deviceId),
      col(rows, (r) => r.source),
      col(rows, (r) => r.seq ?? null),
      col(rows, (r) => r.values.hr ?? null),
      col(rows, (r) => r.values.spo2 ?? null),
      col(rows, (r) => r.values.rr ?? null),
      col(rows, (r) => r.values.temp ?? null),
      col(rows, (r) => r.values.sbp ?? null),
      col(rows, (r) => r.values.dbp ?? null),
      col(rows, (r) => r.values.o2 ?? null),
      col(rows, (r) => r.values.acvpu ?? null),
    ],
  );
  return r.rowCount;
}

export async function insertScores(db: Queryable, rows: ScoreRow[]): Promise<number> {
  const r = await db.query(
    `INSERT INTO scores (time, patient_id, total, band, partial, parameters)
     SELECT t, p, tot, b, part, params::jsonb
     FROM unnest($1::timestamptz[], $2::uuid[], $3::smallint[], $4::text[], $5::boolean[], $6::text[]) AS u(t, p, tot, b, part, params)`,
    [
      col(rows, (r) => iso(r.ts)),
      col(rows, (r) => r.patientId),
      col(rows, (r) => r.news2.total),
      col(rows, (r) => r.news2.band),
      col(rows, (r) => r.news2.partial),
      col(rows, (r) => JSON.stringify(r.news2.parameters)),
    ],
  );
  return r.rowCount;
}

/** Upsert alarm rows by id; the last version of each id in the batch wins. */
export async function upsertAlerts(db: Queryable, batch: Alarm[]): Promise<number> {
  const latest = new Map<string, Alarm>();
  for (const a of batch) latest.set(a.id, a);
  const rows = [...latest.values()];
  const t = (v: number | null) => (v === null ? null : iso(v));
  const r = await db.query(
    `INSERT INTO alerts (id, patient_id, key, kind, category, parameter, value, limit_value, rule, priority, state, message,
       started_at, ended_at, updated_at, latching, condition_active, silenced_until, acknowledged_by, acknowledged_at, escalation_level, device_id, acknowledged_value)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[], $9::text[],
       $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[], $15::timestamptz[], $16::boolean[], $17::boolean[],
       $18::timestamptz[], $19::uuid[], $20::timestamptz[], $21::int[], $22::text[], $23::float8[])
     ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, limit_value = EXCLUDED.limit_value, rule = EXCLUDED.rule,
       priority = EXCLUDED.priority, state = EXCLUDED.state, message = EXCLUDED.message, ended_at = EXCLUDED.ended_at,
       updated_at = EXCLUDED.updated_at, condition_active = EXCLUDED.condition_active, latching = EXCLUDED.latching, silenced_until = EXCLUDED.silenced_until,
       acknowledged_by = EXCLUDED.acknowledged_by, acknowledged_at = EXCLUDED.acknowledged_at, escalation_level = EXCLUDED.escalation_level,
       acknowledged_value = EXCLUDED.acknowledged_value
     WHERE alerts.updated_at <= EXCLUDED.updated_at`,
    [
      col(rows, (a) => a.id),
      col(rows, (a) => a.patientId),
      col(rows, (a) => a.key),
      col(rows, (a) => a.kind),
      col(rows, (a) => a.category),
      col(rows, (a) => a.parameter),
      col(rows, (a) => a.value),
      col(rows, (a) => a.limit),
      col(rows, (a) => a.rule),
      col(rows, (a) => a.priority),
      col(rows, (a) => a.state),
      col(rows, (a) => a.message),
      col(rows, (a) => iso(a.ts)),
      col(rows, (a) => t(a.endedAt)),
      col(rows, (a) => iso(a.updatedAt)),
      col(rows, (a) => a.latching),
      col(rows, (a) => a.conditionActive),
      col(rows, (a) => t(a.silencedUntil)),
      col(rows, (a) => a.acknowledgedBy),
      col(rows, (a) => t(a.acknowledgedAt)),
      col(rows, (a) => a.escalationLevel),
      col(rows, (a) => a.deviceId),
      col(rows, (a) => a.acknowledgedValue),
    ],
  );
  return r.rowCount;
}

export async function insertTransitions(db: Queryable, rows: Transition[]): Promise<number> {
  const r = await db.query(
    `INSERT INTO alert_transitions (alert_id, patient_id, from_state, to_state, at, actor_id, actor_role, comment)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::uuid[], $7::text[], $8::text[])`,
    [
      col(rows, (t) => t.alarmId),
      col(rows, (t) => t.patientId),
      col(rows, (t) => t.from),
      col(rows, (t) => t.to),
      col(rows, (t) => iso(t.at)),
      col(rows, (t) => t.by),
      col(rows, (t) => t.byRole),
      col(rows, (t) => t.comment),
    ],
  );
  return r.rowCount;
}

export interface NotificationAttempt {
  alertId: string;
  level: number;
  role: string;
  channel: string;
  target: string | null;
  attempt: number;
  at: number;
  ok: boolean;
  status: number | null;
  error: string | null;
}

export async function insertNotificationAttempts(db: Queryable, rows: NotificationAttempt[]): Promise<number> {
  const r = await db.query(
    `INSERT INTO notification_attempts (alert_id, level, role, channel, target, attempt, at, ok, status, error)
     SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::boolean[], $9::int[], $10::text[])`,
    [
      col(rows, (a) => a.alertId),
      col(rows, (a) => a.level),
      col(rows, (a) => a.role),
      col(rows, (a) => a.channel),
      col(rows, (a) => a.target),
      col(rows, (a) => a.attempt),
      col(rows, (a) => iso(a.at)),
      col(rows, (a) => a.ok),
      col(rows, (a) => a.status),
      col(rows, (a) => a.error),
    ],
  );
  return r.rowCount;
}

export async function insertIngestErrors(db: Queryable, rows: IngestErrorRow[]): Promise<number> {
  const r = await db.query(
    `INSERT INTO ingest_errors (time, device_id, topic, item_index, field, reason, refused, payload)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::boolean[], $8::text[])`,
    [
      col(rows, (e) => iso(e.ts)),
      col(rows, (e) => e.deviceId),
      col(rows, (e) => e.topic),
      col(rows, (e) => e.index ?? null),
      col(rows, (e) => e.field ?? null),
      col(rows, (e) => e.reason),
      col(rows, (e) => e.refused),
      col(rows, (e) => e.payload ?? null),
    ],
  );
  return r.rowCount;
}

/** Counts of refusals before login, added to the row of their (minute, address, reason). */
export async function upsertIngestRefusals(db: Queryable, rows: RefusalCount[]): Promise<number> {
  // Summed first: one batch may hold two drains' counts for the same key, and ON CONFLICT may
  // touch a row only once per statement.
  const r = await db.query(
    `INSERT INTO ingest_refusals (minute, address, reason, count)
     SELECT m, a, r, sum(c)::int FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::int[]) AS t(m, a, r, c)
     GROUP BY m, a, r
     ON CONFLICT (minute, address, reason) DO UPDATE SET count = ingest_refusals.count + EXCLUDED.count`,
    [col(rows, (x) => iso(x.minute)), col(rows, (x) => x.address), col(rows, (x) => x.reason), col(rows, (x) => x.count)],
  );
  return r.rowCount;
}

/**
 * Retention of `ingest_errors` and `ingest_refusals` (INGEST_ERRORS_RETAIN_FOR): rows older than
 * `retainFor` go, 10,000 at a time so no single statement holds the table long. Returns how many.
 */
export async function pruneIngestErrors(db: Queryable, retainFor: string): Promise<number> {
  let total = 0;
  for (const sql of [
    `DELETE FROM ingest_errors WHERE id IN (SELECT id FROM ingest_errors WHERE time < now() - $1::interval LIMIT 10000)`,
    `DELETE FROM ingest_refusals WHERE ctid IN (SELECT ctid FROM ingest_refusals WHERE minute < now() - $1::interval LIMIT 10000)`,
  ]) {
    for (;;) {
      const n = (await db.query(sql, [retainFor])).rowCount;
      total += n;
      if (n < 10_000) break;
    }
  }
  return total;
}

// ------------------------------------------------------------------ queries

interface VitalsDbRow {
  time: Date;
  device_id: string | null;
  source: string;
  seq: number | string | null;
  hr: number | null;
  spo2: number | null;
  rr: number | null;
  temp: number | null;
  sbp: number | null;
  dbp: number | null;
  o2: boolean | null;
  acvpu: string | null;
}

export async function rawVitals(db: Queryable, patientId: string, from: Date, to: Date, limit: number): Promise<RawVitalsRow[]> {
  const { rows } = await db.query<VitalsDbRow>(
    `SELECT time, device_id, source, seq, hr, spo2, rr, temp, sbp, dbp, o2, acvpu
     FROM vitals WHERE patient_id = $1 AND time >= $2 AND time < $3
     ORDER BY time LIMIT $4`,
    [patientId, from.toISOString(), to.toISOString(), limit],
  );
  return rows.map((r) => ({
    ts: new Date(r.time).toISOString(),
    deviceId: r.device_id,
    source: r.source,
    seq: r.seq === null ? null : Number(r.seq),
    values: valuesOf(r),
  }));
}

const ALL_VALUES = [...NUMERIC_VITALS, 'o2', 'acvpu'] as const;

/** The vitals a row holds (nulls left out; `char(1)` ACVPU trimmed), optionally only `keys`. */
function valuesOf(r: VitalsDbRow, keys: readonly (typeof ALL_VALUES)[number][] = ALL_VALUES): VitalValues {
  const values: Record<string, unknown> = {};
  for (const k of keys) {
    const v = r[k];
    if (v !== null && v !== undefined) values[k] = typeof v === 'string' ? v.trim() : v;
  }
  return values as VitalValues;
}

/**
 * Aggregates per bucket. Buckets that are whole minutes come from the 1-minute rollup (the
 * continuous aggregate on TimescaleDB — cheap over days — or the same rollup computed by a
 * query on plain PostgreSQL); shorter buckets are computed from raw rows.
 */
export async function bucketedVitals(
  db: Queryable,
  caps: Capabilities,
  patientId: string,
  from: Date,
  to: Date,
  bucketSeconds: number,
): Promise<BucketRow[]> {
  const params = [patientId, from.toISOString(), to.toISOString(), `${bucketSeconds} seconds`];
  let sql: string;
  if (caps.timescale && bucketSeconds % 60 === 0) {
    const agg = NUMERIC_VITALS.map(
      (v) =>
        `sum(${v} * ${v}_n) / nullif(sum(${v}_n), 0) AS ${v}, min(${v}_min) AS ${v}_min, max(${v}_max) AS ${v}_max`,
    ).join(', ');
    sql = `SELECT time_bucket($4::interval, bucket) AS time, sum(n)::int AS n, ${agg}
           FROM vitals_1m WHERE patient_id = $1 AND bucket >= $2 AND bucket < $3
           GROUP BY 1 ORDER BY 1`;
  } else {
    const agg = NUMERIC_VITALS.map((v) => `avg(${v}) AS ${v}, min(${v}) AS ${v}_min, max(${v}) AS ${v}_max`).join(', ');
    // Same bucket boundaries as time_bucket (its default origin is Monday 2000-01-03).
    sql = `SELECT date_bin($4::interval, time, TIMESTAMPTZ '2000-01-03 00:00:00+00') AS time, count(*)::int AS n, ${agg}
           FROM vitals WHERE patient_id = $1 AND time >= $2 AND time < $3
           GROUP BY 1 ORDER BY 1`;
  }
  const { rows } = await db.query<Record<string, unknown>>(sql, params);
  return rows.map((r) => {
    const out: BucketRow = { ts: new Date(r.time as string).toISOString(), count: Number(r.n), values: {}, min: {}, max: {} };
    for (const v of NUMERIC_VITALS) {
      if (r[v] !== null && r[v] !== undefined) {
        out.values[v] = round2(Number(r[v]));
        out.min[v] = Number(r[`${v}_min`]);
        out.max[v] = Number(r[`${v}_max`]);
      }
    }
    return out;
  });
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** A stored score row as the API shows it; `missing` is derived from the null sub-scores. */
function news2Of(r: { total: number; band: string; partial: boolean; parameters: unknown }): News2Result {
  const parameters = (typeof r.parameters === 'string' ? JSON.parse(r.parameters) : r.parameters) as News2Result['parameters'];
  return { total: Number(r.total), band: r.band as News2Result['band'], partial: r.partial, missing: NEWS2_PARAMETERS.filter((p) => parameters[p] === null), parameters };
}

/** Score history, oldest first: the NEWS2 total changes only when a sub-score changes. */
export async function scoreHistory(db: Queryable, patientId: string, from: Date, to: Date, limit: number): Promise<ScoreRow[]> {
  const { rows } = await db.query<{ time: Date; total: number; band: string; partial: boolean; parameters: unknown }>(
    `SELECT time, total, band, partial, parameters FROM scores WHERE patient_id = $1 AND time >= $2 AND time < $3
     ORDER BY time LIMIT $4`,
    [patientId, from.toISOString(), to.toISOString(), limit],
  );
  return rows.map((r) => ({
    patientId,
    ts: new Date(r.time).getTime(),
    news2: news2Of(r),
  }));
}

export async function latestScore(db: Queryable, patientId: string): Promise<ScoreRow | null> {
  const { rows } = await db.query<{ time: Date; total: number; band: string; partial: boolean; parameters: unknown }>(
    `SELECT time, total, band, partial, parameters FROM scores WHERE patient_id = $1 ORDER BY time DESC LIMIT 1`,
    [patientId],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    patientId,
    ts: new Date(r.time).getTime(),
    news2: news2Of(r),
  };
}

/** How far back a restart looks for each kind of value (its freshness windows). */
export interface RestoreWindows {
  /** Streamed device values (HR, SpO2, RR): every row of this last span (the median window too). */
  continuousMs: number;
  /** Intermittent device values (BP, temperature, O2, ACVPU): the newest of each within this span. */
  intermittentMs: number;
  /** Manual observations: every one within this span. */
  manualMs: number;
}

/**
 * What the monitoring engine needs after a restart, per active patient, oldest first: the device
 * rows of the last `continuousMs`, the newest device value of each intermittent parameter within
 * `intermittentMs`, and every manual observation within `manualMs`. The receipt time is not
 * stored: a restored value counts as received at its measurement time (never later than `now`).
 */
export async function readingsToRestore(db: Queryable, now: number, w: RestoreWindows): Promise<Map<string, Reading[]>> {
  const out = new Map<string, Reading[]>();
  const add = (r: VitalsDbRow & { patient_id: string }, only?: readonly (typeof ALL_VALUES)[number][]) => {
    const values = valuesOf(r, only);
    if (Object.keys(values).length === 0) return;
    const ts = new Date(r.time).getTime();
    const reading: Reading = {
      ts,
      receivedAt: Math.min(ts, now),
      deviceId: r.device_id,
      patientId: r.patient_id,
      source: r.source === 'manual' ? 'manual' : 'device',
      values,
      ...(r.seq === null ? {} : { seq: Number(r.seq) }),
    };
    const list = out.get(r.patient_id) ?? [];
    list.push(reading);
    out.set(r.patient_id, list);
  };
  const since = (ms: number) => new Date(now - ms).toISOString();
  const cols = 'time, device_id, source, seq, hr, spo2, rr, temp, sbp, dbp, o2, acvpu';
  const active = 'patient_id IN (SELECT id FROM patients WHERE archived_at IS NULL)';

  const intermittent = ['temp', 'sbp', 'dbp', 'o2', 'acvpu'] as const;
  for (const k of intermittent) {
    const { rows } = await db.query<VitalsDbRow & { patient_id: string }>(
      `SELECT p.id AS patient_id, v.* FROM patients p CROSS JOIN LATERAL (
         SELECT ${cols} FROM vitals WHERE patient_id = p.id AND source = 'device' AND ${k} IS NOT NULL AND time > $1
         ORDER BY time DESC LIMIT 1) v
       WHERE p.archived_at IS NULL`,
      [since(w.intermittentMs)],
    );
    for (const r of rows) add(r, [k]);
  }
  const { rows: recent } = await db.query<VitalsDbRow & { patient_id: string }>(
    `SELECT patient_id, ${cols} FROM vitals WHERE source = 'device' AND time > $1 AND ${active} ORDER BY time`,
    [since(w.continuousMs)],
  );
  for (const r of recent) add(r, ['hr', 'spo2', 'rr']);
  const { rows: manual } = await db.query<VitalsDbRow & { patient_id: string }>(
    `SELECT patient_id, ${cols} FROM vitals WHERE source = 'manual' AND time > $1 AND ${active} ORDER BY time`,
    [since(w.manualMs)],
  );
  for (const r of manual) add(r);
  for (const list of out.values()) list.sort((a, b) => a.ts - b.ts);
  return out;
}
