/**
 * Relay sockets that read into one buffer of their own.
 *
 * Node allocates a new 64 KiB Buffer for every read of a socket; at relay
 * speeds those are a gigabyte a second of external memory, each batch of it
 * a full garbage collection whose cost grows with the gateway's heap. A
 * Socket created with `onread` reads into a buffer it is given instead, but
 * net.Server and the HTTP server's upgrade have no such option, so the
 * connection's handle is moved into a Socket that has one.
 */
import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';

/** Per-connection read buffer (what Node would otherwise allocate afresh for every read). */
export const READ_BUFFER_BYTES = 64 << 10;

interface StreamHandle {
  readStart(): number;
  readStop(): number;
  reading?: boolean;
}

/**
 * `raw`'s connection as a Socket that reads into `onread.buffer`, or `raw`
 * itself (reading the usual way) where the runtime's socket has no handle
 * to move (another runtime, TLS, a Duplex that is not a socket). This uses
 * Node's undocumented `_handle`. Take what `raw` has already buffered
 * (`raw.read()`) before calling: it is not carried over.
 */
export function withReadBuffer<S extends Duplex>(raw: S, onread: OnReadOpts): S | Socket {
  if (!(raw instanceof Socket) || raw instanceof TLSSocket) return raw;
  const internal = raw as unknown as { _handle?: StreamHandle | null };
  const handle = internal._handle;
  if (typeof handle?.readStart !== 'function' || typeof handle.readStop !== 'function') return raw;
  if (handle.reading) {
    // An upgraded HTTP connection is still reading: stop until the new Socket starts it again.
    handle.readStop();
    handle.reading = false;
  }
  internal._handle = null;
  raw.destroy(); // releases the server's count of it; the handle is no longer its to close
  return new Socket({ handle, readable: true, writable: true, onread } as SocketConstructorOpts & { onread: OnReadOpts });
}
