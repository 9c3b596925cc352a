// createDb: pick the driver, migrate, apply TimescaleDB policies, run the embedded database's
// maintenance (PGlite has no background workers, so its policy jobs are run from here).
import type { Logger } from 'pino';
import { createPgDriver, createPgliteDriver, type Driver } from './driver.ts';
import { migrate, type Capabilities } from './migrate.ts';
import { pruneIngestErrors } from './vitals-store.ts';

export interface DbOptions {
  databaseUrl?: string;
  dataDir: string;
  compressAfter: string;
  retainFor: string;
  /** How often to run TimescaleDB jobs ourselves on the embedded database. */
  maintenanceMs?: number;
  /** Retention of `ingest_errors` and `ingest_refusals` (an interval, or 'off'). */
  ingestErrorsRetainFor?: string;
  /** How often that retention runs (default hourly; also once at start). */
  pruneMs?: number;
  /** The embedded database's worker crashed too often or cannot reopen (db/driver.ts): exit for a supervisor. */
  onFatal?: (err: Error) => void;
}

export interface Database {
  driver: Driver;
  caps: Capabilities;
  /** True when a probe reaches the database now (false at once while the embedded worker restarts). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export async function createDb(opts: DbOptions, log: Logger): Promise<Database> {
  const driver = opts.databaseUrl
    ? createPgDriver(opts.databaseUrl, log)
    : await createPgliteDriver(`${opts.dataDir}/pglite`, log, { onFatal: opts.onFatal });
  const caps = await migrate(driver, log);
  if (caps.timescale) await applyPolicies(driver, opts, log);
  log.info({ driver: driver.kind, timescale: caps.timescale }, 'database ready');

  let timer: NodeJS.Timeout | null = null;
  if (caps.timescale && driver.kind === 'pglite') {
    const runJobs = async () => {
      try {
        const { rows } = await driver.query<{ job_id: number; proc_name: string }>(
          `SELECT job_id, proc_name FROM timescaledb_information.jobs WHERE proc_name IN
             ('policy_refresh_continuous_aggregate', 'policy_compression', 'policy_retention')`,
        );
        for (const r of rows) {
          const started = performance.now();
          await driver.exec(`CALL run_job(${Number(r.job_id)})`);
          const ms = Math.round(performance.now() - started);
          // Writes wait behind a job on the embedded database (one worker): say when one is long.
          if (ms >= 500) log.warn({ job: r.proc_name, ms }, 'embedded database job held the database');
          else log.debug({ job: r.proc_name, ms }, 'embedded database job');
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'embedded database maintenance failed');
      }
    };
    // Once now, before any load: the first run of a job pays a one-off cost (the first refresh
    // of the continuous aggregate took ~2 s under load in the soak), which would otherwise hold
    // the writes a minute after start.
    const t0 = performance.now();
    await runJobs();
    log.debug({ ms: Math.round(performance.now() - t0) }, 'embedded database jobs run once at start');
    timer = setInterval(() => void runJobs(), opts.maintenanceMs ?? 60_000);
    timer.unref();
  }

  // ingest_errors is no hypertable (it has a serial key), so its retention is a periodic DELETE on
  // every database; the refusal counts go with it. The audit log has no retention.
  let pruneTimer: NodeJS.Timeout | null = null;
  const retainFor = opts.ingestErrorsRetainFor;
  if (retainFor && retainFor !== 'off') {
    const prune = async () => {
      try {
        const n = await pruneIngestErrors(driver, retainFor);
        if (n > 0) log.info({ rows: n, retainFor }, 'old ingest errors deleted');
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'ingest error retention failed (retried at the next run)');
      }
    };
    void prune();
    pruneTimer = setInterval(() => void prune(), opts.pruneMs ?? 3600_000);
    pruneTimer.unref();
  }

  return {
    driver,
    caps,
    async ready() {
      // A restarting or given-up embedded worker is not ready, without waiting on a probe.
      if (!driver.available()) return false;
      try {
        await driver.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (timer) clearInterval(timer);
      if (pruneTimer) clearInterval(pruneTimer);
      await driver.close();
    },
  };
}

/** Compression and retention policies from configuration; 'off' removes a policy. */
async function applyPolicies(db: Driver, opts: DbOptions, log: Logger): Promise<void> {
  await db.exec(`SELECT remove_compression_policy('vitals', if_exists => true)`);
  if (opts.compressAfter !== 'off') {
    await db.query(`SELECT add_compression_policy('vitals', $1::interval)`, [opts.compressAfter]);
  }
  await db.exec(`SELECT remove_retention_policy('vitals', if_exists => true)`);
  await db.exec(`SELECT remove_retention_policy('scores', if_exists => true)`);
  if (opts.retainFor !== 'off') {
    await db.query(`SELECT add_retention_policy('vitals', $1::interval)`, [opts.retainFor]);
    await db.query(`SELECT add_retention_policy('scores', $1::interval)`, [opts.retainFor]);
  }
  log.info({ compressAfter: opts.compressAfter, retainFor: opts.retainFor }, 'timescaledb policies applied');
}

export type { Driver, Capabilities };
