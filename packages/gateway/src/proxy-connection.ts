/**
 * PROXY protocol headers on the gateway's TCP listeners: a connection from
 * a trusted proxy (see ./trust-proxy.ts) may start with a v1 or v2 header
 * naming the client; its bytes are read here (bounded, with a timeout) and
 * parsed by ./proxy-protocol.ts, then the connection goes on to the HTTP
 * server or the relay as if the client's bytes had come first. A header is
 * optional (haproxy's health checks to another port send none); a broken
 * one, or none of its bytes within the timeout, closes the connection.
 * Connections from other peers are not read here at all.
 */
import type { IncomingMessage } from 'node:http';
import type { Server, Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Logger } from '@burrow/protocol';
import { parseProxyHeader, type ProxyHeader } from './proxy-protocol.js';
import { forwardedFor, normaliseAddress, type TrustedProxies } from './trust-proxy.js';

/** How long a trusted proxy may take to send its header (default). */
export const PROXY_HEADER_TIMEOUT_MS = 5_000;

export interface ProxyHeaderOptions {
  readonly trust: TrustedProxies;
  /** Default {@link PROXY_HEADER_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  readonly logger?: Logger | undefined;
}

export type ProxyRead =
  | { readonly ok: true; readonly address: string; readonly header?: ProxyHeader; readonly rest: Buffer }
  | { readonly ok: false; readonly reason: string };

/**
 * Read the optional PROXY header at the start of `socket` (from `peer`).
 * Resolves with the client's address (the header's source; `peer` without a
 * header, for LOCAL and for UNKNOWN) and the bytes after the header; the
 * socket is paused then. Never rejects.
 */
export function readProxyHeader(socket: Socket, peer: string, timeoutMs = PROXY_HEADER_TIMEOUT_MS): Promise<ProxyRead> {
  return new Promise((resolve) => {
    let received: Buffer = Buffer.alloc(0);
    const done = (result: ProxyRead): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('end', onClose);
      socket.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const parsed = parseProxyHeader(received);
      if (parsed.kind === 'incomplete') return;
      if (parsed.kind === 'invalid') return done({ ok: false, reason: parsed.reason });
      if (parsed.kind === 'absent') return done({ ok: true, address: peer, rest: received });
      const source = parsed.header.source?.address;
      done({ ok: true, address: source !== undefined ? normaliseAddress(source) : peer, header: parsed.header, rest: received.subarray(parsed.length) });
    };
    const onClose = (): void => done({ ok: false, reason: 'closed' });
    const timer = setTimeout(() => done({ ok: false, reason: 'timeout' }), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('end', onClose);
    socket.resume(); // a listener's pauseOnConnect socket does not flow by itself
  });
}

/** Client addresses named by PROXY headers, by the socket they came on. */
const proxied = new WeakMap<object, string>();

/**
 * The client address a PROXY header named for this socket (an HTTP
 * request's `req.socket`: the accepted socket, or the TLS socket around it),
 * or undefined.
 */
export function proxiedAddress(socket: Duplex): string | undefined {
  // Node keeps the socket a TLSSocket wraps in `_parent` (undocumented; without it the proxy's own address is used).
  return proxied.get(socket) ?? proxied.get((socket as { _parent?: object })._parent ?? socket);
}

/**
 * Make `server` (an HTTP or HTTPS server, before it listens) read PROXY
 * headers from trusted proxies: its own connection handling runs once the
 * header is off the socket (for TLS the header comes before the handshake).
 */
export function acceptProxyHeaders(server: Server, options: ProxyHeaderOptions): void {
  const own = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const handOn = (socket: Socket): void => {
    for (const listener of own) listener.call(server, socket);
  };
  const tls = server instanceof TlsServer;
  server.on('connection', (socket: Socket) => {
    const peer = normaliseAddress(socket.remoteAddress ?? 'unknown');
    if (!options.trust.trusts(peer)) return handOn(socket);
    void readProxyHeader(socket, peer, options.timeoutMs).then((read) => {
      if (!read.ok) {
        options.logger?.warn?.('proxy.bad-header', { listener: 'http', peer, reason: read.reason });
        socket.destroy();
        return;
      }
      if (read.address !== peer) proxied.set(socket, read.address);
      if (read.rest.length > 0) socket.unshift(read.rest);
      handOn(socket);
      // The HTTP parser reads a plain socket once it flows again; TLS takes the paused socket over itself.
      if (!tls) socket.resume();
    });
  });
}

/**
 * The client address of an HTTP request: the PROXY header's source (else
 * the TCP peer), then — if that is a trusted proxy — `X-Forwarded-For`
 * walked from the right (see {@link forwardedFor}).
 */
export function requestAddress(req: IncomingMessage, trust: TrustedProxies): string {
  const peer = proxiedAddress(req.socket) ?? normaliseAddress(req.socket.remoteAddress ?? 'unknown');
  return forwardedFor(peer, req.headers['x-forwarded-for'], trust);
}
