import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration files start real servers and databases: two at a time fits the 2-core box.
    maxWorkers: 2,
    pool: 'forks',
    reporters: ['default'],
  },
});
