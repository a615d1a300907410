/**
 * The transit relay's TCP listener (what native magic-wormhole peers dial:
 * `--transit-helper tcp:HOST:PORT`).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '@burrow/protocol';
import type { TransitRelay } from './relay.js';
import { READ_BUFFER_BYTES, withReadBuffer } from './read-buffer.js';
import { readProxyHeader, type ProxyHeaderOptions } from '../proxy-connection.js';
import { normaliseAddress } from '../trust-proxy.js';

export interface TcpRelayListener {
  readonly port: number;
  readonly server: Server;
  /** Stop accepting; the relay closes the connections. */
  close(): Promise<void>;
}

export interface TcpRelayOptions {
  readonly host: string;
  /** 0 for any free port. */
  readonly port: number;
  readonly logger?: Logger;
  /** Connections from these proxies may start with a PROXY protocol header naming the client. */
  readonly proxies?: ProxyHeaderOptions;
}

/** Serve `relay` on a TCP port. */
export async function listenTcpRelay(relay: TransitRelay, options: TcpRelayOptions): Promise<TcpRelayListener> {
  const logger = options.logger;
  // Nagle off: relayed records are forwarded as they come (a peer waiting
  // for a small record must not wait for an ACK); bulk writes are 64 KiB.
  const server = createServer({ allowHalfOpen: false, noDelay: true, pauseOnConnect: true }, (socket) => accept(socket));

  function accept(raw: Socket): void {
    const peer = normaliseAddress(raw.remoteAddress ?? 'unknown');
    const proxies = options.proxies;
    if (!proxies?.trust.trusts(peer)) return serve(raw, peer, undefined);
    void readProxyHeader(raw, peer, proxies.timeoutMs).then((read) => {
      if (!read.ok) {
        logger?.warn?.('proxy.bad-header', { listener: 'transit', peer, reason: read.reason });
        raw.destroy();
        return;
      }
      // What came after the header, and anything read since: the relay gets it first.
      const buffered: Buffer[] = [read.rest];
      for (let b: Buffer | null; (b = raw.read() as Buffer | null) !== null; ) buffered.push(b);
      serve(raw, read.address, Buffer.concat(buffered));
    });
  }

  function serve(raw: Socket, address: string, early: Buffer | undefined): void {
    const admitted = relay.admit(address);
    if (!admitted.ok) {
      logger?.warn?.('relay.refused-connection', { kind: 'tcp', address, reason: admitted.reason, limit: admitted.limit });
      raw.destroy();
      return;
    }
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const socket = withReadBuffer(raw, { buffer, callback: (n) => {
        events.data(buffer.subarray(0, n), true);
        return true; // pausing is the relay's call (ep.pause)
      },
    });
    socket.setKeepAlive(true);
    const flushed = (): void => events.drain();
    const events = relay.attach({
      kind: 'tcp',
      address,
      write: (data, lent) => {
        if (socket.destroyed) return false;
        if (!lent) {
          socket.write(data);
          return false;
        }
        // Node writes at once what the kernel takes; anything left is queued
        // (writableLength > 0) and `flushed` runs when it has gone out.
        socket.write(data, flushed);
        return socket.writableLength > 0;
      },
      buffered: () => socket.writableLength,
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      end: () => socket.end(),
      destroy: () => socket.destroy(),
    });
    if (early && early.length > 0) events.data(early);
    if (socket === raw) {
      socket.on('data', (chunk: Buffer) => events.data(chunk));
      socket.resume();
    }
    socket.on('drain', () => events.drain());
    socket.on('error', (err: NodeJS.ErrnoException) => logger?.debug?.('relay.socket-error', { kind: 'tcp', address, error: err.code ?? err.message }));
    socket.on('close', () => events.closed());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger?.warn?.('relay.listener-error', { error: String(err) }));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    port,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
