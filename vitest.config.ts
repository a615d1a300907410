import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources: the `source` export condition
// points every @burrow/* import at src/ so no build is needed first.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['packages/*/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'interop', include: ['packages/*/interop/**/*.test.ts'], fileParallelism: false } },
      { extends: true, test: { name: 'browser', include: ['e2e/**/*.test.ts'], fileParallelism: false } },
    ],
  },
});
