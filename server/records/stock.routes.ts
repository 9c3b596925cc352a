// Stock movements (the items themselves are the generic resource at /api/stock): receive,
// dispense, adjust; low-stock and near-expiry lists; an item's movement history. Declared before
// the generic item routes (app.ts), so '/api/stock/low' is never read as an item id. Storage and
// audit: stock.store.ts.
import { z } from 'zod';
import { actorOf, type AppContext } from '../http/context.ts';
import { paging } from '../http/validate.ts';
import { defineRoute, type Route } from '../http/route.ts';
import { StockStore, type MovementKind } from './stock.store.ts';

const note = z.string().trim().min(1).max(500);
const receiveBody = z.strictObject({ quantity: z.number().int().min(1).max(1_000_000), reference: note.optional(), reason: note.optional() });
const dispenseBody = receiveBody;
const adjustBody = z.strictObject({
  quantity: z.number().int().min(-1_000_000).max(1_000_000).refine((n) => n !== 0, { message: 'must not be zero' }),
  reason: note,
  reference: note.optional(),
});
const expiringQuery = z.strictObject({ days: z.coerce.number().int().min(0).max(3650).default(30), ...paging });
const pageQuery = z.strictObject({ ...paging });

export function stockRoutes(ctx: AppContext): Route[] {
  const store = new StockStore({ db: ctx.db.driver, audit: (e) => ctx.audit(e) });

  const movement = (kind: MovementKind, schema: typeof receiveBody | typeof adjustBody, summary: string) =>
    defineRoute({
      method: 'post',
      path: `/api/stock/{id}/${kind}`,
      tag: 'stock',
      summary,
      permission: 'stock:manage',
      body: schema,
      handler({ req, params, body }) {
        const b = body as z.infer<typeof adjustBody>;
        return store.move(actorOf(req), { itemId: params.id, delta: kind === 'dispense' ? -b.quantity : b.quantity, kind, reason: b.reason, reference: b.reference });
      },
    });

  return [
    defineRoute({
      method: 'get',
      path: '/api/stock/low',
      tag: 'stock',
      summary: 'Items at or below their reorder level',
      permission: 'stock:read',
      query: pageQuery,
      async handler({ query }) {
        return { items: await store.low(query.limit, query.offset), limit: query.limit, offset: query.offset };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/stock/expiring',
      tag: 'stock',
      summary: 'Items in stock expiring within `days` (default 30), expired ones included',
      permission: 'stock:read',
      query: expiringQuery,
      async handler({ query }) {
        return { items: await store.expiring(query.days, query.limit, query.offset), days: query.days, limit: query.limit, offset: query.offset };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/stock/{id}/movements',
      tag: 'stock',
      summary: "An item's movements, newest first",
      permission: 'stock:read',
      query: pageQuery,
      async handler({ params, query }) {
        return { items: await store.movements(params.id, query.limit, query.offset), limit: query.limit, offset: query.offset };
      },
    }),
    movement('receive', receiveBody, 'Receive stock (+quantity)'),
    movement('dispense', dispenseBody, 'Dispense stock (−quantity); 409 when not enough is left'),
    movement('adjust', adjustBody, 'Adjust stock (±quantity, reason required); never below zero'),
  ];
}
