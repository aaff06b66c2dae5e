import { defineConfig } from 'vitest/config';

/** Suites that start no server, process or model: they run side by side. */
const PURE = ['test/authorization-signer.test.ts', 'test/catalog.test.ts', 'test/poll-schedule.test.ts', 'test/image-inputs.test.ts', 'test/tasks-store.test.ts', 'test/payments-ledger.test.ts', 'test/tool-listing.test.ts', 'test/configuration-docs.test.ts', 'test/docs-links.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'pure', include: PURE, fileParallelism: true } },
      // The local models use both cores, and some suites measure memory or time: one file at a time keeps those honest.
      { extends: true, test: { name: 'servers', include: ['test/**/*.test.ts'], exclude: PURE, fileParallelism: false } },
    ],
  },
});
