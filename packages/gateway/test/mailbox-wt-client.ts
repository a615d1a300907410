/**
 * Test-side WebTransport for Node: the @fails-components browser ponyfill
 * (WebSocket mapping, what browsers without native WebTransport use) running
 * over `ws`, a throwaway TLS certificate, and a Burrow MailboxTransport over
 * WebTransport as a reference for the client package.
 */
import type { FrameConnection, MailboxTransport } from '@burrow/client';
import { encodeFrame, FrameDecoder } from '../src/mailbox/webtransport.js';

export { testCertificate } from '@burrow/testkit';
export type { PonyfillWebTransport as WebTransportLike, PonyfillWebTransportCtor as WebTransportCtor } from '@burrow/testkit';
export { loadWebTransportPonyfill as loadPonyfill } from '@burrow/testkit';
import type { PonyfillWebTransportCtor as WebTransportCtor } from '@burrow/testkit';

/**
 * Mailbox frames over WebTransport for Burrow's client: one bidirectional
 * stream, each frame a 4-byte big-endian length and UTF-8 JSON.
 */
export function webTransportMailbox(WebTransport: WebTransportCtor): MailboxTransport {
  return (url, handlers) => {
    let done = false;
    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      handlers.closed(error);
    };
    const wt = new WebTransport(url.replace(/^wss?:/, 'https:'));
    let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    void (async () => {
      await wt.ready;
      const stream = await wt.createBidirectionalStream();
      writer = stream.writable.getWriter();
      handlers.open();
      const frames = new FrameDecoder(1 << 20);
      const reader = stream.readable.getReader();
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        for (const f of frames.push(value)) handlers.frame(decoder.decode(f));
      }
      finish();
    })().catch((err: unknown) => finish(err));
    void wt.closed.then(
      () => finish(),
      (err: unknown) => finish(err),
    );
    const connection: FrameConnection = {
      send(frame) {
        if (!done) void writer?.write(encodeFrame(encoder.encode(frame))).catch(() => {});
      },
      close() {
        try {
          wt.close();
        } catch {
          // already closed
        }
      },
    };
    return connection;
  };
}
