// WebTransport sessions are counted like WebSockets from the moment they
// are admitted: one waiting for its first stream holds a connection slot,
// and gives it back when the first-stream timeout closes it.
import { describe, expect, it } from 'vitest';
import { waitFor } from '@burrow/testkit';
import { MailboxService, serveMailboxSession, type BidiStreamLike, type WebTransportSessionLike } from '../src/index.js';

/** A session that is ready but never opens a stream. */
function silentSession(peerAddress: string): WebTransportSessionLike & { closedWith: { closeCode?: number } | undefined } {
  let end!: () => void;
  const closed = new Promise<void>((resolve) => (end = resolve));
  const session = {
    ready: Promise.resolve(),
    closed,
    incomingBidirectionalStreams: new ReadableStream<BidiStreamLike>(),
    peerAddress,
    closedWith: undefined as { closeCode?: number } | undefined,
    close(info?: { closeCode?: number }) {
      session.closedWith = info ?? {};
      end();
    },
  };
  return session;
}

describe('WebTransport admission', () => {
  it('counts sessions waiting for a first stream against the caps, and times them out', async () => {
    const service = await MailboxService.start({ limits: { maxConnectionsPerAddress: 2, firstStreamTimeoutMs: 200 } });
    try {
      const waiting = [silentSession('192.0.2.1:1000'), silentSession('192.0.2.1:1001')];
      const served = waiting.map((s) => serveMailboxSession(service, s));
      expect(service.admit('192.0.2.1')).toMatchObject({ ok: false, limit: 'connections.address' });
      const third = silentSession('192.0.2.1:1002');
      await serveMailboxSession(service, third);
      expect(third.closedWith).toMatchObject({ closeCode: 503 });
      await Promise.all(served);
      for (const s of waiting) expect(s.closedWith).toMatchObject({ closeCode: 1008 });
      await waitFor(() => service.admit('192.0.2.1').ok, { message: 'slots given back' });
    } finally {
      await service.close();
    }
  });
});
