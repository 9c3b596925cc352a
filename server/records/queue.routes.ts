// The waiting-room queue: the doctor (or a nurse, the front desk) calls the next token; the call
// is recorded in queue_calls and pushed to the display's Socket.IO room `queue:{doctorId}`.
// Order: urgent appointments first, then token order (the order of booking) — an urgent
// patient is not made to wait behind routine ones, and among equals first booked is first seen.
// The SQL and the audit are the store's (queue.store.ts).
import { z } from 'zod';
import { type AppContext, actorOf } from '../http/context.ts';
import { uuid } from '../http/validate.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { localNow } from './appointments.ts';
import { appointmentStore } from './appointments.routes.ts';
import { QueueStore } from './queue.store.ts';

const doctorParams = z.strictObject({ doctorId: uuid });

export function queueRoutes(ctx: AppContext): Route[] {
  const store = new QueueStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) }, appointmentStore(ctx));
  const channel = ctx.queue;
  return [
    defineRoute({
      method: 'get',
      path: '/api/queue/{doctorId}',
      tag: 'queue',
      summary: "Today's current call and how many are waiting",
      permission: 'queue:watch',
      params: doctorParams,
      handler: ({ params }) => store.queueState(params.doctorId),
    }),
    defineRoute({
      method: 'post',
      path: '/api/queue/{doctorId}/next',
      tag: 'queue',
      summary: 'Call the next patient (urgent first, then token order); a doctor: their own queue',
      permission: 'queue:call',
      params: doctorParams,
      async handler({ req, params }) {
        const day = localNow().date;
        const { call, appointmentId } = await store.callNext(actorOf(req), params.doctorId, day);
        channel.publish(call);
        const { waiting } = await store.queueState(params.doctorId, day);
        return { call, appointmentId, waiting };
      },
    }),
  ];
}
