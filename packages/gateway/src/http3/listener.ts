/**
 * Native HTTP/3 WebTransport for the gateway, on the gateway's own state.
 *
 * Deno terminates QUIC (src/deno/quic-bridge.ts, run as a child process
 * with the `deno` binary of the npm package `deno`); each session comes back
 * to this process over a private Unix socket (a fresh 0700 directory) and is
 * served by the same mailbox service and relay as the WebSocket and TCP
 * listeners, so a page on HTTP/3 and a CLI on WebSocket meet in one mailbox,
 * and a page's relay connection meets a CLI's TCP one.
 *
 * Without a certificate of its own the listener makes a self-signed ECDSA
 * P-256 one valid 13 days, which browsers trust by its SHA-256
 * (`serverCertificateHashes`); the gateway publishes it at GET /webtransport.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseJsonObject, type Logger } from '@burrow/protocol';
import type { WebTransportSessionLike } from '../mailbox/webtransport.js';
import { acceptBridgeSocket } from './bridge-session.js';
import { selfSignedCertificate } from './certificate.js';

export interface Http3Options {
  /** UDP address and port to bind (0 = any free port). */
  readonly host: string;
  readonly port: number;
  /** PEM certificate and key; default a fresh self-signed one for `names`. */
  readonly tls?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** Names for the self-signed certificate (default the host, 127.0.0.1 and localhost). */
  readonly names?: readonly string[];
  /** The deno binary (default the npm package `deno`'s, then `deno` on PATH). */
  readonly deno?: string | undefined;
  readonly logger?: Logger | undefined;
  /** Serve one session opened at `path` ("/v1", "/relay", anything else). */
  readonly onSession: (path: string, session: WebTransportSessionLike) => Promise<void>;
}

export interface Http3Listener {
  readonly port: number;
  /** The certificate as `serverCertificateHashes` takes it (value: hex SHA-256 of the DER). */
  readonly certificateHash: { readonly algorithm: 'sha-256'; readonly value: string };
  /** When the certificate expires (ISO 8601). */
  readonly notAfter: string;
  close(): Promise<void>;
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
  try {
    const pkg = createRequire(import.meta.url).resolve('deno/package.json');
    const bin = join(dirname(pkg), process.platform === 'win32' ? 'deno.exe' : 'deno');
    if (existsSync(bin)) return bin;
  } catch {
    // not installed next to the gateway: try PATH
  }
  return 'deno';
}

/** Start Deno's QUIC listener and serve its sessions here. Rejects if Deno cannot start or bind. */
export async function listenHttp3(options: Http3Options): Promise<Http3Listener> {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-h3-'));
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let child: ChildProcess | undefined;
  try {
    const own = options.tls ? undefined : selfSignedCertificate({ names: options.names ?? [options.host, '127.0.0.1', 'localhost'] });
    const cert = own?.cert ?? String(options.tls!.cert);
    const x509 = new X509Certificate(cert);
    writeFileSync(join(dir, 'cert.pem'), cert, { mode: 0o600 });
    writeFileSync(join(dir, 'key.pem'), own?.key ?? String(options.tls!.key), { mode: 0o600 });
    const socketPath = join(dir, 'bridge.sock');
    server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      void serveBridged(socket, options);
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(socketPath, () => resolve());
    });
    const started = await startDeno(options, dir, socketPath);
    child = started.child;
    const closeAll = async (): Promise<void> => {
      const exited = new Promise<void>((resolve) => (child!.exitCode !== null || child!.signalCode !== null ? resolve() : child!.once('exit', () => resolve())));
      child!.kill('SIGTERM');
      const killer = setTimeout(() => child!.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(killer);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    };
    let closing: Promise<void> | undefined;
    return {
      port: started.port,
      certificateHash: { algorithm: 'sha-256', value: createHash('sha256').update(x509.raw).digest('hex') },
      notAfter: new Date(x509.validTo).toISOString(),
      close: () => (closing ??= closeAll()),
    };
  } catch (err) {
    child?.kill('SIGKILL');
    server?.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function serveBridged(socket: Socket, options: Http3Options): Promise<void> {
  const bridged = await acceptBridgeSocket(socket);
  if (!bridged) return;
  try {
    await options.onSession(bridged.path, bridged.session);
  } catch (err) {
    options.logger?.warn?.('webtransport.h3-session-failed', { error: String(err).slice(0, 200) });
  } finally {
    // Whatever is queued goes first; then the bridge closes the session.
    socket.end();
  }
}

async function startDeno(options: Http3Options, dir: string, socketPath: string): Promise<{ child: ChildProcess; port: number }> {
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
      else logger?.warn?.('webtransport.h3-exited', { code, signal });
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
