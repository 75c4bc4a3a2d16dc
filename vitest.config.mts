import { defineConfig } from 'vitest/config';

// Cluster tests start real member processes; give them room, and run files in
// parallel only as far as a 2-core machine sensibly allows.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
