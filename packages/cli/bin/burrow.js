#!/usr/bin/env node
// The `burrow` command (built: run `pnpm -r build` first when working from a clone).
import { run } from '../dist/main.js';

run();
