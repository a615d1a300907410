/**
 * `burrow serve` from source in a child process (the gateway does not depend
 * on the CLI package; this only runs it), on free ports, resolved once it
 * prints its banner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, waitFor } from '@burrow/testkit';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const MAIN = join(ROOT, 'packages/cli/src/main.ts');

export interface Served {
  readonly child: ChildProcess;
  /** ws://127.0.0.1:P/v1 */
  readonly url: string;
  readonly port: number;
  /** tcp:127.0.0.1:Q, its TCP transit relay */
  readonly transitHint: string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

/** Start `burrow serve --port P --transit-port Q ...args`. */
export async function serve(args: string[]): Promise<Served> {
  const port = await freePort();
  const transit = await freePort();
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, MAIN, 'serve', '--port', String(port), '--transit-port', String(transit), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`burrow serve exited ${child.exitCode}:\n${err}`);
      return out.includes('metrics');
    },
    { message: 'burrow serve to listen', timeoutMs: 20_000, fatal: (e) => String(e).includes('burrow serve exited') },
  );
  return { child, url: `ws://127.0.0.1:${port}/v1`, port, transitHint: `tcp:127.0.0.1:${transit}`, stderr: () => err, exited };
}
