// Two drivers behind one small interface: node-postgres for a real server (DATABASE_URL), and
// the embedded PGlite + TimescaleDB (in a worker thread) otherwise. Nothing above db/ knows which.
import { Worker } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import type { Logger } from 'pino';

export type Row = Record<string, unknown>;

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Row>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** Run a multi-statement script without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Driver extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Run `fn` inside one transaction; rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class DbError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly detail?: string,
    /** The constraint a refusal names (23505, 23503, 23514, 23P01): matched by name, never by message. */
    readonly constraint?: string,
  ) {
    super(message);
    this.name = 'DbError';
  }
}

// ---------------------------------------------------------------- node-postgres

// Driver differences normalised here, once, identically in both drivers (the PGlite worker sets
// the same parsers): int8 and numeric as numbers (counters and money in minor units … never
// beyond 2^53), a date as its 'YYYY-MM-DD' text (node-postgres would make a local-midnight Date,
// which can shift a day), json/jsonb parsed, timestamptz as a Date (rows.ts `iso` turns it into
// the API's ISO 8601 text).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export function createPgDriver(url: string, log: Logger, poolSize = 4): Driver {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
  // An idle client losing its server (database restart) must not crash the process.
  pool.on('error', (err) => log.warn({ err: err.message }, 'postgres idle client error'));
  const wrap = async <T>(q: () => Promise<pg.QueryResult>): Promise<QueryResult<T>> => {
    try {
      const res = await q();
      // A multi-statement script answers with one result per statement: keep the last.
      const r = Array.isArray(res) ? (res[res.length - 1] as pg.QueryResult) : res;
      return { rows: (r?.rows ?? []) as T[], rowCount: r?.rowCount ?? r?.rows?.length ?? 0 };
    } catch (err) {
      const e = err as { message: string; code?: string; detail?: string; constraint?: string };
      throw new DbError(e.message, e.code, e.detail, e.constraint);
    }
  };
  return {
    kind: 'postgres',
    query: (sql, params) => wrap(() => pool.query(sql, params as unknown[])),
    exec: async (sql) => {
      await wrap(() => pool.query(sql));
    },
    async transaction(fn) {
      const client = await pool.connect().catch((e: Error) => {
        throw new DbError(e.message);
      });
      try {
        await client.query('BEGIN');
        const result = await fn({
          query: (sql, params) => wrap(() => client.query(sql, params as unknown[])),
          exec: async (sql) => {
            await wrap(() => client.query(sql));
          },
        });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

// ---------------------------------------------------------------- PGlite in a worker thread

interface WorkerReply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { message: string; code?: string; detail?: string; constraint?: string };
}

export async function createPgliteDriver(dataDir: string, log: Logger): Promise<Driver> {
  mkdirSync(dataDir, { recursive: true });
  const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let dead: Error | null = null;
  worker.on('message', (msg: WorkerReply) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new DbError(msg.error?.message ?? 'pglite error', msg.error?.code, msg.error?.detail, msg.error?.constraint));
  });
  const failAll = (err: Error) => {
    dead = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('error', (err) => {
    log.error({ err }, 'pglite worker crashed');
    failAll(new DbError(`embedded database worker crashed: ${err.message}`));
  });
  worker.on('exit', (code) => failAll(new DbError(`embedded database worker exited (${code})`)));

  const call = <T>(msg: Record<string, unknown>): Promise<T> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...msg, id });
    });
  };

  // PGlite is a single connection: serialise everything, and hold the lock for a transaction.
  let tail: Promise<unknown> = Promise.resolve();
  const locked = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
  const rawQuery = <T>(sql: string, params?: unknown[]) =>
    call<QueryResult<T>>({ op: 'query', sql, params: params ?? [] });

  await call({ op: 'open', dataDir });
  return {
    kind: 'pglite',
    query: (sql, params) => locked(() => rawQuery(sql, params)),
    exec: (sql) => locked(() => call<void>({ op: 'exec', sql })),
    transaction: (fn) =>
      locked(async () => {
        await rawQuery('BEGIN');
        try {
          const result = await fn({ query: rawQuery, exec: (sql) => call<void>({ op: 'exec', sql }) });
          await rawQuery('COMMIT');
          return result;
        } catch (err) {
          await rawQuery('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }),
    close: async () => {
      if (!dead) await locked(() => call<void>({ op: 'close' })).catch(() => undefined);
      await worker.terminate();
    },
  };
}
