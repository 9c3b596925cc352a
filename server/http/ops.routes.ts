// Alerts, ingest errors and the audit log (reads), plus health, readiness and metrics.
import { Router } from 'express';
import { z } from 'zod';
import { type AppContext, allow, auditOf, authenticate, handler } from './context.ts';
import { paging, parse, uuid } from './validate.ts';
import { listAlerts, listAudit, listIngestErrors, listWards } from '../../db/records.ts';

const alertsQuery = z.strictObject({
  state: z.enum(['active', 'resolved']).optional(),
  patientId: uuid.optional(),
  ward: z.string().min(1).max(64).optional(),
  ...paging,
});

export function opsRoutes(ctx: AppContext): Router {
  const r = Router();

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
      const items = await listAlerts(ctx.db.driver, q);
      ctx.audit(auditOf(req, 'list', 'alert', null, q.patientId ?? null, { ward: q.ward ?? null, state: q.state ?? null, count: items.length }));
      res.json({ items, limit: q.limit, offset: q.offset });
    }),
  );

  api.get(
    '/wards',
    authenticate(ctx),
    allow('patients:read'),
    handler(async (_req, res) => {
      res.json({ items: await listWards(ctx.db.driver) });
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
