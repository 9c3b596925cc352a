// A patient's live data: vitals history, score, alarm limits, manual observations (the record
// itself is a generic resource: records/resource.ts with patientSpec). Every read of clinical data
// is audited.
import { z } from 'zod';
import type { AppContext } from './context.ts';
import type { RequestHandler } from 'express';
import { instant, uuid } from './validate.ts';
import { defineRoute, type Route } from './route.ts';
import { Errors, fail } from '../errors.ts';
import { setAlarmLimits, type Patient } from '../../db/records.ts';
import { bucketedVitals, latestScore, rawVitals, scoreHistory } from '../../db/vitals-store.ts';
import { effectiveLimits } from '../pipeline/score/limits.ts';
import { decodeTelemetry } from '../pipeline/decode.ts';
import { NUMERIC_VITALS } from '../domain/vitals.ts';
import { Repository } from '../records/repository.ts';
import { patientSpec } from '../records/specs.ts';
import { assertOnWards, visiblePatients } from '../records/scope.ts';
import { listAlerts } from '../../db/records.ts';
import { ALARM_PRIORITIES, ALARM_STATES } from '../domain/alarms.ts';
import { paging } from './validate.ts';

const bound = z
  .strictObject({ low: z.number().finite().optional(), high: z.number().finite().optional() })
  .refine((b) => b.low === undefined || b.high === undefined || b.low < b.high, { message: 'low must be below high' });
const limitsSchema = z.strictObject(Object.fromEntries(NUMERIC_VITALS.map((v) => [v, bound.optional()])) as Record<(typeof NUMERIC_VITALS)[number], z.ZodOptional<typeof bound>>);

const time = instant;
const BUCKET = /^(\d+)(s|m|h|d)$/;
const UNIT_S = { s: 1, m: 60, h: 3600, d: 86400 } as const;
const MAX_BUCKET_S = 366 * 86400;
const vitalsQuery = z
  .strictObject({
    from: time.optional(),
    to: time.optional(),
    bucket: z.string().regex(BUCKET, "must look like '10s', '1m', '1h' or '1d'").optional(),
    limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
  })
  .transform((q) => {
    const to = q.to ?? new Date();
    const from = q.from ?? new Date(to.getTime() - 3600_000);
    const m = q.bucket ? BUCKET.exec(q.bucket) : null;
    const bucketSeconds = m ? Number(m[1]) * UNIT_S[m[2] as keyof typeof UNIT_S] : null;
    return { from, to, bucketSeconds, limit: q.limit };
  })
  .refine((q) => q.from < q.to, { message: "'from' must be before 'to'" })
  .refine((q) => q.bucketSeconds === null || q.bucketSeconds >= 1, { message: 'must be at least 1s', path: ['bucket'] })
  // A bucket past a year (e.g. '99999999999999d') would overflow the database interval.
  .refine((q) => q.bucketSeconds === null || q.bucketSeconds <= MAX_BUCKET_S, { message: 'must be at most 366d', path: ['bucket'] })
  .refine((q) => q.bucketSeconds !== null || q.to.getTime() - q.from.getTime() <= 7 * 86400_000, {
    message: 'raw readings are limited to 7 days per request; give a bucket (e.g. 1m) for longer ranges',
  });

const historyQuery = z
  .strictObject({ from: time.optional(), to: time.optional(), limit: z.coerce.number().int().min(1).max(100_000).default(10_000) })
  .transform((q) => {
    const to = q.to ?? new Date();
    return { to, from: q.from ?? new Date(to.getTime() - 24 * 3600_000), limit: q.limit };
  })
  .refine((q) => q.from < q.to, { message: "'from' must be before 'to'" });

const patientAlertsQuery = z.strictObject({
  state: z.enum(['open', ...ALARM_STATES]).optional(),
  priority: z.enum(ALARM_PRIORITIES).optional(),
  from: time.optional(),
  to: time.optional(),
  ...paging,
});

/** A manual observation: the same JSON object a device sends; the telemetry decoder checks its fields. */
const observationBody = z.record(z.string(), z.unknown(), { error: 'must be a JSON object with the observed vitals' });

export function patientRoutes(ctx: AppContext): Route[] {
  const tag = 'patients';
  const patients = new Repository<Patient & Record<string, unknown>>(patientSpec, { db: ctx.db.driver, audit: (e) => ctx.audit(e) });
  const mustExist = async (id: string): Promise<Patient> => {
    const p = ctx.patients.get(id) ?? (await patients.find(id));
    if (!p) throw Errors.notFound('patient', id);
    return p;
  };
  /**
   * A patient whose live data this user may read (a kiosk: only on its own wards; a patient
   * account: only itself and its linked family, anyone else the same 404 as a missing patient —
   * scope.ts),
   * checked before the query is: an unknown patient is a 404 whatever the query says. A malformed
   * id is left to the declaration's params schema (a 400 naming it).
   */
  const readableFirst: RequestHandler = async (req, _res, next) => {
    const id = uuid.safeParse(req.params.id);
    if (id.success) {
      await mustExist(id.data);
      const own = await visiblePatients(ctx.db.driver, req.user!);
      if (own && !own.includes(id.data)) throw Errors.notFound('patient', id.data);
      await assertOnWards(ctx.db.driver, req.user!, id.data);
    }
    next();
  };
  /** Likewise for a write: an unknown patient is a 404 before the body is looked at. */
  const existsFirst: RequestHandler = async (req, _res, next) => {
    const id = uuid.safeParse(req.params.id);
    if (id.success) await mustExist(id.data);
    next();
  };

  return [
    defineRoute({
      method: 'get',
      path: '/api/patients/{id}/vitals',
      tag,
      summary: 'Vitals history: raw readings, or aggregates per bucket (1m and longer from the 1-minute rollup)',
      permission: 'vitals:read',
      before: [readableFirst],
      query: vitalsQuery,
      async handler({ params: { id }, query: q, audit }) {
        audit('read', 'vitals', id, id, { from: q.from.toISOString(), to: q.to.toISOString(), bucket: q.bucketSeconds });
        if (q.bucketSeconds !== null) {
          const items = await bucketedVitals(ctx.db.driver, ctx.db.caps, id, q.from, q.to, q.bucketSeconds);
          return { patientId: id, from: q.from.toISOString(), to: q.to.toISOString(), bucket: `${q.bucketSeconds}s`, items };
        }
        const items = await rawVitals(ctx.db.driver, id, q.from, q.to, q.limit);
        return { patientId: id, from: q.from.toISOString(), to: q.to.toISOString(), items, truncated: items.length === q.limit };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/patients/{id}/score',
      tag,
      summary: 'Latest NEWS2 score with its breakdown',
      permission: 'vitals:read',
      before: [readableFirst],
      async handler({ params: { id }, audit }) {
        audit('read', 'score', id, id);
        const live = ctx.live.score(id);
        const score = live ?? (await latestScore(ctx.db.driver, id));
        if (!score) throw Errors.notFound('score for patient', id);
        // Nothing stale looks live: a score whose inputs have all gone stale (or one only found in
        // the history, not computed by this process) says so.
        const now = Date.now();
        const stale = !live || (live.freshUntil !== undefined && now > live.freshUntil);
        return { ...score, stale, ...(stale ? { ageMs: now - (live?.dataAt ?? score.ts) } : {}) };
      },
    }),
    // The alarms about one patient: what a patient account (and its family) may see of the alarm
    // history — not the ward-wide list (/api/alerts, staff and kiosks).
    defineRoute({
      method: 'get',
      path: '/api/patients/{id}/alerts',
      tag,
      summary: 'Alarm history of one patient (newest first; a patient account: its own and its family’s)',
      permission: 'vitals:read',
      before: [readableFirst],
      query: patientAlertsQuery,
      async handler({ params: { id }, query: q, audit }) {
        const page = await listAlerts(ctx.db.driver, { ...q, patientId: id, order: 'recent' });
        audit('list', 'alert', null, id, { state: q.state ?? null, count: page.items.length });
        return { ...page, limit: q.limit, offset: q.offset };
      },
    }),
    // Per-patient alarm limits: the overrides replace the previous ones; omitted parameters use the
    // adult defaults. Every change is audited with before and after.
    defineRoute({
      method: 'put',
      path: '/api/patients/{id}/limits',
      tag,
      summary: 'Set the patient’s alarm limits (audited)',
      permission: 'limits:edit',
      before: [existsFirst],
      body: limitsSchema,
      async handler({ params: { id }, body: limits, audit }) {
        const before = await mustExist(id);
        for (const [p, b] of Object.entries(limits)) {
          const eff = effectiveLimits({ [p]: b }, before.spo2Scale)[p as keyof typeof limits];
          if (eff.low !== undefined && eff.high !== undefined && eff.low >= eff.high) {
            throw Errors.validation(`body.${p}: low ${eff.low} must be below high ${eff.high} (defaults fill what is not given)`);
          }
        }
        const p = await setAlarmLimits(ctx.db.driver, id, limits);
        if (!p) throw fail('ERR_ARCHIVED', 'patient is archived');
        ctx.onPatientChanged(p);
        audit('update', 'alarm-limits', id, id, { before: before.alarmLimits, after: limits });
        return { patientId: id, alarmLimits: p.alarmLimits, effectiveLimits: effectiveLimits(p.alarmLimits, p.spo2Scale) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/patients/{id}/scores',
      tag,
      summary: 'NEWS2 score history',
      permission: 'vitals:read',
      before: [readableFirst],
      query: historyQuery,
      async handler({ params: { id }, query: q, audit }) {
        audit('read', 'scores', id, id, { from: q.from.toISOString(), to: q.to.toISOString() });
        const items = await scoreHistory(ctx.db.driver, id, q.from, q.to, q.limit);
        return { patientId: id, from: q.from.toISOString(), to: q.to.toISOString(), items, truncated: items.length === q.limit };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/patients/{id}/observations',
      tag,
      summary: 'Record a manual observation (scored like device data)',
      permission: 'observations:create',
      before: [existsFirst],
      body: observationBody,
      status: 201,
      async handler({ user, params: { id }, body, audit }) {
        const p = await mustExist(id);
        if (p.archivedAt) throw fail('ERR_ARCHIVED', 'patient is archived');
        // Same contract as a device reading: one decoder, one set of rules.
        const receivedAt = Date.now();
        const decoded = decodeTelemetry(JSON.stringify(body), receivedAt);
        if (decoded.issues.length > 0) {
          throw Errors.validation(
            decoded.issues.map((i) => (i.field ? `body.${i.field}: ${i.reason}` : `body: ${i.reason}`)).join('; '),
            decoded.issues,
          );
        }
        const reading = decoded.readings[0]!;
        // 201 means stored (docs/decisions/0024): the answer waits until the reading is durable.
        await ctx.ingestManual({ ...reading, deviceId: null, patientId: id, source: 'manual', receivedAt });
        audit('create', 'observation', id, id, reading.values);
        return { patientId: id, ts: new Date(reading.ts).toISOString(), values: reading.values, recordedBy: user.id };
      },
    }),
  ];
}
