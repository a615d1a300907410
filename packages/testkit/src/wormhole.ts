import { existsSync } from 'node:fs';
import { assertPrivateNetwork, isLoopbackHost } from './net.js';
import { killTree, pythonEnv, spawnTracked } from './process.js';

/** The Debian magic-wormhole 0.12 CLI (override with BURROW_WORMHOLE_BIN). */
export function wormholeBin(): string {
  const fromEnv = process.env['BURROW_WORMHOLE_BIN'];
  if (fromEnv) return fromEnv;
  return existsSync('/usr/bin/wormhole') ? '/usr/bin/wormhole' : 'wormhole';
}

export interface RunWormholeOptions {
  /** Mailbox URL, e.g. `ws://127.0.0.1:P/v1` (must be loopback). */
  relayUrl: string;
  /** `tcp:127.0.0.1:P` (must be loopback). Without it the CLI offers its public default relay. */
  transitHelper?: string;
  /** `--appid` */
  appid?: string;
  cwd?: string;
  /** Extra environment, merged over a clean Python environment. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed. Omit to keep stdin open for `write()`/`end()`. */
  stdin?: string;
  /** Deadline for `code` (default 20 s). */
  codeTimeoutMs?: number;
  /** Deadline for the whole run (default 45 s); then the CLI is killed and `result` rejects. */
  timeoutMs?: number;
}

export interface WormholeResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface WormholeProcess {
  /** The code from "Wormhole code is: …" (senders); rejects if the CLI exits or times out first. */
  readonly code: Promise<string>;
  /** Resolves when the CLI exits, whatever the exit code; rejects on timeout or spawn failure. */
  readonly result: Promise<WormholeResult>;
  readonly pid: number | undefined;
  /** The full command line, for messages. */
  readonly command: string[];
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Wait until stdout+stderr match `pattern` (default 20 s). */
  waitForOutput(pattern: RegExp | string, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Write to the CLI's stdin (only when `stdin` was not given). */
  write(text: string): void;
  /** Close stdin, optionally writing `text` first. */
  end(text?: string): void;
  kill(signal?: NodeJS.Signals): void;
}

function checkLoopbackUrl(what: string, value: string, parse: (v: string) => string): void {
  let host: string;
  try {
    host = parse(value);
  } catch {
    throw new Error(`runWormhole: cannot parse ${what} ${JSON.stringify(value)}`);
  }
  if (!isLoopbackHost(host)) throw new Error(`runWormhole: ${what} must be a loopback address, got ${value}`);
}

const CODE_RE = /Wormhole code is: (\S+)/;

/**
 * Run the Debian `wormhole` CLI: `wormhole --relay-url URL [--transit-helper
 * H] [--appid A] ARGS…`. ARGS start with the subcommand (`send`, `receive`).
 *
 * Without a TTY the CLI prints its code and progress on stderr and received
 * text on stdout; it reads from stdin whatever it would ask a person (a
 * missing receive code, "ok? (Y/n)" for files without `--accept-file`,
 * `--verify`, the text for a bare `send`), and exits 1 at EOF.
 */
export function runWormhole(args: readonly string[], opts: RunWormholeOptions): WormholeProcess {
  assertPrivateNetwork();
  checkLoopbackUrl('relayUrl', opts.relayUrl, (v) => new URL(v).hostname);
  const top = ['--relay-url', opts.relayUrl];
  if (opts.transitHelper !== undefined) {
    checkLoopbackUrl('transitHelper', opts.transitHelper, (v) => {
      const m = /^tcp:(\[[^\]]+\]|[^:]+):\d+$/.exec(v);
      if (!m?.[1]) throw new Error('bad hint');
      return m[1];
    });
    top.push('--transit-helper', opts.transitHelper);
  }
  if (opts.appid !== undefined) top.push('--appid', opts.appid);
  const bin = wormholeBin();
  const argv = [...top, ...args];
  const command = [bin, ...argv];

  const child = spawnTracked(bin, argv, {
    cwd: opts.cwd ?? process.cwd(),
    env: pythonEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });

  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...watchers]) w();
  };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    notify();
  });
  // The CLI may exit before reading stdin; that is not our error.
  child.stdin?.on('error', () => { /* EPIPE when the CLI exits before reading its input: the exit code tells */ });
  if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);

  const describe = (): string =>
    `${command.join(' ')}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;

  let finished = false;
  const timeoutMs = opts.timeoutMs ?? 45_000;
  const result = new Promise<WormholeResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      killTree(child, 'SIGKILL');
      reject(new Error(`wormhole did not finish within ${timeoutMs} ms: ${describe()}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      finished = true;
      notify();
      reject(new Error(`cannot run ${bin}: ${err.message}`));
    });
    // 'close' (not 'exit') so all output has been read.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      finished = true;
      notify();
      resolve({ exitCode: code, signal, stdout, stderr });
    });
  });
  result.catch(() => { /* awaited by the caller; only keeps an early rejection from being unhandled */ });

  const waitForOutput = (pattern: RegExp | string, timeoutMs = 20_000): Promise<RegExpMatchArray> => {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        watchers.delete(check);
      };
      const check = (): void => {
        const m = re.exec(stderr) ?? re.exec(stdout);
        if (m) {
          done();
          resolve(m);
        } else if (finished) {
          done();
          reject(new Error(`wormhole exited without printing ${re}: ${describe()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`wormhole did not print ${re} within ${timeoutMs} ms: ${describe()}`));
      }, timeoutMs);
      watchers.add(check);
      check();
    });
  };

  const code = waitForOutput(CODE_RE, opts.codeTimeoutMs ?? 20_000).then((m) => m[1] as string);
  code.catch(() => { /* awaited by the caller; only keeps an early rejection from being unhandled */ });

  return {
    code,
    result,
    get pid() {
      return child.pid;
    },
    command,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForOutput,
    write(text: string) {
      if (opts.stdin !== undefined) throw new Error('runWormhole: stdin was given up front and is closed');
      child.stdin?.write(text);
    },
    end(text?: string) {
      if (opts.stdin !== undefined) return;
      if (text === undefined) child.stdin?.end();
      else child.stdin?.end(text);
    },
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      killTree(child, signal);
    },
  };
}
