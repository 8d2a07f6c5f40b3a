import { defineConfig } from 'vitest/config';

// The end-to-end suite: real browsers (and Electron, when its binary is there) driving the real
// built renderer against real processes. One file at a time: each starts processes and a browser,
// and a 2-core machine runs them best in turn. Waits are on UI state, never fixed sleeps, so the
// long timeouts only bound a hang; they are not how long anything takes.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    // Builds the runtime and the renderer first, so the suite never tests a stale out/ folder.
    globalSetup: ['test/e2e/build.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
