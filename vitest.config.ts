import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The local models use both cores; running test files one at a time keeps timings honest and memory low.
    fileParallelism: false,
  },
});
