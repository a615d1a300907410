import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every child the testkit spawned and that has not exited yet. */
const children = new Set<ChildProcess>();
/** Async clean-ups (browsers, temp dirs) run by `cleanup()`. */
const disposers = new Set<() => Promise<void> | void>();

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Synchronous last resort: whatever is still alive when the test process
  // exits is killed, so nothing leaks into the next run.
  process.on('exit', () => {
    for (const child of children) killTree(child, 'SIGKILL');
  });
}

/**
 * Kill a tracked child. Children are spawned as their own process group
 * (`detached`), so this reaches anything they forked too.
 */
export function killTree(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

let pdeathsig: boolean | undefined;
/** util-linux `setpriv --pdeathsig` kills the child if this process dies hard (SIGKILL). */
function havePdeathsig(): boolean {
  if (pdeathsig === undefined) {
    const r = spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' });
    pdeathsig = r.status === 0;
  }
  return pdeathsig;
}

/** Environment for Debian's Python tools: no pyenv/venv leaking in. */
export function pythonEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['PYTHONPATH'];
  delete env['PYTHONHOME'];
  delete env['VIRTUAL_ENV'];
  return {
    ...env,
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    LANG: env['LANG'] && /utf-?8/i.test(env['LANG']) ? env['LANG'] : 'C.UTF-8',
    ...extra,
  };
}

/**
 * Spawn a tracked child: its own process group, killed when the test process
 * exits (and, where util-linux allows, when it dies without running exit
 * handlers).
 */
export function spawnTracked(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  hookExit();
  const [cmd, argv] = havePdeathsig()
    ? ['setpriv', ['--pdeathsig', 'KILL', '--', command, ...args]]
    : [command, [...args]];
  const child = spawn(cmd, argv, { ...options, detached: true });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  return child;
}

/** Resolve when the child has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function terminate(child: ChildProcess, graceMs = 5_000): Promise<void> {
  const done = exited(child);
  killTree(child, 'SIGTERM');
  const timer = setTimeout(() => killTree(child, 'SIGKILL'), graceMs);
  try {
    await done;
  } finally {
    clearTimeout(timer);
  }
}

/** Register an async clean-up for `cleanup()`; returns the unregister function. */
export function onCleanup(fn: () => Promise<void> | void): () => void {
  disposers.add(fn);
  return () => disposers.delete(fn);
}

/**
 * Stop everything the testkit started in this process: registered
 * clean-ups (servers, browsers) first, then any remaining children.
 * Call from `afterAll` when a test file wants a tidy end; exit does it anyway.
 */
export async function cleanup(): Promise<void> {
  const fns = [...disposers];
  disposers.clear();
  await Promise.allSettled(fns.map(async (fn) => fn()));
  await Promise.allSettled([...children].map((child) => terminate(child, 2_000)));
}

/** A fresh temporary directory. */
export function makeTempDir(prefix = 'burrow-testkit-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Remove a directory unless BURROW_TESTKIT_KEEP=1 (then keep it for debugging). */
export function removeDir(dir: string): void {
  if (process.env['BURROW_TESTKIT_KEEP'] === '1') return;
  rmSync(dir, { recursive: true, force: true });
}

/** The last `maxChars` characters of a file, or '' if unreadable. */
export function tailFile(path: string, maxChars = 4_000): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.length > maxChars ? `…${text.slice(-maxChars)}` : text;
  } catch {
    return '';
  }
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Included in the timeout error. */
  message?: string;
  /** Errors from `check` for which this returns true end the wait at once. */
  fatal?: (err: unknown) => boolean;
}

/**
 * Poll `check` until it returns something other than undefined/false, or
 * throw after `timeoutMs`. Errors thrown by `check` count as "not yet"; the
 * last one is reported on timeout.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 10_000, intervalMs = 50, message = 'condition', fatal }: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (fatal?.(err)) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Reject with a labelled error if `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, label = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
