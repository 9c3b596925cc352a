// Stock movements (the items themselves are the generic resource at /api/stock): receive,
// dispense, adjust; low-stock and near-expiry lists; an item's movement history.
// Mounted before the generic router, so '/low' is never read as an item id; each route
// authenticates itself, so a request falling through to the generic router is verified once.
import { Router } from 'express';
import { z } from 'zod';
import type { Queryable } from '../../db/driver.ts';
import { type AppContext, allow, auditOf, authenticate, handler } from '../http/context.ts';
import { idParam, paging, parse } from '../http/validate.ts';
import { describeRoute } from '../http/openapi.ts';
import { Errors, fail } from '../errors.ts';

export type MovementKind = 'receive' | 'dispense' | 'adjust';

export interface StockItem {
  id: string;
  itemName: string;
  unit: string;
  batch: string | null;
  expiryDate: string | null;
  quantity: number;
  reorderLevel: number;
  unitPrice: number;
  createdAt: string;
  archivedAt: string | null;
}

export interface Movement {
  id: number;
  itemId: string;
  kind: MovementKind;
  quantity: number;
  reason: string | null;
  reference: string | null;
  actorId: string | null;
  at: string;
}

// expiry_date as text: node-postgres turns a date into a local-midnight Date, which can shift a day.
const ITEM_COLS = `id, item_name, unit, batch, expiry_date::text AS expiry_date, quantity, reorder_level, unit_price, created_at, archived_at`;
const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());

export const toStockItem = (r: Record<string, unknown>): StockItem => ({
  id: r.id as string,
  itemName: r.item_name as string,
  unit: r.unit as string,
  batch: (r.batch as string | null) ?? null,
  expiryDate: (r.expiry_date as string | null) ?? null,
  quantity: Number(r.quantity),
  reorderLevel: Number(r.reorder_level),
  unitPrice: Number(r.unit_price),
  createdAt: iso(r.created_at)!,
  archivedAt: iso(r.archived_at),
});

const toMovement = (r: Record<string, unknown>): Movement => ({
  id: Number(r.id),
  itemId: r.item_id as string,
  kind: r.kind as MovementKind,
  quantity: Number(r.quantity),
  reason: (r.reason as string | null) ?? null,
  reference: (r.reference as string | null) ?? null,
  actorId: (r.actor_id as string | null) ?? null,
  at: iso(r.at)!,
});

/**
 * Change an item's quantity by `delta` and record the movement, inside the caller's transaction.
 * The guard is in the UPDATE itself (`quantity + delta >= 0`), so concurrent dispenses serialise
 * on the row lock and each re-checks the quantity it finds: stock never goes below zero (the
 * CHECK constraint backs it). Throws ERR_NOT_FOUND, or ERR_CONFLICT naming what is left.
 */
export async function moveStock(
  tx: Queryable,
  m: { itemId: string; delta: number; kind: MovementKind; reason?: string | null; reference?: string | null; actorId: string | null },
): Promise<{ item: StockItem; movement: Movement }> {
  const { rows } = await tx.query(
    `UPDATE stock_items SET quantity = quantity + $2 WHERE id = $1 AND archived_at IS NULL AND quantity + $2 >= 0 RETURNING ${ITEM_COLS}`,
    [m.itemId, m.delta],
  );
  if (!rows[0]) {
    const { rows: found } = await tx.query<{ item_name: string; quantity: number; unit: string; archived_at: unknown }>(
      'SELECT item_name, quantity, unit, archived_at FROM stock_items WHERE id = $1',
      [m.itemId],
    );
    const f = found[0];
    if (!f) throw Errors.notFound('stock item', m.itemId);
    if (f.archived_at) throw Errors.conflict(`stock item '${f.item_name}' is archived`);
    const available = Number(f.quantity);
    throw fail('ERR_STOCK_SHORT', `not enough '${f.item_name}': only ${available} ${f.unit} left, ${-m.delta} asked`, {
      itemId: m.itemId,
      itemName: f.item_name,
      available,
      requested: -m.delta,
    });
  }
  const mv = await tx.query(
    `INSERT INTO stock_movements (item_id, kind, quantity, reason, reference, actor_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
    [m.itemId, m.kind, m.delta, m.reason ?? null, m.reference ?? null, m.actorId],
  );
  return { item: toStockItem(rows[0]), movement: toMovement(mv.rows[0]!) };
}

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

export function stockRoutes(ctx: AppContext): Router {
  const r = Router();
  const read = [authenticate(ctx), allow('stock:read')];
  const manage = [authenticate(ctx), allow('stock:manage')];

  describeRoute({ method: 'get', path: '/api/stock/low', tag: 'stock', summary: 'Items at or below their reorder level', permission: 'stock:read', query: pageQuery });
  r.get(
    '/low',
    ...read,
    handler(async (req, res) => {
      const q = parse(pageQuery, req.query, 'query');
      const { rows } = await ctx.db.driver.query(
        `SELECT ${ITEM_COLS} FROM stock_items WHERE archived_at IS NULL AND quantity <= reorder_level
         ORDER BY quantity - reorder_level, item_name, id LIMIT $1 OFFSET $2`,
        [q.limit, q.offset],
      );
      res.json({ items: rows.map(toStockItem), limit: q.limit, offset: q.offset });
    }),
  );

  describeRoute({ method: 'get', path: '/api/stock/expiring', tag: 'stock', summary: 'Items in stock expiring within `days` (default 30), expired ones included', permission: 'stock:read', query: expiringQuery });
  r.get(
    '/expiring',
    ...read,
    handler(async (req, res) => {
      const q = parse(expiringQuery, req.query, 'query');
      const { rows } = await ctx.db.driver.query(
        `SELECT ${ITEM_COLS}, expiry_date < current_date AS expired FROM stock_items
         WHERE archived_at IS NULL AND quantity > 0 AND expiry_date IS NOT NULL AND expiry_date <= current_date + $1::int
         ORDER BY expiry_date, item_name, id LIMIT $2 OFFSET $3`,
        [q.days, q.limit, q.offset],
      );
      res.json({ items: rows.map((row) => ({ ...toStockItem(row), expired: row.expired === true })), days: q.days, limit: q.limit, offset: q.offset });
    }),
  );

  describeRoute({ method: 'get', path: '/api/stock/{id}/movements', tag: 'stock', summary: "An item's movements, newest first", permission: 'stock:read', query: pageQuery });
  r.get(
    '/:id/movements',
    ...read,
    handler(async (req, res) => {
      const id = idParam(req.params.id);
      const q = parse(pageQuery, req.query, 'query');
      const exists = await ctx.db.driver.query('SELECT 1 FROM stock_items WHERE id = $1', [id]);
      if (!exists.rows[0]) throw Errors.notFound('stock item', id);
      const { rows } = await ctx.db.driver.query(
        'SELECT * FROM stock_movements WHERE item_id = $1 ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3',
        [id, q.limit, q.offset],
      );
      res.json({ items: rows.map(toMovement), limit: q.limit, offset: q.offset });
    }),
  );

  const movement = (kind: MovementKind, schema: typeof receiveBody | typeof adjustBody, summary: string) => {
    describeRoute({ method: 'post', path: `/api/stock/{id}/${kind}`, tag: 'stock', summary, permission: 'stock:manage', body: schema });
    r.post(
      `/:id/${kind}`,
      ...manage,
      handler(async (req, res) => {
        const id = idParam(req.params.id);
        const body = parse(schema, req.body, 'body') as z.infer<typeof adjustBody>;
        const delta = kind === 'dispense' ? -body.quantity : body.quantity;
        const out = await ctx.db.driver.transaction((tx) =>
          moveStock(tx, { itemId: id, delta, kind, reason: body.reason, reference: body.reference, actorId: req.user!.id }),
        );
        ctx.audit(auditOf(req, kind, 'stock item', id, null, { quantity: delta, left: out.item.quantity, reason: body.reason ?? null }));
        res.json(out);
      }),
    );
  };
  movement('receive', receiveBody, 'Receive stock (+quantity)');
  movement('dispense', dispenseBody, 'Dispense stock (−quantity); 409 when not enough is left');
  movement('adjust', adjustBody, 'Adjust stock (±quantity, reason required); never below zero');
  return r;
}
