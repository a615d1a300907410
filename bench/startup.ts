/**
 * Issue 18: how fast the `burrow` command starts. `burrow --help` from the
 * built, bundled bin (what `npm i -g` installs) against `wormhole --help`
 * (the Debian CLI) in the same run, interleaved, median of repeated spawns.
 * For reference also the development path (`pnpm burrow`: the TypeScript
 * source through tsx). Needs `pnpm build` (packages/cli/dist).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wormholeBin } from '@burrow/testkit';
import { median, report, type Sample } from './lib.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'packages', 'cli', 'bin', 'burrow.js');
const RUNS = 15;

interface Command {
  name: string;
  argv: [string, ...string[]];
}

function spawnMs({ argv: [cmd, ...args] }: Command): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

export function startupBench(): Promise<void> {
  if (!existsSync(join(ROOT, 'packages', 'cli', 'dist', 'main.js'))) throw new Error('packages/cli/dist is missing: run `pnpm build` first');
  const commands: Command[] = [
    { name: 'wormhole --help', argv: [wormholeBin(), '--help'] },
    { name: 'burrow --help (built bin)', argv: [process.execPath, BIN, '--help'] },
    { name: 'burrow --version (built bin)', argv: [process.execPath, BIN, '--version'] },
    { name: 'burrow --help (source via tsx)', argv: [process.execPath, '--conditions=source', '--import', 'tsx', join(ROOT, 'packages/cli/src/main.ts'), '--help'] },
  ];
  const times = new Map(commands.map((c) => [c.name, [] as number[]]));
  for (const c of commands) spawnMs(c); // warm the page cache
  // Interleaved, so load from other processes on the machine hits every command alike.
  for (let i = 0; i < RUNS; i++) for (const c of commands) times.get(c.name)!.push(spawnMs(c));
  const samples: Sample[] = commands.map((c) => ({ name: c.name, values: times.get(c.name)!, unit: 'ms' }));
  report(`start-up: ${RUNS} spawns each, interleaved`, samples, 'wormhole --help');
  const ratio = median(times.get('burrow --help (built bin)')!) / median(times.get('wormhole --help')!);
  console.log(`burrow --help / wormhole --help start-up time: ${ratio.toFixed(2)}× (goal ≤ 1.00×)`);
  return Promise.resolve();
}
