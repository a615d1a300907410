import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { connectTcp, freePort } from './net.js';
import {
  makeTempDir,
  onCleanup,
  pythonEnv,
  removeDir,
  spawnTracked,
  tailFile,
  terminate,
  waitFor,
} from './process.js';

const TWISTD = 'twistd3';

export interface MailboxServerOptions {
  /** Listen port (default: a free one). */
  port?: number;
  /** `--advertise-version`: welcome.current_cli_version. */
  advertiseVersion?: string;
  /** `--signal-error`: welcome.error, every client fails with it. */
  signalError?: string;
  /** `--disallow-list`: refuse `list`. */
  disallowList?: boolean;
  /** Record usage into `usage.sqlite` in the server's dir. */
  usageDb?: boolean;
  /**
   * `--websocket-protocol-option=OPTION=VALUE` entries (VALUE is JSON), e.g.
   * `allowNullOrigin=true`: by default the server refuses `Origin: null`
   * (about:blank, file:, data: pages); http://127.0.0.1 pages are fine.
   */
  websocketProtocolOptions?: string[];
  /** Deadline for the server to answer with `welcome` (default 20 s). */
  startTimeoutMs?: number;
}

export interface MailboxServer {
  /** `ws://127.0.0.1:P/v1` */
  readonly url: string;
  readonly port: number;
  /** Working dir: holds `relay.sqlite` (kept across restart) and `mailbox.log`. */
  readonly dir: string;
  readonly logFile: string;
  /** The `welcome` body the server sent to the readiness probe. */
  readonly welcome: Record<string, unknown>;
  /** Current process id (changes on restart). */
  readonly pid: number | undefined;
  /** Kill, then start again on the same port with the same database. */
  restart(): Promise<void>;
  /** Kill the server without starting it again (use `start()` to resume). */
  kill(): Promise<void>;
  /** Start it again after `kill()`. */
  start(): Promise<void>;
  /** Kill and remove the working dir (kept if BURROW_TESTKIT_KEEP=1). */
  stop(): Promise<void>;
  /** The server log so far (for failure messages). */
  log(): string;
}

/** Connect to a mailbox URL and resolve with the `welcome` body. */
export function probeMailbox(url: string, timeoutMs = 2_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no welcome from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      ws.terminate();
      reject(err);
    };
    ws.once('error', fail);
    ws.once('close', () => fail(new Error(`${url} closed before welcome`)));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return;
      }
      if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'welcome') {
        clearTimeout(timer);
        ws.removeAllListeners('close');
        ws.close();
        const body = (msg as { welcome?: unknown }).welcome;
        resolve(typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {});
      }
    });
  });
}

/**
 * Start Debian's magic-wormhole mailbox server (`twistd3 wormhole-mailbox`)
 * on 127.0.0.1, and wait until it answers a WebSocket with `welcome`.
 */
export async function startMailboxServer(opts: MailboxServerOptions = {}): Promise<MailboxServer> {
  const port = opts.port ?? (await freePort());
  const dir = makeTempDir('burrow-mailbox-');
  const logFile = join(dir, 'mailbox.log');
  const url = `ws://127.0.0.1:${port}/v1`;
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;

  const args = [
    '-n',
    '--pidfile=',
    'wormhole-mailbox',
    `--port=tcp:${port}:interface=127.0.0.1`,
    `--channel-db=${join(dir, 'relay.sqlite')}`,
  ];
  if (opts.usageDb) args.push(`--usage-db=${join(dir, 'usage.sqlite')}`);
  if (opts.advertiseVersion !== undefined) args.push(`--advertise-version=${opts.advertiseVersion}`);
  if (opts.signalError !== undefined) args.push(`--signal-error=${opts.signalError}`);
  if (opts.disallowList) args.push('--disallow-list');
  for (const o of opts.websocketProtocolOptions ?? []) args.push(`--websocket-protocol-option=${o}`);

  let child: ChildProcess | undefined;
  let welcome: Record<string, unknown> = {};

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const fd = openSync(logFile, 'a');
    const proc = spawnTracked(TWISTD, args, { cwd: dir, env: pythonEnv(), stdio: ['ignore', fd, fd] });
    closeSync(fd);
    child = proc;
    let spawnError: Error | undefined;
    proc.once('error', (err) => (spawnError = err));
    welcome = await waitFor(
      async () => {
        if (spawnError) throw new Fatal(`cannot run ${TWISTD}: ${spawnError.message}`);
        if (proc.exitCode !== null || proc.signalCode !== null) {
          throw new Fatal(`mailbox server exited (${proc.exitCode ?? proc.signalCode})`);
        }
        return probeMailbox(url, 1_000);
      },
      { timeoutMs: startTimeoutMs, intervalMs: 100, message: `mailbox server on ${url}`, fatal: isFatal },
    ).catch(async (err: unknown) => {
      await terminate(proc, 2_000);
      throw new Error(`${(err as Error).message}\n--- ${logFile} ---\n${tailFile(logFile)}`);
    });
  };

  const kill = async (): Promise<void> => {
    if (child) await terminate(child);
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    unregister();
    await kill();
    removeDir(dir);
  };
  const unregister = onCleanup(stop);

  try {
    await start();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url,
    port,
    dir,
    logFile,
    get welcome() {
      return welcome;
    },
    get pid() {
      return child?.pid;
    },
    restart: async () => {
      await kill();
      await start();
    },
    kill,
    start,
    stop,
    log: () => tailFile(logFile, 1_000_000),
  };
}

export interface TransitRelayOptions {
  port?: number;
  /** Record usage into `usage.sqlite` in the relay's dir. */
  usageDb?: boolean;
  startTimeoutMs?: number;
}

export interface TransitRelay {
  /** `tcp:127.0.0.1:P`, for `--transit-helper` or a relay hint. */
  readonly hint: string;
  readonly port: number;
  readonly dir: string;
  readonly logFile: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
  log(): string;
}

/** Send a deliberately bad handshake and wait for the relay's `bad handshake` line. */
async function probeTransitRelay(port: number, timeoutMs = 1_000): Promise<true> {
  const socket = await connectTcp(port, '127.0.0.1', timeoutMs);
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('transit relay did not answer'));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('\n')) {
        clearTimeout(timer);
        socket.destroy();
        if (buf.startsWith('bad handshake')) resolve(true);
        else reject(new Error(`unexpected relay answer ${JSON.stringify(buf)}`));
      }
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // Shorter than any handshake and ends in \n: the relay answers
    // "bad handshake\n" and closes, logging a clean "errory" usage record.
    socket.write('burrow-testkit-probe\n');
  });
}

/**
 * Start Debian's transit relay (`twistd3 transitrelay`, TCP only) on
 * 127.0.0.1 and wait until it answers.
 */
export async function startTransitRelay(opts: TransitRelayOptions = {}): Promise<TransitRelay> {
  const port = opts.port ?? (await freePort());
  const dir = makeTempDir('burrow-relay-');
  const logFile = join(dir, 'relay.log');
  const args = ['-n', '--pidfile=', 'transitrelay', `--port=tcp:${port}:interface=127.0.0.1`];
  if (opts.usageDb) args.push(`--usage-db=${join(dir, 'usage.sqlite')}`);

  const fd = openSync(logFile, 'a');
  const child = spawnTracked(TWISTD, args, { cwd: dir, env: pythonEnv(), stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    unregister();
    await terminate(child);
    removeDir(dir);
  };
  const unregister = onCleanup(stop);

  try {
    await waitFor(
      async () => {
        if (spawnError) throw new Fatal(`cannot run ${TWISTD}: ${spawnError.message}`);
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Fatal(`transit relay exited (${child.exitCode ?? child.signalCode})`);
        }
        return probeTransitRelay(port);
      },
      {
        timeoutMs: opts.startTimeoutMs ?? 20_000,
        intervalMs: 100,
        message: `transit relay on 127.0.0.1:${port}`,
        fatal: isFatal,
      },
    );
  } catch (err) {
    const log = tailFile(logFile);
    await stop();
    throw new Error(`${(err as Error).message}\n--- relay log ---\n${log}`);
  }

  return {
    hint: `tcp:127.0.0.1:${port}`,
    port,
    dir,
    logFile,
    get pid() {
      return child.pid;
    },
    stop,
    log: () => tailFile(logFile, 1_000_000),
  };
}

/** An error that should end a `waitFor` poll at once. */
class Fatal extends Error {}
const isFatal = (err: unknown): boolean => err instanceof Fatal;
