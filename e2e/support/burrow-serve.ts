/**
 * `burrow serve` from source in a child process, every port chosen by the
 * system (`--port 0 --transit-port 0`, plus the caller's flags); resolves
 * with what its banner announces.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { waitFor } from '@burrow/testkit';
import { repoPath } from './static-server.js';

export interface BurrowServe {
  /** The mailbox, ws://127.0.0.1:P/v1 */
  readonly url: string;
  /** The HTTP side, http://127.0.0.1:P (health, metrics, webtransport) */
  readonly http: string;
  readonly stderr: () => string;
  /** SIGTERM (graceful drain of 0 s), then wait for the exit. */
  close(): Promise<void>;
}

export async function burrowServe(flags: readonly string[]): Promise<BurrowServe> {
  const tsx = pathToFileURL(repoPath('node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const argv = ['--conditions=source', '--import', tsx, repoPath('packages', 'cli', 'src', 'main.ts'), 'serve', '--port', '0', '--transit-port', '0', '--drain-seconds', '0', ...flags];
  const child: ChildProcess = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let banner = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (banner += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`burrow serve exited ${child.exitCode}:\n${err}`);
      return banner.includes('metrics') ? /mailbox\s+(\S+)/.exec(banner)?.[1] : undefined;
    },
    { message: 'burrow serve to print its banner', timeoutMs: 20_000, fatal: (e) => String(e).includes('burrow serve exited') },
  );
  return {
    url,
    http: url.replace(/^ws/, 'http').replace(/\/v1$/, ''),
    stderr: () => err,
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
