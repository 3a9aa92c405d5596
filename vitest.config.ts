import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // tfjs keeps global engine state: one fork per file keeps backends apart.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
