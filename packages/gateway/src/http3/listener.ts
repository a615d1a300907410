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
 * It is replaced a day before it expires (Deno restarts on the same port with
 * the new one: open HTTP/3 sessions drop and reconnect). A Deno child that
 * dies is restarted on the same port, with backoff.
 */
import type { ChildProcess } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@burrow/protocol';
import type { WebTransportSessionLike } from '../mailbox/webtransport.js';
import { acceptBridgeSocket } from './bridge-session.js';
import { selfSignedCertificate } from './certificate.js';
import { startDenoChild } from './deno-child.js';

export { findDeno } from './deno-child.js';

export interface Http3Options {
  /** UDP address and port to bind (0 = any free port). */
  readonly host: string;
  readonly port: number;
  /** PEM certificate and key; default a fresh self-signed one for `names`. */
  readonly tls?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** Names for the self-signed certificate (default the host, 127.0.0.1 and localhost). */
  readonly names?: readonly string[];
  /** Validity of the self-signed certificate (default and at most 13 days); it is replaced when 1/13 of it (a day) is left. */
  readonly validForMs?: number;
  /** The deno binary (default the npm package `deno`'s, then `deno` on PATH). */
  readonly deno?: string | undefined;
  readonly logger?: Logger | undefined;
  /** Serve one session opened at `path` ("/v1", "/relay", anything else). */
  readonly onSession: (path: string, session: WebTransportSessionLike) => Promise<void>;
}

export interface Http3Listener {
  readonly port: number;
  /** The Deno child's pid (changes when it is restarted). */
  readonly pid: number | undefined;
  /** The certificate in use as `serverCertificateHashes` takes it (value: hex SHA-256 of the DER). */
  readonly certificateHash: { readonly algorithm: 'sha-256'; readonly value: string };
  /** When the certificate expires (ISO 8601). */
  readonly notAfter: string;
  /** Whether the Deno child is running (false while it is being restarted). */
  readonly listening: boolean;
  /** Times the Deno child died on its own (each time it is restarted, with backoff; certificate rotations not counted). */
  readonly restarts: number;
  close(): Promise<void>;
}

/** Start Deno's QUIC listener and serve its sessions here. Rejects if Deno cannot start or bind. */
export async function listenHttp3(options: Http3Options): Promise<Http3Listener> {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-h3-'));
  const socketPath = join(dir, 'bridge.sock');
  const sockets = new Set<Socket>();
  const logger = options.logger;
  let server: Server | undefined;
  let child: ChildProcess | undefined;
  let port = options.port;
  let hash = '';
  let notAfter = '';
  let closing: Promise<void> | undefined;
  let rotation: NodeJS.Timeout | undefined;
  let restart: NodeJS.Timeout | undefined;
  let failures = 0;
  let restarts = 0;

  /** Write the certificate Deno will load; returns when the self-signed one should be replaced (ms), if ever. */
  const writeCertificate = (): number | undefined => {
    const validFor = options.validForMs;
    const own = options.tls ? undefined : selfSignedCertificate({ names: options.names ?? [options.host, '127.0.0.1', 'localhost'], ...(validFor ? { validForMs: validFor } : {}) });
    const cert = own?.cert ?? String(options.tls!.cert);
    const x509 = new X509Certificate(cert);
    writeFileSync(join(dir, 'cert.pem'), cert, { mode: 0o600 });
    writeFileSync(join(dir, 'key.pem'), own?.key ?? String(options.tls!.key), { mode: 0o600 });
    hash = createHash('sha256').update(x509.raw).digest('hex');
    notAfter = new Date(x509.validTo).toISOString();
    return own ? Math.max(1000, ((own.notAfter.getTime() - Date.now()) * 12) / 13) : undefined;
  };
  const stopChild = async (c: ChildProcess | undefined): Promise<void> => {
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const killer = setTimeout(() => c.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(killer);
  };
  /** Start Deno; with `fresh`, on a new certificate (at first and when rotating; a restart keeps the one pages trust). */
  const start = async (fresh: boolean): Promise<void> => {
    const rotateIn = fresh ? writeCertificate() : undefined;
    const started = await startDenoChild({
      host: options.host,
      port,
      dir,
      socketPath,
      deno: options.deno,
      logger,
      onExit: (code, signal) => {
        if (closing || child !== started.child) return;
        // Died on its own: HTTP/3 is down until it is back; the other listeners are not affected.
        const delay = Math.min(30_000, 500 * 2 ** failures++);
        logger?.warn?.('webtransport.h3-exited', { code, signal, restartInMs: delay });
        restarts++;
        restart = setTimeout(() => void again('restarted', false), delay);
      },
    });
    child = started.child;
    port = started.port;
    if (rotateIn !== undefined) {
      clearTimeout(rotation);
      rotation = setTimeout(() => void rotate(), Math.min(rotateIn, 2 ** 31 - 1));
      rotation.unref();
    }
  };
  const again = async (event: string, fresh: boolean): Promise<void> => {
    if (closing) return;
    try {
      await start(fresh);
      if (closing) return void (await stopChild(child));
      logger?.info?.(`webtransport.h3-${event}`, { port, notAfter });
    } catch (err) {
      const delay = Math.min(30_000, 500 * 2 ** failures++);
      logger?.warn?.('webtransport.h3-restart-failed', { error: String(err).slice(0, 200), retryInMs: delay });
      restart = setTimeout(() => void again(event, fresh), delay);
    }
  };
  const rotate = async (): Promise<void> => {
    if (closing) return;
    const old = child;
    child = undefined; // its exit is ours, not a crash
    await stopChild(old);
    await again('certificate-rotated', true);
  };
  const closeAll = async (): Promise<void> => {
    clearTimeout(rotation);
    clearTimeout(restart);
    await stopChild(child);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      failures = 0;
      void serveBridged(socket, options);
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(socketPath, () => resolve());
    });
    await start(true);
  } catch (err) {
    closing = Promise.resolve();
    await closeAll();
    throw err;
  }
  return {
    get port() {
      return port;
    },
    get pid() {
      return child?.pid;
    },
    get certificateHash() {
      return { algorithm: 'sha-256' as const, value: hash };
    },
    get notAfter() {
      return notAfter;
    },
    get listening() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    get restarts() {
      return restarts;
    },
    close: () => (closing ??= closeAll()),
  };
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

/** GET /webtransport: where native HTTP/3 WebTransport is and how to trust its certificate. */
export function webTransportInfo(url: string, h3: Http3Listener): Record<string, unknown> {
  return { url, mailbox: `${url}/v1`, relay: `${url}/relay`, serverCertificateHashes: [h3.certificateHash], notAfter: h3.notAfter };
}
