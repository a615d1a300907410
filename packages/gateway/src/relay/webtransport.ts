/**
 * The transit relay over WebTransport: a client opens a session at
 * `/relay`, then one bidirectional stream, and uses it exactly like a TCP
 * connection to the relay (handshake line, "ok\n", then ciphertext).
 */
import type { Logger } from '@burrow/protocol';
import { CountingWriter, firstBidiStream, peerHost, type BidiStreamLike, type WebTransportSessionLike } from '../mailbox/webtransport.js';
import type { TransitRelay } from './relay.js';

export interface RelayWebTransportOptions {
  readonly logger?: Logger;
}

/** Serve one WebTransport session as a relay connection. Resolves when it is over. */
export async function serveRelaySession(relay: TransitRelay, session: WebTransportSessionLike, options: RelayWebTransportOptions = {}): Promise<void> {
  const address = peerHost(session.peerAddress);
  const admitted = relay.admit(address);
  if (!admitted.ok) {
    options.logger?.warn?.('relay.refused-connection', { kind: 'webtransport', address, reason: admitted.reason, limit: admitted.limit });
    session.close({ closeCode: 503, reason: 'busy' });
    return;
  }
  // Counted while it waits for its stream, which must come within the handshake timeout.
  const release = relay.hold(address);
  let stream: BidiStreamLike | undefined;
  try {
    stream = await firstBidiStream(session, relay.limits.handshakeTimeoutMs);
  } catch {
    return;
  } finally {
    release();
  }
  if (!stream) return;

  const lowWater = relay.limits.lowWaterMark;
  let wantDrain = false;
  let paused: { promise: Promise<void>; resume: () => void } | undefined;
  let closed = false;
  const writer = new CountingWriter(stream.writable, () => {
    if (wantDrain && writer.queued <= lowWater) {
      wantDrain = false;
      events.drain();
    }
  });
  const close = (): void => {
    if (closed) return;
    closed = true;
    paused?.resume();
    try {
      session.close();
    } catch {
      // already closed
    }
  };
  const events = relay.attach({
    kind: 'webtransport',
    address,
    write: (data, lent) => {
      // A lent chunk is the sender's read buffer: the stream keeps what it is given, so copy.
      writer.write(lent ? new Uint8Array(data) : data);
      if (writer.queued > lowWater) wantDrain = true;
    },
    buffered: () => writer.queued,
    pause: () => {
      if (paused) return;
      let resume!: () => void;
      const promise = new Promise<void>((r) => (resume = r));
      paused = { promise, resume };
    },
    resume: () => {
      const p = paused;
      paused = undefined;
      p?.resume();
    },
    // Close our side of the stream after what is queued; the client then
    // closes the session (the relay cuts it after a grace period otherwise).
    end: () => writer.end(),
    destroy: close,
  });

  const reader = stream.readable.getReader();
  try {
    while (!closed) {
      if (paused) await paused.promise;
      const { value, done } = await reader.read();
      if (done) break;
      events.data(value);
    }
  } catch {
    // the session failed or was closed
  } finally {
    close();
    events.closed();
  }
}
