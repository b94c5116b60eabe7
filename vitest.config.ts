import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'test/perf/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Simulated boards run WebAssembly interpreters in worker threads; keep parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});
