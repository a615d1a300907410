/**
 * Mailbox frames over WebTransport.
 *
 *   const transport = webTransportTransport();               // globalThis.WebTransport
 *   const w = await createWormhole({ mailbox: 'https://gw.example:4443/v1', transport });
 *
 * One session per connection, one bidirectional stream in it. A stream has
 * no message boundaries, so every frame, both ways, is a 4-byte big-endian
 * length followed by that many bytes of UTF-8 JSON. Reading is incremental
 * and bounded: a frame whose announced length is over `maxFrameBytes` fails
 * the connection before any of its body is buffered. Writes are handed to
 * the stream in pieces of at most {@link MAX_WEBTRANSPORT_WRITE} bytes (the
 * @fails-components ponyfill stalls on single writes of 64 KiB and more).
 *
 * The constructor is injected: the browser's native `WebTransport`, or a
 * ponyfill such as @fails-components/webtransport's (its WebSocket mapping)
 * for browsers and runtimes without one. Nothing is read from `globalThis`
 * until a connection is opened.
 */
import { bestEffort } from '@burrow/protocol';
import { LengthPrefixedParser, WormholeError, encodeLengthPrefixed } from '@burrow/protocol';
import { NEVER_OPENED, type FrameConnection, type MailboxTransport } from './types.js';

/** A bidirectional WebTransport stream. */
export interface WebTransportBidiStreamLike {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** What `closed` resolves with (the peer's close code and reason). */
export interface WebTransportCloseInfoLike {
  readonly closeCode?: number;
  readonly reason?: string;
}

/** The subset of the W3C `WebTransport` object this transport uses. */
export interface WebTransportLike {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<WebTransportCloseInfoLike | undefined | unknown>;
  createBidirectionalStream(): Promise<WebTransportBidiStreamLike>;
  close(info?: { closeCode?: number; reason?: string }): void;
}

/** A certificate hash for `serverCertificateHashes` (self-signed ECDSA certs valid < 14 days). */
export interface WebTransportHashLike {
  readonly algorithm: string;
  readonly value: ArrayBuffer | ArrayBufferView;
}

/** The options this transport passes to the constructor. */
export interface WebTransportInit {
  serverCertificateHashes?: WebTransportHashLike[];
}

export type WebTransportConstructor = new (url: string, options?: WebTransportInit) => WebTransportLike;

export interface WebTransportTransportOptions {
  /** Defaults to `globalThis.WebTransport`, looked up when a connection opens. */
  WebTransport?: WebTransportConstructor;
  /** Trust a server certificate by hash instead of by CA (see the WebTransport spec for the certificate rules). */
  serverCertificateHashes?: readonly WebTransportHashLike[];
  /** Largest frame accepted from the server; a longer one fails the connection (default {@link DEFAULT_MAX_FRAME_BYTES}). */
  maxFrameBytes?: number;
}

/** Largest single write handed to the stream. */
export const MAX_WEBTRANSPORT_WRITE = 32 * 1024;

/** How long `close()` waits for queued frames to be written before it ends the session. */
const CLOSE_FLUSH_MS = 2000;

/** Default bound on one incoming frame: far above the mailbox's own message limits. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

/** The WebTransport URL for a mailbox URL: `wss:` becomes `https:`; `https:` is kept. */
function sessionUrl(url: string): string {
  const mapped = url.replace(/^wss:/i, 'https:');
  if (!/^https:/i.test(mapped)) throw new WormholeError('Usage', `a WebTransport mailbox URL must start with https: or wss: (got ${JSON.stringify(url.slice(0, 40))})`);
  return mapped;
}

/** A clean session end: no code, 0 (WebTransport's "no error") or 1000 (WebSocket-style normal closure). */
function isCleanClose(info: unknown): boolean {
  if (typeof info !== 'object' || info === null) return true;
  const code = (info as WebTransportCloseInfoLike).closeCode;
  return code === undefined || code === 0 || code === 1000;
}

/**
 * Mailbox frames over WebTransport: a {@link MailboxTransport} for
 * `createWormhole({ transport })`.
 *
 * @example
 *   // Chromium's native WebTransport, a self-signed certificate trusted by hash:
 *   const transport = webTransportTransport({ serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }] });
 *   // A ponyfill where there is no native one:
 *   const transport = webTransportTransport({ WebTransport: WebTransportPonyfill });
 */
export function webTransportTransport(options: WebTransportTransportOptions = {}): MailboxTransport {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  // Check the options when the transport is made, not per connection.
  new LengthPrefixedParser(maxFrameBytes);
  const hashes = options.serverCertificateHashes ? [...options.serverCertificateHashes] : undefined;

  return (url, handlers) => {
    let done = false;
    let closing = false;
    let session: WebTransportLike | undefined;
    let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      // Once the caller asked to close, what follows is not a failure.
      handlers.closed(closing ? undefined : error);
      void reader?.cancel().catch(bestEffort);
      try {
        session?.close();
      } catch {
        // already closed
      }
    };
    const fail = (message: string, cause?: unknown): void =>
      finish(cause instanceof WormholeError ? cause : new WormholeError('Connection', message, cause === undefined ? {} : { cause }));

    const noop: FrameConnection = NEVER_OPENED;
    let target: string;
    try {
      target = sessionUrl(url);
    } catch (cause) {
      queueMicrotask(() => fail('bad WebTransport mailbox URL', cause));
      return noop;
    }
    const Ctor = options.WebTransport ?? (globalThis as { WebTransport?: WebTransportConstructor }).WebTransport;
    if (!Ctor) {
      queueMicrotask(() =>
        finish(new WormholeError('Usage', 'no WebTransport implementation: pass { WebTransport } (a ponyfill where the runtime has none)')),
      );
      return noop;
    }
    try {
      session = new Ctor(target, hashes ? { serverCertificateHashes: hashes } : {});
    } catch (cause) {
      queueMicrotask(() => fail(`cannot open a WebTransport session to the mailbox: ${String(cause)}`, cause));
      return noop;
    }
    const wt = session;

    wt.closed.then(
      (info) => {
        if (isCleanClose(info)) finish();
        else {
          const { closeCode, reason } = info as WebTransportCloseInfoLike;
          fail(`the mailbox closed the WebTransport session (code ${String(closeCode)}${reason ? `: ${reason}` : ''})`);
        }
      },
      (cause: unknown) => fail('the mailbox WebTransport session failed', cause),
    );

    const run = async (): Promise<void> => {
      await wt.ready;
      if (done) return;
      const stream = await wt.createBidirectionalStream();
      if (done) {
        void stream.readable.cancel().catch(bestEffort);
        void stream.writable.abort().catch(bestEffort);
        return;
      }
      writer = stream.writable.getWriter();
      reader = stream.readable.getReader();
      handlers.open();
      const parser = new LengthPrefixedParser(maxFrameBytes);
      const text = new TextDecoder('utf-8', { fatal: true });
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end || done) break;
        const frames = parser.feed(value);
        for (;;) {
          let next: IteratorResult<Uint8Array, void>;
          try {
            next = frames.next();
          } catch (cause) {
            throw new WormholeError('ServerProtocol', `the mailbox sent a frame over the limit of ${maxFrameBytes} bytes`, { cause });
          }
          if (next.done) break;
          if (done) return;
          const frame = next.value;
          let data: string | Uint8Array;
          try {
            data = text.decode(frame);
          } catch {
            data = frame; // not UTF-8: hand the bytes over; the session rejects them as a protocol error
          }
          handlers.frame(data);
        }
      }
      if (parser.pending > 0) throw new WormholeError('ServerProtocol', 'the mailbox stream ended inside a frame');
      finish();
    };
    run().catch((cause: unknown) => fail('the mailbox WebTransport stream failed', cause));

    const encoder = new TextEncoder();
    return {
      send(frame) {
        if (done || closing || !writer) return;
        const bytes = encodeLengthPrefixed(encoder.encode(frame));
        for (let at = 0; at < bytes.length; at += MAX_WEBTRANSPORT_WRITE) {
          writer.write(bytes.subarray(at, at + MAX_WEBTRANSPORT_WRITE)).catch((cause: unknown) => fail('cannot write to the mailbox WebTransport stream', cause));
        }
      },
      close() {
        if (done || closing) return;
        closing = true;
        // Let queued frames (a final `close`) reach the stream before the
        // session goes, but do not wait on a server that stopped reading.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const flushed = writer ? writer.close().catch(bestEffort) : Promise.resolve();
        const bounded = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_FLUSH_MS);
        });
        void Promise.race([flushed, bounded]).then(() => {
          clearTimeout(timer);
          try {
            wt.close({ closeCode: 0, reason: '' });
          } catch {
            // already closed
          }
          finish();
        });
      },
    };
  };
}
