// Lab orders: a doctor orders tests from the catalogue (/api/lab-tests, a generic resource), a nurse
// or the lab collects the specimen, the lab enters the results — each flagged N/L/H/LL/HH against
// the catalogue (lab.ts) — and the ordering doctor or the lab releases them to the patient. A
// critical result (LL/HH) raises a high-priority alarm on the patient through the monitoring
// engine (ctx.raiseLabCritical → the inlet → engine.labCritical), so it is live on the ward and
// the patient panel, escalates, and is acknowledged like every alarm. Storage and audit:
// lab-orders.store.ts.
import { z } from 'zod';
import type { AuditEntry } from '../../db/records.ts';
import { LAB_ORDER_STATUSES, LAB_PRIORITIES } from '../domain/lab.ts';
import { actorOf, type AppContext } from '../http/context.ts';
import { paging, uuid } from '../http/validate.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { LabOrderStore } from './lab-orders.store.ts';

/** Each id once: a test ordered (or resulted) twice is a mistake, named. */
const distinct = <T>(key: (x: T) => string, what: string) => (list: T[], ctx: z.RefinementCtx) => {
  const seen = new Map<string, number>();
  list.forEach((x, i) => {
    const k = key(x);
    if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [i], message: `${what} '${k}' is already at index ${seen.get(k)}` });
    else seen.set(k, i);
  });
};

const createBody = z.strictObject({
  patientId: uuid,
  tests: z
    .array(uuid)
    .min(1, 'order at least one test')
    .max(50)
    .superRefine(distinct((id) => id, 'test')),
  priority: z.enum(LAB_PRIORITIES, { error: `must be one of ${LAB_PRIORITIES.join(', ')}` }),
  note: z.string().trim().min(1, 'must not be empty (leave it out instead)').max(2000).optional(),
});

const resultsBody = z.strictObject({
  results: z
    .array(
      z.strictObject({
        testId: uuid,
        value: z.number({ error: 'must be a number (text findings go in comment)' }).min(-1e9).max(1e9),
        comment: z.string().trim().min(1, 'must not be empty (leave it out instead)').max(2000).optional(),
      }),
    )
    .min(1, 'give a result for every test of the order')
    .max(50)
    .superRefine(distinct((r) => r.testId, 'test')),
});

const listQuery = z.strictObject({
  patientId: uuid.optional(),
  status: z.enum(LAB_ORDER_STATUSES, { error: `must be one of ${LAB_ORDER_STATUSES.join(', ')}` }).optional(),
  ...paging,
});

// No body (or JSON null, or {}) for the steps that carry nothing.
const noBody = z.preprocess((b) => b ?? undefined, z.strictObject({}).optional());

export function labOrderRoutes(ctx: AppContext): Route[] {
  const store = new LabOrderStore({ db: ctx.db.driver, audit: (e: AuditEntry) => ctx.audit(e) }, ctx.notifications);
  return [
    defineRoute({
      method: 'post',
      path: '/api/lab-orders',
      tag: 'lab-orders',
      summary: 'Order lab tests for a patient (status ordered)',
      permission: 'lab-orders:create',
      body: createBody,
      status: 201,
      handler: ({ req, body }) => store.create(actorOf(req), body),
    }),
    defineRoute({
      method: 'get',
      path: '/api/lab-orders',
      tag: 'lab-orders',
      summary: 'List lab orders with their items and results, newest first (a patient: its own and its family’s released ones)',
      permission: 'lab-orders:read',
      query: listQuery,
      handler: ({ req, query }) => store.list(actorOf(req), query),
    }),
    defineRoute({
      method: 'get',
      path: '/api/lab-orders/{id}',
      tag: 'lab-orders',
      summary: 'One lab order with its items and results',
      permission: 'lab-orders:read',
      handler: ({ req, params }) => store.read(actorOf(req), params.id),
    }),
    defineRoute({
      method: 'put',
      path: '/api/lab-orders/{id}/collect',
      tag: 'lab-orders',
      summary: 'The specimen is collected (ordered → collected)',
      permission: 'lab-orders:collect',
      body: noBody,
      handler: ({ req, params }) => store.collect(actorOf(req), params.id),
    }),
    defineRoute({
      method: 'put',
      path: '/api/lab-orders/{id}/results',
      tag: 'lab-orders',
      summary: 'Enter every result (collected → resulted), each flagged N/L/H/LL/HH; a critical one raises a high-priority alarm',
      permission: 'lab-orders:result',
      body: resultsBody,
      async handler({ req, params, body }) {
        const { order, critical } = await store.result(actorOf(req), params.id, body.results);
        // The rows are committed; the answer also waits for the alarm to be durable (ADR 0024).
        if (critical.length > 0) await ctx.raiseLabCritical(order.patientId, order.id, critical);
        return order;
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/lab-orders/{id}/release',
      tag: 'lab-orders',
      summary: 'Release the results to the patient (resulted → released): the ordering doctor or the lab',
      permission: 'lab-orders:release',
      body: noBody,
      handler: ({ req, params }) => store.release(actorOf(req), params.id),
    }),
  ];
}
