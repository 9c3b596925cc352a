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
  /** False while the embedded worker restarts after a crash, or after it was given up (never for node-postgres, whose pool reconnects). */
  available(): boolean;
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
    available: () => true,
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

export interface PgliteOptions {
  /** Restarts allowed within `restartWindowMs` before the database is given up (default 3 in 10 min). */
  maxRestarts?: number;
  restartWindowMs?: number;
  /**
   * The worker cannot be brought back (it crashed too often, or reopening failed): every query
   * fails from now on. The process should exit for its supervisor to restart it (main.ts does).
   */
  onFatal?: (err: Error) => void;
}

/** The embedded driver, with what tests and operators may ask of its worker. */
export interface PgliteDriver extends Driver {
  readonly kind: 'pglite';
  /** Times the worker was restarted after a crash. */
  readonly restarts: number;
  /** Tests only: end the worker thread the way a crash would (no close, no flush). */
  crashWorkerForTest(): Promise<void>;
}

/**
 * A crashed worker (a WASM abort, an out-of-memory, an uncaught error: its thread ends) is never a
 * silently dead database (docs/decisions/0024): queries in flight fail with a transient error (the
 * batch writers keep their rows and retry), queries during the restart fail the same way, and a
 * new worker reopens the same data directory (PostgreSQL's crash recovery replays its WAL) and
 * loads TimescaleDB again. More than `maxRestarts` crashes within `restartWindowMs`, or a reopen
 * that fails, is fatal: `onFatal` is called and the driver stays unavailable.
 */
export async function createPgliteDriver(dataDir: string, log: Logger, opts: PgliteOptions = {}): Promise<PgliteDriver> {
  mkdirSync(dataDir, { recursive: true });
  const maxRestarts = opts.maxRestarts ?? 3;
  const restartWindowMs = opts.restartWindowMs ?? 10 * 60_000;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let worker!: Worker;
  /** Bumped for each worker: a transaction begun on one worker must not continue on the next. */
  let generation = 0;
  let state: 'up' | 'restarting' | 'failed' | 'closed' = 'up';
  let fatal: Error | null = null;
  const restartedAt: number[] = [];
  let restarts = 0;

  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const send = <T>(w: Worker, msg: Record<string, unknown>): Promise<T> => {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage({ ...msg, id });
    });
  };

  /** A new worker on the data directory, opened (TimescaleDB loaded); rejects if it cannot open. */
  const spawn = (): Promise<void> => {
    const w = new Worker(new URL('./pglite-worker.mjs', import.meta.url));
    const gen = ++generation;
    worker = w;
    let lostOnce = false;
    const lost = (why: string, err?: Error) => {
      if (lostOnce || gen !== generation) return;
      lostOnce = true;
      failAll(new DbError(`embedded database worker ${why}`));
      if (state === 'closed') return;
      log.error({ err, why }, 'embedded database worker lost');
      // While restarting, the open below fails and the restart loop decides.
      if (state === 'up') void restart(new Error(`embedded database worker ${why}`));
    };
    w.on('message', (msg: WorkerReply) => {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new DbError(msg.error?.message ?? 'pglite error', msg.error?.code, msg.error?.detail, msg.error?.constraint));
    });
    w.on('error', (err) => lost(`crashed: ${err.message}`, err));
    w.on('exit', (code) => lost(`exited (${code})`));
    return send<void>(w, { op: 'open', dataDir });
  };

  const giveUp = (err: Error) => {
    state = 'failed';
    fatal = new DbError(`embedded database unavailable: ${err.message}`);
    log.fatal({ err: err.message, restarts }, 'embedded database worker cannot be restarted; the database is unavailable');
    void worker.terminate().catch(() => undefined);
    opts.onFatal?.(fatal);
  };

  const restart = async (reason: Error): Promise<void> => {
    state = 'restarting';
    for (;;) {
      const now = Date.now();
      while (restartedAt.length > 0 && now - restartedAt[0]! > restartWindowMs) restartedAt.shift();
      if (restartedAt.length >= maxRestarts) return giveUp(new Error(`${reason.message}; ${restartedAt.length} restart(s) within ${Math.round(restartWindowMs / 1000)} s already`));
      restartedAt.push(now);
      restarts++;
      const started = Date.now();
      try {
        await spawn();
        if ((state as string) === 'closed') return;
        state = 'up';
        log.warn({ restarts, ms: Date.now() - started }, 'embedded database worker restarted on the same data directory');
        return;
      } catch (err) {
        if ((state as string) === 'closed') return;
        reason = err as Error;
        log.error({ err: reason.message }, 'embedded database worker did not reopen');
        await worker.terminate().catch(() => undefined);
      }
    }
  };

  const unavailable = () => (state === 'failed' ? fatal! : new DbError(state === 'closed' ? 'embedded database closed' : 'embedded database restarting after a worker crash'));
  /** `gen`: the worker a transaction began on; a call for an older one fails (its BEGIN is gone). */
  const call = <T>(msg: Record<string, unknown>, gen?: number): Promise<T> => {
    if (state !== 'up') return Promise.reject(unavailable());
    if (gen !== undefined && gen !== generation) return Promise.reject(new DbError('embedded database worker restarted during the transaction'));
    return send<T>(worker, msg);
  };

  // PGlite is a single connection: serialise everything, and hold the lock for a transaction.
  let tail: Promise<unknown> = Promise.resolve();
  const locked = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
  const rawQuery = <T>(sql: string, params?: unknown[], gen?: number) => call<QueryResult<T>>({ op: 'query', sql, params: params ?? [] }, gen);

  await spawn();
  return {
    kind: 'pglite',
    get restarts() {
      return restarts;
    },
    available: () => state === 'up',
    query: (sql, params) => locked(() => rawQuery(sql, params)),
    exec: (sql) => locked(() => call<void>({ op: 'exec', sql })),
    transaction: (fn) =>
      locked(async () => {
        const gen = generation;
        await rawQuery('BEGIN', [], gen);
        try {
          const result = await fn({ query: (sql, params) => rawQuery(sql, params, gen), exec: (sql) => call<void>({ op: 'exec', sql }, gen) });
          await rawQuery('COMMIT', [], gen);
          return result;
        } catch (err) {
          await rawQuery('ROLLBACK', [], gen).catch(() => undefined);
          throw err;
        }
      }),
    crashWorkerForTest: async () => {
      await worker.terminate();
    },
    close: async () => {
      const was = state;
      state = 'closed';
      if (was === 'up') await locked(() => send<void>(worker, { op: 'close' })).catch(() => undefined);
      await worker.terminate();
    },
  };
}
