// Small SQL building blocks every store uses, written once: the API's time text, a WHERE clause
// built from optional filters with numbered parameters, and a page with its total.
import type { Queryable, Row } from './driver.ts';

/** A timestamptz (a Date from either driver, or text) as the API's ISO 8601 UTC text; null stays null. */
export function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return (v instanceof Date ? v : new Date(v as string)).toISOString();
}

/** Like iso, for a NOT NULL column. */
export const isoAt = (v: unknown): string => iso(v)!;

/**
 * Numbered parameters and AND-ed conditions. `add('status = ?', status)` appends one condition
 * per call whose `?` marks are replaced by the next $n; `when(value, …)` only when the value is
 * defined, so optional filters read as one line each.
 */
export class Where {
  readonly params: unknown[] = [];
  private readonly conds: string[] = [];

  constructor(params: unknown[] = []) {
    this.params.push(...params);
  }

  /** The next parameter's placeholder, for SQL outside the WHERE (LIMIT, ORDER BY …). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(cond: string, ...values: unknown[]): this {
    let i = 0;
    this.conds.push(cond.replace(/\?/g, () => this.param(values[i++])));
    return this;
  }

  when(value: unknown, cond: string): this {
    return value === undefined || value === null ? this : this.add(cond, value);
  }

  /** 'WHERE a AND b', or '' when there is no condition. */
  toString(): string {
    return this.conds.length ? `WHERE ${this.conds.join(' AND ')}` : '';
  }
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/**
 * One page of `SELECT columns FROM from WHERE … ORDER BY orderBy` with the total of all matching
 * rows, counted by the same statement (`count(*) OVER ()`): one round trip, and the total agrees
 * with the rows. (A page past the end has no row to carry the total: it reports 0.)
 */
export async function page<T>(
  db: Queryable,
  q: { columns: string; from: string; where?: Where; orderBy: string; limit: number; offset: number },
  map: (row: Row) => T,
): Promise<Page<T>> {
  const where = q.where ?? new Where();
  const { rows } = await db.query<Row>(
    `SELECT ${q.columns}, count(*) OVER ()::int AS __total FROM ${q.from} ${where}
     ORDER BY ${q.orderBy} LIMIT ${where.param(q.limit)} OFFSET ${where.param(q.offset)}`,
    where.params,
  );
  return { items: rows.map(map), total: Number(rows[0]?.__total ?? 0), limit: q.limit, offset: q.offset };
}
