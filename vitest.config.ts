import { configDefaults, defineConfig } from 'vitest/config';

// The fault-injection suite (test/faults) takes minutes: `npm run test:faults` runs it alone
// (`vitest run --dir test/faults`); the default run leaves it out.
const faults = process.argv.some((a) => a.replace(/\\/g, '/').replace(/\/$/, '').endsWith('test/faults'));

export default defineConfig({
  test: {
    include: faults ? ['**/*.test.ts'] : ['test/**/*.test.ts'],
    exclude: faults ? configDefaults.exclude : [...configDefaults.exclude, 'test/faults/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration files start real servers and databases: two at a time fits the 2-core box.
    maxWorkers: 2,
    pool: 'forks',
    reporters: ['default'],
  },
});
