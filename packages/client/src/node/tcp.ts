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

/** Bytes of one read slab, and the least room left in it for another read (else a new slab). */
const SLAB = 1024 * 1024;
const MIN_READ = 64 * 1024;

/**
 * Socket reads into 1 MiB slabs (Node's `onread`): each read lands right
 * after the previous one in the same buffer, so a Transit record split
 * across reads is a view of the slab rather than a copy, and a slab is one
 * allocation instead of sixteen. Bytes handed out are never written again.
 * Give `onread` to `new Socket()`, then `deliver` to {@link socketChannel}.
 */
export interface SlabReads {
  readonly onread: { buffer: () => Uint8Array; callback: (nread: number, buf: Uint8Array) => boolean };
  /** Where the bytes go; returns false to stop reading until the socket is resumed. */
  deliver: (chunk: Uint8Array) => boolean;
}

/** A slab without zero-filling it (a memset of every MiB received): only bytes a read wrote are handed out. */
function newSlab(): Uint8Array {
  const b = Buffer.allocUnsafeSlow(SLAB);
  // A plain Uint8Array view (Buffer's `slice` would not copy where callers expect it to).
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function slabReads(): SlabReads {
  let slab = newSlab();
  let used = 0;
  const reads: SlabReads = {
    onread: {
      buffer: () => {
        if (SLAB - used < MIN_READ) {
          slab = newSlab();
          used = 0;
        }
        return slab.subarray(used);
      },
      callback: (nread, buf) => {
        used += nread;
        return reads.deliver(buf.subarray(0, nread));
      },
    },
    deliver: () => true,
  };
  return reads;
}

/**
 * Wrap a connected socket as a ByteChannel with backpressure both ways.
 * Pass the socket's {@link slabReads} when it was made with them.
 */
export function socketChannel(socket: Socket, highWaterMark = 512 * 1024, reads?: SlabReads): ByteChannel {
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
        const deliver = (chunk: Uint8Array) => {
          controller.enqueue(chunk);
          return (controller.desiredSize ?? 1) > 0;
        };
        if (reads) reads.deliver = deliver;
        else socket.on('data', (d: Buffer) => void (deliver(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)) || socket.pause()));
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
  // The write callback runs once the kernel has every byte of `chunk`, or when the socket died (then
  // without an error if it was destroyed here: the bytes may not have gone out, so that is a failure too).
  const send = (chunk: Uint8Array) =>
    new Promise<void>((resolve, reject) => {
      if (closed || socket.destroyed) return reject(new WormholeError('Connection', 'TCP connection closed'));
      socket.write(chunk, (err) => {
        if (err) reject(new WormholeError('Connection', `TCP connection failed: ${err.message}`, { cause: err }));
        else if (socket.destroyed) reject(new WormholeError('Connection', 'TCP connection closed'));
        else resolve();
      });
    });
  return { readable, writable, close, send };
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
      const reads = slabReads();
      // `onread` is a Socket option (net.connect passes it on); @types/node lists it only for connect().
      const socket = new Socket({ onread: reads.onread } as ConstructorParameters<typeof Socket>[0]);
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
        resolve(socketChannel(socket, undefined, reads));
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
