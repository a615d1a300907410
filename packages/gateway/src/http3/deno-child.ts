/**
 * The Deno child that terminates QUIC for the HTTP/3 listener: where its
 * binary and the bridge script are, and starting it (resolves once it
 * listens, with the UDP port it bound).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseJsonObject, type Logger } from '@burrow/protocol';

/** What the child needs: where to listen, its private directory (cert.pem, key.pem) and the bridge socket. */
export interface DenoChildOptions {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly socketPath: string;
  readonly deno?: string | undefined;
  readonly logger?: Logger | undefined;
  /** Called once if the child exits after it started listening. */
  readonly onExit: (code: number | null, signal: string | null) => void;
}

/** Where the bridge script is: next to this module's directory, as .ts from source, .js when built. */
function bridgeScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const ts = join(here, '..', 'deno', 'quic-bridge.ts');
  return existsSync(ts) ? ts : join(here, '..', 'deno', 'quic-bridge.js');
}

/** The deno binary: the option, the npm package's, or PATH's. */
export function findDeno(explicit?: string): string {
  if (explicit) return explicit;
  const exe = process.platform === 'win32' ? 'deno.exe' : 'deno';
  try {
    const pkg = createRequire(import.meta.url).resolve('deno/package.json');
    const bin = join(dirname(pkg), exe);
    if (existsSync(bin)) return bin;
    // The package's postinstall (which puts the binary there) did not run, e.g. a package manager
    // that skips install scripts: take it from the platform package the same way it would.
    const fromDeno = createRequire(pkg);
    for (const target of [`${process.platform}-${process.arch}-glibc`, `${process.platform}-${process.arch}-musl`, `${process.platform}-${process.arch}`]) {
      try {
        const platformBin = join(dirname(fromDeno.resolve(`@deno/${target}/package.json`)), exe);
        if (existsSync(platformBin)) return platformBin;
      } catch {
        // not this target
      }
    }
  } catch {
    // not installed next to the gateway: try PATH
  }
  return 'deno';
}

export async function startDenoChild(options: DenoChildOptions): Promise<{ child: ChildProcess; port: number }> {
  const { dir, socketPath } = options;
  const deno = findDeno(options.deno);
  const child = spawn(
    deno,
    [
      'run', '--no-config', '--no-npm', '--no-remote', '--no-prompt', '--unstable-net',
      `--allow-net=${options.host},unix:${socketPath}`, `--allow-read=${dir}`, `--allow-write=${socketPath}`,
      bridgeScript(),
      '--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'),
      '--host', options.host, '--port', String(options.port), '--bridge', socketPath,
    ],
    // stdin stays open: the bridge stops when it closes, i.e. when this process goes away.
    { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '', DENO_DIR: join(dir, 'deno-cache'), NO_COLOR: '1' } },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const logger = options.logger;
  return new Promise((resolve, reject) => {
    let listening = false;
    child.once('error', (err) => reject(new Error(`cannot start ${deno} for HTTP/3 WebTransport (install the npm package "deno" or pass its path): ${err.message}`)));
    child.once('exit', (code, signal) => {
      if (!listening) reject(new Error(`the HTTP/3 listener (deno) exited (${code ?? signal}) before listening: ${stderr.trim().slice(-500)}`));
      else options.onExit(code, signal);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = parseJsonObject(line, { maxLength: 4096, maxDepth: 2 });
      } catch {
        return;
      }
      if (entry['event'] === 'listening' && !listening) {
        listening = true;
        resolve({ child, port: Number(entry['port']) });
      } else if (entry['event'] === 'session-failed') logger?.debug?.('webtransport.h3-session-failed', { error: entry['error'] });
      else if (entry['event'] === 'fatal') logger?.warn?.('webtransport.h3-fatal', { error: entry['error'] });
    });
  });
}
