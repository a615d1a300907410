// `burrow` (packages/cli/src/main.ts through tsx) as a child process for the
// CLI interop tests: its code, its stdout (and `--json` lines), its exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const MAIN = join(ROOT, 'packages/cli/src/main.ts');
// Absolute, because the CLI runs in temporary folders where `tsx` does not resolve.
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

export interface Run {
  child: ChildProcess;
  stderr(): string;
  /** The `--json` lines printed so far. */
  events(): Record<string, unknown>[];
  /** Resolves with the first `--json` line that `match` accepts (rejects if burrow exits first). */
  waitForEvent(match: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  code: Promise<string>;
  done: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

const children = new Set<ChildProcess>();

/** SIGKILL every burrow still running (afterAll). */
export function killBurrows(): void {
  for (const c of children) c.kill('SIGKILL');
}

export function runBurrow(args: string[], cwd: string, stdin?: string, env?: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, MAIN, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  children.add(child);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    wake();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    wake();
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  const done = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((res) =>
    child.once('close', (exitCode, signal) => {
      children.delete(child);
      res({ exitCode, signal, stdout: out, stderr: err });
      wake();
    }),
  );
  let exited = false;
  void done.then(() => (exited = true));
  const events = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{') && l.endsWith('}'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const until = <T>(find: () => T | undefined, what: string): Promise<T> =>
    new Promise<T>((res, rej) => {
      const check = () => {
        const hit = find();
        if (hit !== undefined) {
          waiters.delete(check);
          res(hit);
        } else if (exited) {
          waiters.delete(check);
          rej(new Error(`burrow exited before ${what}:\n${err}`));
        }
      };
      waiters.add(check);
      check();
    });
  const code = until(() => /Wormhole code is: (\S+)/.exec(err)?.[1], 'printing a code');
  code.catch(() => undefined); // awaited by the test that uses it
  return { child, stderr: () => err, events, code, done, waitForEvent: (match) => until(() => events().find(match), 'the expected --json line') };
}
