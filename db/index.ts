// createDb: pick the driver, migrate, apply TimescaleDB policies, run the embedded database's
// maintenance (PGlite has no background workers, so its policy jobs are run from here).
import type { Logger } from 'pino';
import { createPgDriver, createPgliteDriver, type Driver } from './driver.ts';
import { migrate, type Capabilities } from './migrate.ts';

export interface DbOptions {
  databaseUrl?: string;
  dataDir: string;
  compressAfter: string;
  retainFor: string;
  /** How often to run TimescaleDB jobs ourselves on the embedded database. */
  maintenanceMs?: number;
}

export interface Database {
  driver: Driver;
  caps: Capabilities;
  /** True while the last probe reached the database. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export async function createDb(opts: DbOptions, log: Logger): Promise<Database> {
  const driver = opts.databaseUrl
    ? createPgDriver(opts.databaseUrl, log)
    : await createPgliteDriver(`${opts.dataDir}/pglite`, log);
  const caps = await migrate(driver, log);
  if (caps.timescale) await applyPolicies(driver, opts, log);
  log.info({ driver: driver.kind, timescale: caps.timescale }, 'database ready');

  let timer: NodeJS.Timeout | null = null;
  if (caps.timescale && driver.kind === 'pglite') {
    const runJobs = async () => {
      try {
        const { rows } = await driver.query<{ job_id: number }>(
          `SELECT job_id FROM timescaledb_information.jobs WHERE proc_name IN
             ('policy_refresh_continuous_aggregate', 'policy_compression', 'policy_retention')`,
        );
        for (const r of rows) await driver.exec(`CALL run_job(${Number(r.job_id)})`);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'embedded database maintenance failed');
      }
    };
    timer = setInterval(() => void runJobs(), opts.maintenanceMs ?? 60_000);
    timer.unref();
  }

  return {
    driver,
    caps,
    async ready() {
      try {
        await driver.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (timer) clearInterval(timer);
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
