/**
 * TCP sockets as Transit byte channels: the dialer for direct hints and TCP
 * relays, and the listener for direct connections (direct-tcp-v1).
 *
 *   const dial = tcpDialer();
 *   const channel = await dial('relay.example', 4001, { signal });
 */
import { createServer, Socket, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { WormholeError, abortError } from '@burrow/protocol';
import type { ByteChannel, TcpDialer, TransitListen } from '../transit/types.js';

/** Wrap a connected socket as a ByteChannel with backpressure both ways. */
export function socketChannel(socket: Socket, highWaterMark = 512 * 1024): ByteChannel {
  socket.setNoDelay(true);
  let closed = false;
  // After the peer's FIN the queued bytes must still be read: a later
  // 'error'/'close' may not error the stream (that would drop them).
  let ended = false;
  const close = () => {
    if (closed) return;
    closed = true;
    socket.destroy();
  };
  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        socket.on('data', (d: Buffer) => {
          controller.enqueue(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
          if ((controller.desiredSize ?? 1) <= 0) socket.pause();
        });
        socket.once('end', () => {
          ended = true;
          try {
            controller.close();
          } catch {
            // already errored
          }
        });
        socket.on('error', (err) => {
          if (ended) return;
          try {
            controller.error(new WormholeError('Connection', `TCP connection failed: ${err.message}`, { cause: err }));
          } catch {
            // already closed
          }
        });
        socket.once('close', () => {
          if (ended) return;
          try {
            controller.error(new WormholeError('Connection', 'TCP connection closed'));
          } catch {
            // closed or errored already
          }
        });
      },
      pull() {
        socket.resume();
      },
      cancel: close,
    },
    { highWaterMark, size: (c) => c.byteLength },
  );
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      if (closed || socket.destroyed) return Promise.reject(new WormholeError('Connection', 'TCP connection closed'));
      if (socket.write(chunk)) return;
      return new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          socket.off('drain', onDrain);
          socket.off('close', onClose);
          if (err) reject(err);
          else resolve();
        };
        const onDrain = () => done();
        const onClose = () => done(new WormholeError('Connection', 'TCP connection closed'));
        socket.on('drain', onDrain);
        socket.on('close', onClose);
      });
    },
    close() {
      // Resolves once everything written has been handed to the kernel.
      return new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end(() => resolve());
      });
    },
    abort: close,
  });
  return { readable, writable, close };
}

/**
 * TCP dialer for direct hints and TCP relays. Failures reject with a
 * WormholeError: `Connection` (refused, unreachable), `Timeout` (no answer
 * within `connectTimeoutMs`), `Aborted` (the signal fired).
 */
export function tcpDialer(options: { connectTimeoutMs?: number } = {}): TcpDialer {
  const timeoutMs = options.connectTimeoutMs ?? 30_000;
  return (host, port, { signal }) =>
    new Promise<ByteChannel>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const socket = new Socket();
      const timer = setTimeout(() => fail(new WormholeError('Timeout', `connect to ${host}:${port} timed out`)), timeoutMs);
      const onAbort = () => fail(abortError(signal!));
      const onError = (err: Error) => fail(new WormholeError('Connection', `cannot connect to ${host}:${port}: ${err.message}`, { cause: err }));
      const fail = (err: WormholeError) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(err);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.connect({ host, port }, () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        resolve(socketChannel(socket));
      });
    });
}

/** Our addresses for direct hints: every non-loopback IPv4, or 127.0.0.1 if there is none (like Python). */
export function localAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out.length > 0 ? out : ['127.0.0.1'];
}

export interface TcpListenOptions {
  /** Bind address (default all IPv4 interfaces). */
  host?: string;
  port?: number;
  /** Addresses to advertise (default {@link localAddresses}). */
  addresses?: string[];
}

/** Listen for direct connections. */
export function tcpListen(options: TcpListenOptions = {}): TransitListen {
  return (onConnection) =>
    new Promise((resolve, reject) => {
      const server = createServer((socket) => {
        onConnection(socketChannel(socket), `${socket.remoteAddress}:${socket.remotePort}`);
      });
      server.once('error', reject);
      server.listen({ host: options.host ?? '0.0.0.0', port: options.port ?? 0 }, () => {
        server.off('error', reject);
        const port = (server.address() as AddressInfo).port;
        const addresses = options.addresses ?? localAddresses();
        resolve({
          hints: addresses.map((hostname) => ({ hostname, port })),
          close: () => server.close(),
        });
      });
    });
}
