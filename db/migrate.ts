// Numbered, append-only SQL migrations, applied at start inside one transaction each, under an
// advisory lock (two servers starting at once apply each migration exactly once).
// `NNN_name.sql` runs everywhere; `NNN_name.timescale.sql` or `NNN_name.plain.sql` follows it
// depending on whether TimescaleDB is available.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Driver } from './driver.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const LOCK_KEY = 0x77617264; // 'ward'

export interface Capabilities {
  /** `vitals` is a hypertable with the `vitals_1m` continuous aggregate. */
  timescale: boolean;
}

interface Migration {
  version: number;
  name: string;
  common: string;
  timescale?: string;
  plain?: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const byVersion = new Map<number, Migration>();
  for (const file of readdirSync(dir).sort()) {
    const m = /^(\d{3})_([a-z0-9_]+)(?:\.(timescale|plain))?\.sql$/.exec(file);
    if (!m) continue;
    const version = Number(m[1]);
    const sql = readFileSync(dir + file, 'utf8');
    const entry = byVersion.get(version) ?? { version, name: m[2]!, common: '' };
    // Two branches that each took the next number would otherwise merge into one entry, the
    // second file silently replacing the first: refuse to start instead.
    if (entry.name !== m[2]) throw new Error(`two migrations numbered ${m[1]}: ${m[1]}_${entry.name} and ${file}; renumber one`);
    if (m[3] === 'timescale') entry.timescale = sql;
    else if (m[3] === 'plain') entry.plain = sql;
    else entry.common = sql;
    byVersion.set(version, entry);
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

/** Try to enable TimescaleDB; false when the server does not have it (plain PostgreSQL). */
async function enableTimescale(db: Driver, log: Logger): Promise<boolean> {
  if (db.kind === 'postgres') {
    const { rows } = await db.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'`);
    if (rows.length === 0) return false;
  }
  try {
    await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
    return true;
  } catch (err) {
    // Installed but not preloaded (shared_preload_libraries), or no privilege: run without it.
    log.warn({ err: (err as Error).message }, 'timescaledb is available but could not be enabled; using plain PostgreSQL');
    return false;
  }
}

export async function migrate(db: Driver, log: Logger): Promise<Capabilities> {
  const timescaleAvailable = await enableTimescale(db, log);
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    flavour text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  for (const m of loadMigrations()) {
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      const { rows } = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (rows.length > 0) return;
      const flavour = timescaleAvailable && m.timescale !== undefined ? 'timescale' : 'plain';
      // Multi-statement scripts go through the simple-query protocol (no parameters).
      await tx.exec(m.common);
      const extra = flavour === 'timescale' ? m.timescale : m.plain;
      if (extra) await tx.exec(extra);
      await tx.query('INSERT INTO schema_migrations (version, name, flavour) VALUES ($1, $2, $3)', [m.version, m.name, flavour]);
      log.info({ version: m.version, name: m.name, flavour }, 'migration applied');
    });
  }
  return detectCapabilities(db);
}

export async function detectCapabilities(db: Driver): Promise<Capabilities> {
  try {
    const { rows } = await db.query(
      `SELECT 1 FROM timescaledb_information.continuous_aggregates WHERE view_name = 'vitals_1m'`,
    );
    return { timescale: rows.length > 0 };
  } catch {
    return { timescale: false };
  }
}
