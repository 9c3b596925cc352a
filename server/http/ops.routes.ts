// Alerts, ingest errors and the audit log (reads), plus health, readiness and metrics.
import { z } from 'zod';
import type { AppContext } from './context.ts';
import { instant, paging, uuid } from './validate.ts';
import { defineRoute, type Route } from './route.ts';
import { getAlarm, listAlerts, listAudit, listIngestErrors, listIngestRefusals, listNotificationAttempts, listTransitions, listWards } from '../../db/records.ts';
import { Errors } from '../errors.ts';
import { ALARM_PRIORITIES, ALARM_STATES, type AlarmAction } from '../domain/alarms.ts';
import { assertOnWards, outsideWards, wardScope } from '../records/scope.ts';

const when = instant;
const alertsQuery = z.strictObject({
  state: z.enum(['open', ...ALARM_STATES]).optional(),
  priority: z.enum(ALARM_PRIORITIES).optional(),
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
const ingestErrorsQuery = z.strictObject({ deviceId: z.string().min(1).max(64).optional(), ...paging });
const auditQuery = z.strictObject({ patientId: uuid.optional(), ...paging });

const COMMANDS: Record<AlarmAction, string> = { ack: 'Acknowledge', silence: 'Silence (2 min)', resolve: 'Resolve (latched, cleared)' };

export function opsRoutes(ctx: AppContext): Route[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      tag: 'operations',
      summary: 'Process is up',
      permission: 'public',
      handler: () => ({ status: 'ok' }),
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      tag: 'operations',
      summary: 'Database, broker and (in a cluster) NATS ready (503 otherwise)',
      permission: 'public',
      async handler({ res }) {
        const checks = await ctx.ready();
        const ok = Object.values(checks).every(Boolean);
        res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', checks });
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/cluster',
      tag: 'operations',
      summary: "This node's place in a cluster: its id, the partitions it processes, the live nodes (docs/deployment.md)",
      permission: 'cluster:read',
      handler: () => (ctx.clusterStatus ? { enabled: true, ...ctx.clusterStatus() } : { enabled: false }),
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      tag: 'operations',
      summary: 'Prometheus metrics',
      permission: 'public',
      async handler({ res }) {
        res.setHeader('Content-Type', ctx.metrics.registry.contentType);
        res.send(await ctx.metrics.registry.metrics());
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/alerts',
      tag: 'alerts',
      summary: 'Alarm history: filter by ward, patient, state, priority, time; paginated',
      permission: 'alerts:read',
      query: alertsQuery,
      async handler({ user, query: q, audit }) {
        // A kiosk lists the alarms of its own wards only; naming another ward or patient is a 403.
        const wards = await wardScope(ctx.db.driver, user);
        if (wards && q.ward !== undefined && !wards.includes(q.ward)) throw outsideWards(user, wards, `not ward '${q.ward}'`);
        if (wards && q.patientId) await assertOnWards(ctx.db.driver, user, q.patientId);
        const page = await listAlerts(ctx.db.driver, wards ? { ...q, wards } : q);
        audit('list', 'alert', null, q.patientId ?? null, { ward: q.ward ?? null, state: q.state ?? null, count: page.items.length });
        return { ...page, limit: q.limit, offset: q.offset };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/alerts/{id}',
      tag: 'alerts',
      summary: 'One alarm with its transitions and notification attempts',
      permission: 'alerts:read',
      audit: { action: 'read', resource: 'alert' },
      async handler({ user, params: { id } }) {
        const alarm = await getAlarm(ctx.db.driver, id);
        if (!alarm) throw Errors.notFound('alert', id);
        await assertOnWards(ctx.db.driver, user, alarm.patientId);
        return { ...alarm, transitions: await listTransitions(ctx.db.driver, id), notifications: await listNotificationAttempts(ctx.db.driver, id) };
      },
    }),
    ...(Object.keys(COMMANDS) as AlarmAction[]).map((action) =>
      defineRoute({
        method: 'post',
        path: `/api/alerts/{id}/${action}`,
        tag: 'alerts',
        summary: `${COMMANDS[action]} an alarm`,
        permission: 'alarms:act',
        body: commandBody,
        // 200 once the transition and its audit entry are committed (docs/decisions/0024).
        async handler({ user, params: { id }, body, audit }) {
          const alarm = await ctx.actOnAlarm(id, action, { id: user.id, role: user.role }, body.comment ?? null);
          audit(action, 'alert', id, alarm.patientId, body.comment ? { comment: body.comment } : undefined);
          return alarm;
        },
      }),
    ),
    defineRoute({
      method: 'get',
      path: '/api/wards',
      tag: 'patients',
      summary: 'Wards with their number of current patients (a kiosk: its own wards)',
      permission: 'wards:read',
      async handler({ user }) {
        const wards = await wardScope(ctx.db.driver, user);
        const items = await listWards(ctx.db.driver);
        return { items: wards ? items.filter((w) => wards.includes(w.ward)) : items };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/ingest-errors',
      tag: 'devices',
      summary: 'Refused telemetry with reasons',
      permission: 'ingest-errors:read',
      query: ingestErrorsQuery,
      async handler({ query: q }) {
        return { items: await listIngestErrors(ctx.db.driver, q), limit: q.limit, offset: q.offset };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/ingest-refusals',
      tag: 'devices',
      summary: 'MQTT connections refused before login, counted per minute, source address and reason',
      permission: 'ingest-errors:read',
      query: refusalsQuery,
      async handler({ query: q }) {
        return { items: await listIngestRefusals(ctx.db.driver, q), limit: q.limit, offset: q.offset };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/audit',
      tag: 'audit',
      summary: 'Audit log: who read or changed what',
      permission: 'audit:read',
      query: auditQuery,
      async handler({ query: q }) {
        return { items: await listAudit(ctx.db.driver, q), limit: q.limit, offset: q.offset };
      },
    }),
  ];
}
