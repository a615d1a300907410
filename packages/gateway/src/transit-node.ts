/**
 * Node adapters for Transit and file transfer: TCP sockets as byte channels
 * (dialer and listener for direct-tcp-v1 and TCP relays), and files and
 * directories on disk as transfer sources and sinks.
 *
 * Sinks never present a partial result under the final name: a file is
 * written to a hidden temporary name in the target folder and renamed when
 * the transfer is verified; a directory is extracted into a hidden
 * temporary folder and renamed as a whole. Failures remove the temporaries.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, constants as fsConstants } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import WebSocket from 'ws';
import {
  WormholeError,
  webSocketDialer,
  type ByteChannel,
  type DirectoryEntry,
  type DirectorySink,
  type DirectorySource,
  type FileSource,
  type Hasher,
  type TransitDialers,
  type TransitListen,
  type TransitOptions,
  type WebSocketDialerOptions,
} from '@burrow/client';

// ------------------------------------------------------------------ sockets

/** Wrap a connected socket as a ByteChannel with backpressure both ways. */
export function socketChannel(socket: Socket, highWaterMark = 512 * 1024): ByteChannel {
  socket.setNoDelay(true);
  let closed = false;
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
          try {
            controller.close();
          } catch {
            // already errored
          }
        });
        socket.on('error', (err) => {
          try {
            controller.error(err);
          } catch {
            // already closed
          }
        });
        socket.once('close', () => {
          try {
            controller.error(new Error('connection closed'));
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
      if (closed || socket.destroyed) return Promise.reject(new Error('connection closed'));
      if (socket.write(chunk)) return;
      return new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          socket.off('drain', onDrain);
          socket.off('close', onClose);
          if (err) reject(err);
          else resolve();
        };
        const onDrain = () => done();
        const onClose = () => done(new Error('connection closed'));
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

/** TCP dialer for direct hints and TCP relays. */
export function tcpDialer(options: { connectTimeoutMs?: number } = {}): NonNullable<TransitDialers['tcp']> {
  const timeoutMs = options.connectTimeoutMs ?? 30_000;
  return (host, port, { signal }) =>
    new Promise<ByteChannel>((resolve, reject) => {
      signal?.throwIfAborted();
      const socket = new Socket();
      const timer = setTimeout(() => fail(new Error(`connect to ${host}:${port} timed out`)), timeoutMs);
      const onAbort = () => fail(new Error('dial aborted'));
      const fail = (err: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(err);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', fail);
      socket.connect({ host, port }, () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', fail);
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

export interface NodeTransitOptions extends Omit<TransitOptions, 'dialers' | 'listen'> {
  /** Do not listen for direct connections (relay only, or dial out only). */
  noListen?: boolean;
  listen?: TcpListenOptions;
}

/**
 * Transit options for Node: TCP dialing, a listener unless `noListen`, and a
 * WebSocket dialer (via `ws`) for WebSocket relays.
 *
 * @example
 * await sendFile(w, source, { transit: nodeTransit({ relays: ['tcp:127.0.0.1:4001'] }) });
 */
export function nodeTransit(options: NodeTransitOptions = {}): TransitOptions {
  const { noListen, listen, ...rest } = options;
  return {
    ...rest,
    dialers: {
      tcp: tcpDialer(),
      websocket: webSocketDialer({ WebSocket: WebSocket as unknown as NonNullable<WebSocketDialerOptions['WebSocket']> }),
    },
    ...(noListen ? {} : { listen: tcpListen(listen ?? {}) }),
  };
}

/** SHA-256 from node:crypto (several times faster than pure JS) for `createHash`. */
export function nodeSha256(): Hasher {
  const h = createHash('sha256');
  return { update: (d) => void h.update(d), hexDigest: () => h.digest('hex') };
}

// ------------------------------------------------------------------ files

function fileStream(path: string): ReadableStream<Uint8Array> {
  const rs = createReadStream(path, { highWaterMark: 256 * 1024 });
  return Readable.toWeb(rs) as unknown as ReadableStream<Uint8Array>;
}

/** A file on disk as a transfer source (its basename is offered). */
export async function fileSource(path: string): Promise<FileSource> {
  const st = await stat(path);
  if (!st.isFile()) throw new WormholeError('Usage', `${path} is not a regular file`);
  return { name: basename(path), size: st.size, stream: () => fileStream(path) };
}

/**
 * A directory on disk as a transfer source: every file, and every directory
 * (so empty ones travel too), with permission bits and mtimes. Symlinks and
 * special files are skipped.
 */
export async function directorySource(path: string): Promise<DirectorySource> {
  const root = path.replace(/\/+$/, '') || '/';
  const entries: DirectoryEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const full = join(root, relPath);
      const st = await lstat(full);
      if (st.isDirectory()) {
        entries.push({ path: relPath, type: 'directory', mode: st.mode & 0o777, mtimeMs: st.mtimeMs });
        await walk(relPath);
      } else if (st.isFile()) {
        entries.push({ path: relPath, type: 'file', mode: st.mode & 0o777, size: st.size, mtimeMs: st.mtimeMs, open: () => fileStream(full) });
      }
    }
  };
  await walk('');
  return { name: basename(root), entries };
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Gathers small writes (transit records are often 16 KiB) into ~1 MiB
 * `writev` calls: one thread-pool round trip per MiB instead of per record.
 */
function batchedWriter(fh: FileHandle, batchBytes = 1024 * 1024): { write(chunk: Uint8Array): Promise<void>; flush(): Promise<void> } {
  let pending: Uint8Array[] = [];
  let bytes = 0;
  const flush = async () => {
    if (bytes === 0) return;
    const list = pending;
    const total = bytes;
    pending = [];
    bytes = 0;
    let written = (await fh.writev(list)).bytesWritten;
    if (written < total) {
      // Short write (rare): finish the rest piece by piece.
      const rest = Buffer.concat(list).subarray(written);
      for (let off = 0; off < rest.length; off += written) written = (await fh.write(rest, off)).bytesWritten;
    }
  };
  return {
    async write(chunk) {
      // Held by reference until written: callers hand over fresh buffers (records, inflate output).
      pending.push(chunk);
      bytes += chunk.length;
      if (bytes >= batchBytes) await flush();
    },
    flush,
  };
}

function tempName(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.${randomBytes(4).toString('hex')}.burrow-part`);
}

/**
 * A file sink: bytes go to a hidden temporary file next to `dest`; closing
 * the stream renames it to `dest` (refusing to replace an existing file),
 * aborting it deletes the temporary.
 */
export async function fileSink(dest: string): Promise<WritableStream<Uint8Array>> {
  if (await exists(dest)) throw new WormholeError('Usage', `refusing to overwrite existing '${dest}'`);
  const tmp = tempName(dest);
  const fh = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o644);
  let finished = false;
  const discard = async () => {
    if (finished) return;
    finished = true;
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
  };
  const out = batchedWriter(fh);
  return new WritableStream<Uint8Array>({
    write: (chunk) => out.write(chunk),
    async close() {
      await out.flush();
      await fh.close();
      finished = true;
      if (await exists(dest)) {
        await unlink(tmp).catch(() => {});
        throw new WormholeError('Usage', `refusing to overwrite '${dest}' (it appeared during the transfer)`);
      }
      await rename(tmp, dest);
    },
    abort: discard,
  });
}

/**
 * A directory sink: entries are written under a hidden temporary folder next
 * to `dest` and the folder is renamed to `dest` on commit. Paths arrive
 * already checked (no `..`, not absolute); this also refuses to follow
 * anything that is not a plain directory.
 */
export async function directorySink(dest: string): Promise<DirectorySink> {
  if (await exists(dest)) throw new WormholeError('Usage', `refusing to overwrite existing '${dest}'`);
  const tmp = tempName(dest);
  await mkdir(tmp, { mode: 0o700 });
  const resolve = (segments: readonly string[]) => join(tmp, ...segments);
  let done = false;
  return {
    async mkdir(segments) {
      const p = resolve(segments);
      try {
        await mkdir(p, { mode: 0o755 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !(await lstat(p)).isDirectory()) throw err;
      }
    },
    async createFile(segments) {
      const p = resolve(segments);
      const fh = await open(p, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW, 0o644);
      const out = batchedWriter(fh);
      return new WritableStream<Uint8Array>({
        write: (chunk) => out.write(chunk),
        close: async () => {
          await out.flush();
          await fh.close();
        },
        abort: () => fh.close(),
      });
    },
    async chmod(segments, mode) {
      const p = resolve(segments);
      const st = await lstat(p);
      if (st.isFile() || st.isDirectory()) await chmod(p, mode & 0o777);
    },
    async commit() {
      if (done) return;
      done = true;
      if (await exists(dest)) {
        await rm(tmp, { recursive: true, force: true });
        throw new WormholeError('Usage', `refusing to overwrite '${dest}' (it appeared during the transfer)`);
      }
      // The temporary folder was created 0700; the root gets the usual mode.
      await chmod(tmp, 0o755);
      await rename(tmp, dest);
    },
    async abort() {
      if (done) return;
      done = true;
      await rm(tmp, { recursive: true, force: true });
    },
  };
}
