/**
 * A gateway cluster for failover tests: `burrow serve --store redis://`
 * processes (the CLI run from source; this package does not depend on it)
 * and Debian's haproxy in front of them.
 *
 *   const gw = await burrowServe(['--store', redis.url]);
 *   const lb = await startHaproxy([gw.port, …]);   // ws://127.0.0.1:${lb.port}/v1
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { connectTcp, freePort, makeTempDir, onCleanup, removeDir, waitFor } from '@burrow/testkit';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');

export interface ServeProcess {
  readonly child: ChildProcess;
  /** Its HTTP/WebSocket port (mailbox at /v1, GET /health). */
  readonly port: number;
  /** Its TCP transit relay port. */
  readonly transitPort: number;
  readonly exited: Promise<void>;
  output(): string;
}

/** A child process that is killed at clean-up; `ready` decides from its output when it is up. */
async function daemon(command: string, args: string[], what: string, ready: (output: string) => boolean | Promise<boolean>): Promise<{ child: ChildProcess; exited: Promise<void>; output: () => string }> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-16_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const unregister = onCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  void exited.then(unregister);
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}:\n${output}`);
      return await ready(output);
    },
    { message: `${what} to start`, timeoutMs: 20_000, fatal: (e) => String(e).includes(' exited ') },
  );
  return { child, exited, output: () => output };
}

/** `burrow serve --port P --transit-port Q ...args`, resolved once it prints its banner. */
export async function burrowServe(args: string[]): Promise<ServeProcess> {
  const port = await freePort();
  const transitPort = await freePort();
  const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const argv = ['--conditions=source', '--import', tsx, join(ROOT, 'packages/cli/src/main.ts'), 'serve', '--port', String(port), '--transit-port', String(transitPort), ...args];
  const d = await daemon(process.execPath, argv, 'burrow serve', (out) => out.includes('metrics'));
  return { child: d.child, port, transitPort, exited: d.exited, output: d.output };
}

export interface Haproxy {
  /** The port clients connect to. */
  readonly port: number;
  /** The TCP transit relay port (with `transit` backends). */
  readonly transitPort?: number;
  /** A second mailbox port that sends no PROXY header (with `plain`). */
  readonly plainPort?: number;
  /** The configuration it runs. */
  readonly config: string;
}

export interface HaproxyOptions {
  /** Put a PROXY protocol header in front of every connection to the backends (`send-proxy` / `send-proxy-v2`). */
  readonly sendProxy?: 'v1' | 'v2';
  /** Also balance TCP transit relays: `[transit port, its HTTP port for the health check]` per backend. */
  readonly transit?: readonly (readonly [number, number])[];
  /** Also a mailbox frontend whose backends get no PROXY header (to compare). */
  readonly plain?: boolean;
}

/**
 * Debian's haproxy in TCP mode on a free loopback port, round robin over
 * `backends` (loopback ports), each health-checked with GET /health every
 * 250 ms (down after 2 failures); a connection a dead backend refuses is
 * sent to another (`option redispatch`).
 */
export async function startHaproxy(backends: readonly number[], options: HaproxyOptions = {}): Promise<Haproxy> {
  const port = await freePort();
  const transitPort = options.transit ? await freePort() : undefined;
  const plainPort = options.plain ? await freePort() : undefined;
  const proxy = options.sendProxy === 'v2' ? ' send-proxy-v2' : options.sendProxy === 'v1' ? ' send-proxy' : '';
  const checked = ['  option httpchk GET /health', '  http-check expect status 200', '  default-server inter 250ms fall 2 rise 2'];
  const dir = makeTempDir('burrow-haproxy-');
  onCleanup(() => removeDir(dir));
  const config = [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 120s',
    '  timeout server 120s',
    '  retries 3',
    '  option redispatch',
    'frontend mailbox',
    `  bind 127.0.0.1:${port}`,
    '  default_backend gateways',
    'backend gateways',
    '  balance roundrobin',
    ...checked,
    ...backends.map((p, i) => `  server gw${i + 1} 127.0.0.1:${p} check${proxy}`),
    ...(transitPort !== undefined
      ? ['frontend transit', `  bind 127.0.0.1:${transitPort}`, '  default_backend relays', 'backend relays', '  balance roundrobin', ...checked,
         ...options.transit!.map(([t, h], i) => `  server gw${i + 1} 127.0.0.1:${t} check port ${h}${proxy}`)]
      : []),
    ...(plainPort !== undefined
      ? ['frontend plain', `  bind 127.0.0.1:${plainPort}`, '  default_backend plain', 'backend plain', '  balance roundrobin', ...checked,
         ...backends.map((p, i) => `  server gw${i + 1} 127.0.0.1:${p} check`)]
      : []),
    '',
  ].join('\n');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  // haproxy prints nothing when it is up: it is up once its port answers.
  await daemon('haproxy', ['-db', '-f', file], 'haproxy', async () => {
    const socket = await connectTcp(port).catch(() => undefined);
    socket?.destroy();
    return socket !== undefined;
  });
  return { port, config, ...(transitPort !== undefined ? { transitPort } : {}), ...(plainPort !== undefined ? { plainPort } : {}) };
}
