#!/usr/bin/env node
// The `burrow` command: the bundled build in ../dist (`pnpm --filter @burrow/cli build`
// when working from a clone; `pnpm burrow` runs the TypeScript source instead).
import module from 'node:module';

// Node ≥ 22.1 caches compiled code between runs; on Node 20 this is a no-op.
module.enableCompileCache?.();
const { run } = await import('../dist/main.js');
run();
