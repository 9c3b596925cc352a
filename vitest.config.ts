import { defineConfig } from 'vitest/config';

// One Vitest project per kind of test (`vitest run --project <name>`):
// - unit: pure logic, no I/O; web: the dashboard's components in happy-dom;
// - int: real servers, MQTT and Socket.IO clients, both database drivers;
// - e2e: the dashboard in headless Chromium against a real server;
// - faults: fault injection (kills, floods, slow clients) — minutes; `npm run test:faults`;
// - cluster: a 3-node cluster killed node by node — minutes; `npm run test:cluster`.
// `npm test` runs the first four; `.ci/run` runs `npm test`, then the faults and the cluster.
// Only the projects that need PostgreSQL start it (test/helpers/global-setup.ts: inject('pgUrl')).
const withPostgres = ['test/helpers/global-setup.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration files start real servers and databases: two at a time fits the 2-core box.
    maxWorkers: 2,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'web', include: ['test/web/**/*.test.ts'] } },
      { extends: true, test: { name: 'int', include: ['test/int/**/*.test.ts'], globalSetup: withPostgres } },
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'] } },
      { extends: true, test: { name: 'faults', include: ['test/faults/**/*.test.ts'], globalSetup: withPostgres } },
      // NATS ×3, Redis, HAProxy and WardPulse ×3 as processes (Debian packages): `npm run test:cluster`.
      { extends: true, test: { name: 'cluster', include: ['test/cluster/**/*.test.ts'], globalSetup: withPostgres, testTimeout: 300_000, hookTimeout: 300_000, maxWorkers: 1 } },
    ],
  },
});
