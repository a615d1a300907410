/**
 * The mailbox over WebTransport.
 *
 * A client opens a session at `/v1`, then one bidirectional stream. Each
 * frame, both ways, is a 4-byte big-endian length followed by that many
 * bytes of UTF-8 JSON (a stream has no message boundaries of its own). Any
 * further stream the client opens is refused.
 *
 * The session object comes from @fails-components/webtransport (HTTP/2 and
 * its WebSocket mapping) or anything else shaped like {@link WebTransportSessionLike}.
 * Writes are split into pieces of at most {@link MAX_WRITE} bytes: that
 * library stalls on single writes of 64 KiB and more.
 */
import type { Logger } from '@burrow/protocol';
import { HARD_FRAME_FACTOR } from '@burrow/protocol/server';
import type { MailboxService } from './service.js';
import { LengthPrefixedParser as FrameDecoder, encodeLengthPrefixed as encodeFrame } from '@burrow/protocol/frames';

/** A bidirectional WebTransport stream. */
export interface BidiStreamLike {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}

/** The part of a server-side WebTransport session we use. */
export interface WebTransportSessionLike {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  readonly incomingBidirectionalStreams: ReadableStream<BidiStreamLike>;
  /** "host:port" of the client, when known. */
  readonly peerAddress?: string;
  close(info?: { closeCode?: number; reason?: string }): void;
}

/** Largest single write handed to a WebTransport stream. */
export const MAX_WRITE = 32 * 1024;

/** The client address from a "host:port" peer address ("[::1]:5", "::ffff:127.0.0.1:5" too). */
export function peerHost(peer: string | undefined): string {
  if (!peer) return 'unknown';
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(peer);
  let host = bracketed ? bracketed[1]! : peer.replace(/:\d+$/, '');
  if (host.startsWith('::ffff:')) host = host.slice(7);
  return host;
}

// The frame format is shared with the client's WebTransport transport.
export { FrameDecoder, encodeFrame };

/**
 * Wait for the session's first bidirectional stream; refuse any later one.
 * Resolves undefined if the session ends first or `timeoutMs` passes (the
 * session is then closed).
 */
export async function firstBidiStream(session: WebTransportSessionLike, timeoutMs = Number.POSITIVE_INFINITY): Promise<BidiStreamLike | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const streams = session.incomingBidirectionalStreams.getReader();
  const first = await Promise.race([session.ready.then(() => streams.read()), timedOut]).finally(() => clearTimeout(timer));
  if (first === 'timeout') {
    streams.cancel().catch(ignoreTeardown);
    try {
      session.close({ closeCode: 1008, reason: 'no stream' });
    } catch {
      // already closed
    }
    return undefined;
  }
  if (first.done) return undefined;
  void (async () => {
    for (;;) {
      const extra = await streams.read();
      if (extra.done) return;
      void extra.value.readable.cancel().catch(ignoreTeardown);
      void extra.value.writable.abort().catch(ignoreTeardown);
    }
  })().catch(() => {
    /* the session ended: no more streams to refuse */
  });
  return first.value;
}

/**
 * A writer that splits writes into {@link MAX_WRITE} pieces and counts the
 * bytes handed over but not yet accepted by the stream.
 */

function noProgress(): void {
  /* nobody is watching the write progress */
}

export class CountingWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #onProgress: () => void;
  #queued = 0;
  #failed = false;

  constructor(writable: WritableStream<Uint8Array>, onProgress: () => void = noProgress) {
    this.#writer = writable.getWriter();
    this.#onProgress = onProgress;
  }

  get queued(): number {
    return this.#queued;
  }

  write(data: Uint8Array): void {
    if (this.#failed) return;
    for (let at = 0; at < data.length; at += MAX_WRITE) {
      const piece = data.subarray(at, at + MAX_WRITE);
      this.#queued += piece.length;
      this.#writer.write(piece).then(
        () => {
          this.#queued -= piece.length;
          this.#onProgress();
        },
        () => {
          this.#failed = true;
          this.#queued = 0;
        },
      );
    }
  }

  /** Close after what is queued. */
  end(): void {
    this.#writer.close().catch(ignoreTeardown);
  }
}

export interface MailboxWebTransportOptions {
  readonly logger?: Logger;
}

/** Serve one WebTransport session as a mailbox connection. Resolves when it is over. */
export async function serveMailboxSession(
  service: MailboxService,
  session: WebTransportSessionLike,
  options: MailboxWebTransportOptions = {},
): Promise<void> {
  const address = peerHost(session.peerAddress);
  const admitted = service.admit(address);
  if (!admitted.ok) {
    options.logger?.warn?.('mailbox.refused-connection', { address, reason: admitted.reason, limit: admitted.limit, transport: 'webtransport' });
    session.close({ closeCode: 503, reason: 'busy' });
    return;
  }
  // Counted while it waits for its stream, so waiting sessions cannot dodge the caps.
  const release = service.hold(address);
  let stream: BidiStreamLike | undefined;
  try {
    stream = await firstBidiStream(session, service.connectionLimits.firstStreamTimeoutMs);
  } catch {
    return;
  } finally {
    release();
  }
  if (!stream) {
    options.logger?.info?.('mailbox.webtransport-no-stream', { address });
    return;
  }
  const writer = new CountingWriter(stream.writable);
  const encoder = new TextEncoder();
  const peer = service.attach({
    address,
    send: (frame) => writer.write(encodeFrame(encoder.encode(frame))),
    bufferedAmount: () => writer.queued,
    close: (code, reason) => {
      try {
        session.close({ closeCode: code, reason });
      } catch {
        // already closed
      }
    },
  });
  const decoder = new FrameDecoder(service.hardFrameLimit);
  const reader = stream.readable.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const frame of decoder.push(value)) peer.receive(frame);
    }
    writer.end();
  } catch (err) {
    if (err instanceof RangeError) {
      options.logger?.warn?.('mailbox.webtransport-frame-too-large', { address });
      session.close({ closeCode: 1009, reason: 'frame too large' });
    }
  } finally {
    peer.closed();
  }
}

/** Tearing down a stream that may already be gone (this module runs under Deno too, without @burrow/protocol's index). */
function ignoreTeardown(): void {
  /* nothing more to report */
}
