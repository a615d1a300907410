/**
 * A WebTransport session to a relay as a Transit byte channel: how a browser
 * with WebTransport (or its ponyfill) reaches the gateway's relay. The
 * session is opened at the relay URL (`https://HOST:PORT/relay`), one
 * bidirectional stream carries exactly the bytes a TCP connection to the
 * relay would (`please relay …\n`, `ok\n`, handshakes, records).
 *
 *   const dial = webTransportDialer({ WebTransport: WebTransportPonyfill });
 *   const channel = await dial('https://gw.example:4443/relay', { signal });
 *
 * Backpressure follows the stream: a write resolves once the stream took
 * it, and reading is pull-based. Writes are cut into pieces of at most
 * {@link MAX_WEBTRANSPORT_WRITE} bytes (the ponyfill stalls on larger ones).
 * This module queues nothing of its own (the readable has highWaterMark 0
 * and reads the stream only when pulled), so buffering is bounded exactly
 * as far as the WebTransport implementation bounds it: native WebTransport
 * has stream flow control; the @fails-components ponyfill's WebSocket
 * mapping has none (its writes resolve once handed to its WebSocket), which
 * is why the ByteChannel compliance suite declares this dialer unbounded.
 */
import { observed } from '@burrow/protocol';
import { WormholeError, abortError, withSignal } from '@burrow/protocol';
import { MAX_WEBTRANSPORT_WRITE, type WebTransportConstructor, type WebTransportHashLike, type WebTransportLike } from '../transports/webtransport.js';
import type { ByteChannel, WebTransportDialer } from './types.js';

export type { WebTransportDialer };

export interface WebTransportDialerOptions {
  /** WebTransport implementation (default `globalThis.WebTransport`, looked up per dial). */
  WebTransport?: WebTransportConstructor;
  /** Trust the relay's certificate by hash instead of by CA. */
  serverCertificateHashes?: readonly WebTransportHashLike[];
}

function relayUrl(url: string): string {
  const mapped = url.replace(/^wss:/i, 'https:');
  if (!/^https:/i.test(mapped)) throw new WormholeError('Usage', `a WebTransport relay URL must start with https: or wss: (got ${JSON.stringify(url.slice(0, 40))})`);
  return mapped;
}

const closedError = (url: string, cause?: unknown) =>
  cause instanceof WormholeError ? cause : new WormholeError('Connection', `WebTransport session to ${url} closed`, cause === undefined ? {} : { cause });

/**
 * @example
 * const dialers = { webtransport: webTransportDialer() };
 */
export function webTransportDialer(options: WebTransportDialerOptions = {}): WebTransportDialer {
  const hashes = options.serverCertificateHashes ? [...options.serverCertificateHashes] : undefined;
  return async (url, dial) => {
    if (dial.signal?.aborted) throw abortError(dial.signal);
    const target = relayUrl(url);
    const Ctor = options.WebTransport ?? (globalThis as { WebTransport?: WebTransportConstructor }).WebTransport;
    if (!Ctor) throw new WormholeError('Usage', 'no WebTransport implementation: pass { WebTransport } in the dialer options');
    let session: WebTransportLike;
    try {
      session = new Ctor(target, hashes ? { serverCertificateHashes: hashes } : {});
    } catch (cause) {
      throw new WormholeError('Connection', `cannot open a WebTransport session to ${url}`, { cause });
    }
    // Decision: a failed session also rejects `ready`, which is where the dial reports it.
    session.closed.catch(observed);
    const close = () => {
      try {
        session.close();
      } catch {
        // already closed
      }
    };
    let stream: Awaited<ReturnType<WebTransportLike['createBidirectionalStream']>>;
    const opening = Promise.resolve(session.ready).then(() => session.createBidirectionalStream());
    // Decision: after an abort nobody awaits `opening`; its failure is the abort's consequence.
    opening.catch(observed);
    try {
      stream = await withSignal(opening, dial.signal);
    } catch (cause) {
      close();
      if (cause instanceof WormholeError && (cause.code === 'Aborted' || cause.code === 'Timeout')) throw cause;
      throw new WormholeError('Connection', `cannot open a WebTransport session to ${url}`, { cause });
    }
    return streamChannel(session, stream, url, close);
  };
}

/** The session's one stream as a ByteChannel; `close` ends the session. */
function streamChannel(
  session: WebTransportLike,
  stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
  url: string,
  close: () => void,
): ByteChannel {
  const reader = stream.readable.getReader();
  const writer = stream.writable.getWriter();
  // Decision: the writer's own promises carry its errors to the caller's writes.
  writer.closed.catch(observed);
  let closed = false;
  const teardown = () => {
    if (closed) return;
    closed = true;
    reader.cancel().catch(() => {
      // Decision: cancelling a stream of a closed session fails; it is closed either way.
    });
    close();
  };
  void session.closed.then(
    () => (closed = true),
    () => (closed = true),
  );
  const readable = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (cause) {
          controller.error(closedError(url, cause));
        }
      },
      cancel: teardown,
    },
    { highWaterMark: 0 },
  );
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (closed) throw closedError(url);
      try {
        for (let at = 0; at < chunk.byteLength; at += MAX_WEBTRANSPORT_WRITE) {
          await writer.write(chunk.subarray(at, at + MAX_WEBTRANSPORT_WRITE));
        }
      } catch (cause) {
        throw closedError(url, cause);
      }
    },
    async close() {
      // Our half ends; the relay closes the pair and the peer's readable ends.
      await writer.close().catch((cause: unknown) => {
        throw closedError(url, cause);
      });
    },
    abort: teardown,
  });
  return { readable, writable, close: teardown };
}
