import { defineConfig } from 'vitest/config';

// The slow files: real processes killed at random, trainings, the app with a real engine, CLI runs.
// `npm run test:unit` runs the others (under a minute on 2 cores); `npm test` runs both.
const SLOW = ['adapt', 'app', 'baselines', 'cluster', 'engine', 'export', 'onnx', 'package', 'predict-cli', 'real-terminal', 'retrain', 'store', 'store-cli', 'train'].map(
  (n) => `test/${n}.test.{ts,tsx}`,
);

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // tfjs keeps global engine state: one fork per file keeps backends apart.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.{ts,tsx}'], exclude: SLOW } },
      { extends: true, test: { name: 'slow', include: SLOW } },
    ],
  },
});
