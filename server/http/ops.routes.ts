// Alerts, ingest errors and the audit log (reads), plus health, readiness and metrics.
import { Router } from 'express';
import { z } from 'zod';
import { type AppContext, allow, auditOf, authenticate, handler } from './context.ts';
import { idParam, instant, paging, parse, uuid } from './validate.ts';
import { getAlarm, listAlerts, listAudit, listIngestErrors, listIngestRefusals, listNotificationAttempts, listTransitions, listWards } from '../../db/records.ts';
import { Errors } from '../errors.ts';
import type { AlarmAction } from '../domain/alarms.ts';
import { describeRoute } from './openapi.ts';
import { assertOnWards, outsideWards, wardScope } from '../records/scope.ts';

const when = instant;
const alertsQuery = z.strictObject({
  state: z.enum(['open', 'active', 'acknowledged', 'silenced', 'resolved']).optional(),
  priority: z.enum(['high', 'medium', 'low']).optional(),
  patientId: uuid.optional(),
  ward: z.string().min(1).max(64).optional(),
  from: when.optional(),
  to: when.optional(),
  order: z.enum(['priority', 'recent']).default('priority'),
  ...paging,
});
const commandBody = z.strictObject({ comment: z.string().trim().max(1000).optional() }).default({});
const refusalsQuery = z.strictObject({
  address: z.string().min(1).max(64).optional(),
  reason: z.string().min(1).max(200).optional(),
  from: when.optional(),
  to: when.optional(),
  ...paging,
});

export function opsRoutes(ctx: AppContext): Router {
  const r = Router();
  describeRoute({ method: 'get', path: '/healthz', tag: 'operations', summary: 'Process is up', public: true });
  describeRoute({ method: 'get', path: '/readyz', tag: 'operations', summary: 'Database and broker ready (503 otherwise)', public: true });
  describeRoute({ method: 'get', path: '/metrics', tag: 'operations', summary: 'Prometheus metrics', public: true });
  describeRoute({ method: 'get', path: '/api/alerts', tag: 'alerts', summary: 'Alarm history: filter by ward, patient, state, priority, time; paginated', permission: 'alerts:read', query: alertsQuery });
  describeRoute({ method: 'get', path: '/api/alerts/{id}', tag: 'alerts', summary: 'One alarm with its transitions and notification attempts', permission: 'alerts:read' });
  for (const a of ['ack', 'silence', 'resolve']) {
    describeRoute({ method: 'post', path: `/api/alerts/{id}/${a}`, tag: 'alerts', summary: `${a === 'ack' ? 'Acknowledge' : a === 'silence' ? 'Silence (2 min)' : 'Resolve (latched, cleared)'} an alarm`, permission: 'alarms:act', body: commandBody });
  }
  describeRoute({ method: 'get', path: '/api/wards', tag: 'patients', summary: 'Wards with their number of current patients (a kiosk: its own wards)', permission: 'wards:read' });
  describeRoute({ method: 'get', path: '/api/ingest-errors', tag: 'devices', summary: 'Refused telemetry with reasons', permission: 'ingest-errors:read' });
  describeRoute({ method: 'get', path: '/api/ingest-refusals', tag: 'devices', summary: 'MQTT connections refused before login, counted per minute, source address and reason', permission: 'ingest-errors:read', query: refusalsQuery });
  describeRoute({ method: 'get', path: '/api/audit', tag: 'audit', summary: 'Audit log: who read or changed what', permission: 'audit:read' });

  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  r.get(
    '/readyz',
    handler(async (_req, res) => {
      const checks = await ctx.ready();
      const ok = checks.database && checks.broker;
      res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', checks });
    }),
  );

  r.get(
    '/metrics',
    handler(async (_req, res) => {
      res.setHeader('Content-Type', ctx.metrics.registry.contentType);
      res.send(await ctx.metrics.registry.metrics());
    }),
  );

  const api = Router();

  api.get(
    '/alerts',
    authenticate(ctx),
    allow('alerts:read'),
    handler(async (req, res) => {
      const q = parse(alertsQuery, req.query, 'query');
      // A kiosk lists the alarms of its own wards only; naming another ward or patient is a 403.
      const wards = await wardScope(ctx.db.driver, req.user!);
      if (wards && q.ward !== undefined && !wards.includes(q.ward)) throw outsideWards(req.user!, wards, `not ward '${q.ward}'`);
      if (wards && q.patientId) await assertOnWards(ctx.db.driver, req.user!, q.patientId);
      const page = await listAlerts(ctx.db.driver, wards ? { ...q, wards } : q);
      ctx.audit(auditOf(req, 'list', 'alert', null, q.patientId ?? null, { ward: q.ward ?? null, state: q.state ?? null, count: page.items.length }));
      res.json({ ...page, limit: q.limit, offset: q.offset });
    }),
  );

  api.get(
    '/alerts/:id',
    authenticate(ctx),
    allow('alerts:read'),
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const alarm = await getAlarm(ctx.db.driver, id);
      if (!alarm) throw Errors.notFound('alert', id);
      await assertOnWards(ctx.db.driver, req.user!, alarm.patientId);
      ctx.audit(auditOf(req, 'read', 'alert', id, alarm.patientId));
      res.json({ ...alarm, transitions: await listTransitions(ctx.db.driver, id), notifications: await listNotificationAttempts(ctx.db.driver, id) });
    }),
  );

  for (const action of ['ack', 'silence', 'resolve'] as const satisfies readonly AlarmAction[]) {
    api.post(
      `/alerts/:id/${action}`,
      authenticate(ctx),
      allow('alarms:act'),
      handler(async (req, res) => {
        const id = idParam(req.params.id);
        const body = parse(commandBody, req.body ?? {}, 'body');
        const alarm = ctx.actOnAlarm(id, action, { id: req.user!.id, role: req.user!.role }, body.comment ?? null);
        ctx.audit(auditOf(req, action, 'alert', id, alarm.patientId, body.comment ? { comment: body.comment } : undefined));
        res.json(alarm);
      }),
    );
  }

  api.get(
    '/wards',
    authenticate(ctx),
    allow('wards:read'),
    handler(async (req, res) => {
      const wards = await wardScope(ctx.db.driver, req.user!);
      const items = await listWards(ctx.db.driver);
      res.json({ items: wards ? items.filter((w) => wards.includes(w.ward)) : items });
    }),
  );

  api.get(
    '/ingest-errors',
    authenticate(ctx),
    allow('ingest-errors:read'),
    handler(async (req, res) => {
      const q = parse(z.strictObject({ deviceId: z.string().min(1).max(64).optional(), ...paging }), req.query, 'query');
      res.json({ items: await listIngestErrors(ctx.db.driver, q), limit: q.limit, offset: q.offset });
    }),
  );

  api.get(
    '/ingest-refusals',
    authenticate(ctx),
    allow('ingest-errors:read'),
    handler(async (req, res) => {
      const q = parse(refusalsQuery, req.query, 'query');
      res.json({ items: await listIngestRefusals(ctx.db.driver, q), limit: q.limit, offset: q.offset });
    }),
  );

  api.get(
    '/audit',
    authenticate(ctx),
    allow('audit:read'),
    handler(async (req, res) => {
      const q = parse(z.strictObject({ patientId: uuid.optional(), ...paging }), req.query, 'query');
      res.json({ items: await listAudit(ctx.db.driver, q), limit: q.limit, offset: q.offset });
    }),
  );

  r.use('/api', api);
  return r;
}
