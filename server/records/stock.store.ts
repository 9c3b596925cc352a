// Stock storage: movements (receive, dispense, adjust) that never take an item below zero, the
// low and expiring lists, an item's movement history. The items themselves are the generic
// resource (stockItemSpec): read through its Repository and mapped by its one mapping (fromRow).
import type { Queryable } from '../../db/driver.ts';
import { isoAt } from '../../db/rows.ts';
import { Errors, fail } from '../errors.ts';
import { Repository, auditEntry, fromRow, type Actor, type RepoDeps } from './repository.ts';
import { stockItemSpec } from './specs.ts';

export type MovementKind = 'receive' | 'dispense' | 'adjust';

export type StockItem = {
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
};

export type Movement = {
  id: number;
  itemId: string;
  kind: MovementKind;
  quantity: number;
  reason: string | null;
  reference: string | null;
  actorId: string | null;
  at: string;
};

export type StockMove = { itemId: string; delta: number; kind: MovementKind; reason?: string | null; reference?: string | null; actorId: string | null };

const ITEM_COLS = Object.values(stockItemSpec.fields)
  .map((f) => f.column)
  .join(', ');
const toItem = (r: Record<string, unknown>) => fromRow(stockItemSpec, r) as StockItem;

const toMovement = (r: Record<string, unknown>): Movement => ({
  id: r.id as number,
  itemId: r.item_id as string,
  kind: r.kind as MovementKind,
  quantity: r.quantity as number,
  reason: (r.reason as string | null) ?? null,
  reference: (r.reference as string | null) ?? null,
  actorId: (r.actor_id as string | null) ?? null,
  at: isoAt(r.at),
});

export class StockStore {
  readonly items: Repository<StockItem>;

  constructor(private readonly deps: RepoDeps) {
    this.items = new Repository<StockItem>(stockItemSpec, deps);
  }

  /** Current items at or below their reorder level, the furthest below first. */
  async low(limit: number, offset: number): Promise<StockItem[]> {
    const { rows } = await this.deps.db.query(
      `SELECT ${ITEM_COLS} FROM stock_items WHERE archived_at IS NULL AND quantity <= reorder_level
       ORDER BY quantity - reorder_level, item_name, id LIMIT $1 OFFSET $2`,
      [limit, offset],
    );
    return rows.map(toItem);
  }

  /** Current items in stock expiring within `days` from today, expired ones included and flagged; soonest first. */
  async expiring(days: number, limit: number, offset: number): Promise<(StockItem & { expired: boolean })[]> {
    const { rows } = await this.deps.db.query(
      `SELECT ${ITEM_COLS}, expiry_date < current_date AS expired FROM stock_items
       WHERE archived_at IS NULL AND quantity > 0 AND expiry_date IS NOT NULL AND expiry_date <= current_date + $1::int
       ORDER BY expiry_date, item_name, id LIMIT $2 OFFSET $3`,
      [days, limit, offset],
    );
    return rows.map((row) => ({ ...toItem(row), expired: row.expired === true }));
  }

  /** An item's movements, newest first; 404 for an unknown item. */
  async movements(itemId: string, limit: number, offset: number): Promise<Movement[]> {
    if (!(await this.items.find(itemId))) throw Errors.notFound('stock item', itemId);
    const { rows } = await this.deps.db.query('SELECT * FROM stock_movements WHERE item_id = $1 ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3', [itemId, limit, offset]);
    return rows.map(toMovement);
  }

  /**
   * Change an item's quantity by `delta` and record the movement, inside the caller's transaction.
   * The guard is in the UPDATE itself (`quantity + delta >= 0`), so concurrent dispenses serialise
   * on the row lock and each re-checks the quantity it finds: stock never goes below zero (the
   * CHECK constraint backs it). Throws ERR_NOT_FOUND, ERR_ARCHIVED, or ERR_STOCK_SHORT naming what is left.
   */
  async moveIn(tx: Queryable, m: StockMove): Promise<{ item: StockItem; movement: Movement }> {
    const { rows } = await tx.query(
      `UPDATE stock_items SET quantity = quantity + $2 WHERE id = $1 AND archived_at IS NULL AND quantity + $2 >= 0 RETURNING ${ITEM_COLS}`,
      [m.itemId, m.delta],
    );
    if (!rows[0]) {
      const f = await this.items.find(m.itemId, tx);
      if (!f) throw Errors.notFound('stock item', m.itemId);
      if (f.archivedAt) throw fail('ERR_ARCHIVED', `stock item '${f.itemName}' is archived`);
      throw fail('ERR_STOCK_SHORT', `not enough '${f.itemName}': only ${f.quantity} ${f.unit} left, ${-m.delta} asked`, {
        itemId: m.itemId,
        itemName: f.itemName,
        available: f.quantity,
        requested: -m.delta,
      });
    }
    const mv = await tx.query(
      `INSERT INTO stock_movements (item_id, kind, quantity, reason, reference, actor_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [m.itemId, m.kind, m.delta, m.reason ?? null, m.reference ?? null, m.actorId],
    );
    return { item: toItem(rows[0]), movement: toMovement(mv.rows[0]!) };
  }

  /** The ids among `ids` that name no stock item. */
  async missing(ids: readonly string[], db: Queryable = this.deps.db): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await db.query<{ id: string }>('SELECT id FROM stock_items WHERE id = ANY($1::uuid[])', [ids]);
    return ids.filter((id) => !rows.some((row) => row.id === id));
  }

  /** One movement in its own transaction, audited. */
  async move(actor: Actor, m: Omit<StockMove, 'actorId'>): Promise<{ item: StockItem; movement: Movement }> {
    const out = await this.deps.db.transaction((tx) => this.moveIn(tx, { ...m, actorId: actor.user.id }));
    this.deps.audit(auditEntry(actor, m.kind, 'stock item', m.itemId, null, { quantity: m.delta, left: out.item.quantity, reason: m.reason ?? null }));
    return out;
  }
}
