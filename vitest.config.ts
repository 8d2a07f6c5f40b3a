import { defineConfig } from 'vitest/config';

/**
 * Tests that change the machine for everyone (the kernel's next pid, to make a pid come round):
 * they run alone, after every other file, so no other test's run is handed a pid it just freed.
 */
const ALONE = ['test/integration/forged-peers.test.ts'];

export default defineConfig({
  test: {
    // Integration tests start real processes: give them room on a 2-core machine, never fixed sleeps.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
          exclude: ALONE,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
