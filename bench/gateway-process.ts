/**
 * The gateway under benchmark in a child Node process of its own, so its RSS
 * and CPU time are its own; and reading a process's RSS and CPU time from /proc.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deferred, type Deferred } from '@burrow/protocol';
import { onCleanup, withTimeout } from '@burrow/testkit';
import type { GatewayOptions } from '@burrow/gateway';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
// Run with --conditions=source (pnpm bench): the gateway's TypeScript entry.
const GATEWAY_ENTRY = import.meta.resolve('@burrow/gateway');

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

let clockTicks: number | undefined;
/** User + system CPU time of a process so far, in ms. */
export function cpuMs(pid: number): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** The gateway in a child Node process, so its RSS and CPU time are its own. */
export interface GatewayProcess {
  readonly pid: number;
  readonly url: string;
  readonly relayUrl: string;
  readonly transitPort: number;
  /** Run a full garbage collection in the gateway process. */
  gc(): Promise<void>;
  stop(): Promise<void>;
}

// Reads commands on stdin ("gc"); closes the gateway and exits when stdin ends.
const CHILD_SCRIPT = `
import { createInterface } from 'node:readline';
const { startGateway } = await import(process.env.BURROW_BENCH_GATEWAY_ENTRY);
const gw = await startGateway(JSON.parse(process.env.BURROW_BENCH_GATEWAY_OPTIONS));
process.stdout.write(JSON.stringify({ url: gw.url, relayUrl: gw.relayUrl, transitPort: gw.transitPort }) + '\\n');
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'gc') { globalThis.gc(); globalThis.gc(); process.stdout.write('gc\\n'); }
});
lines.on('close', () => { gw.close().finally(() => process.exit(0)); });
`;

/**
 * Start the gateway with `options` in a child process; resolves once it
 * listens. `fileLimit`: start it under `ulimit -n N` (`'hard'`: the hard
 * limit), as an operator raises the limit for many connections.
 */
export async function startGatewayProcess(options: GatewayOptions, { fileLimit }: { fileLimit?: number | 'hard' } = {}): Promise<GatewayProcess> {
  const node = [process.execPath, '--expose-gc', '--conditions=source', '--import', TSX, '--input-type=module', '-e', CHILD_SCRIPT];
  const limit = fileLimit === 'hard' ? '$(ulimit -Hn)' : String(fileLimit);
  const [command, ...args] = fileLimit === undefined ? node : ['/bin/sh', '-c', `ulimit -n ${limit} && exec "$@"`, 'sh', ...node];
  const child: ChildProcess = spawn(
    command!,
    args,
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {
        ...process.env,
        BURROW_BENCH_GATEWAY_ENTRY: GATEWAY_ENTRY,
        BURROW_BENCH_GATEWAY_OPTIONS: JSON.stringify(options),
      },
    },
  );
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const unregister = onCleanup(kill);

  const lines: string[] = [];
  let waiter: Deferred<string> | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w.resolve(line);
    } else lines.push(line);
  });
  const failed = new Promise<never>((_, rej) => {
    child.once('error', rej);
    child.once('exit', (code, signal) => rej(new Error(`gateway process exited (${code ?? signal})`)));
  });
  failed.catch(() => { /* awaited below; only keeps an early rejection from being unhandled */ });
  const nextLine = (label: string): Promise<string> => {
    const queued = lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    waiter = deferred<string>();
    return withTimeout(Promise.race([waiter.promise, failed]), 30_000, label);
  };

  let info: { url: string; relayUrl: string; transitPort: number };
  try {
    info = JSON.parse(await nextLine('gateway start-up')) as typeof info;
  } catch (err) {
    kill();
    unregister();
    throw err;
  }
  return {
    pid: child.pid!,
    ...info,
    gc: async () => {
      child.stdin!.write('gc\n');
      const line = await nextLine('gateway gc');
      if (line !== 'gc') throw new Error(`unexpected line from the gateway process: ${line}`);
    },
    stop: async () => {
      unregister();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      const timer = setTimeout(kill, 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
