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
      // The layers run one after another (groupOrder), not at once: the
      // interop and browser tests carry timing-sensitive peers (ICE, DTLS, the
      // Debian CLI's timeouts) that a busy 2-core machine would starve.
      { extends: true, test: { name: 'unit', include: ['packages/*/test/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'interop', include: ['packages/*/interop/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'browser', include: ['e2e/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 2 } } },
    ],
  },
});
