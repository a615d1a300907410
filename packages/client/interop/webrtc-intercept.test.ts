// An intercepting mailbox (a WebSocket proxy in front of the Debian mailbox
// server) that rewrites or replays the connection signalling. It cannot make
// the peers connect to anyone else: rewritten or re-labelled messages fail
// closed with `Tampered`, and same-phase replays are ignored.
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { RTCPeerConnection as NdcPeerConnection } from 'node-datachannel/polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, onCleanup, startMailboxServer, type MailboxServer } from '@burrow/testkit';
import { createWormhole, isWormholeError, type RTCPeerConnectionConstructor, type WebSocketConstructor } from '@burrow/client';

type Frame = Record<string, unknown>;
/** Given a server→client frame and the client's side, return the frames to deliver instead. */
type Tamper = (frame: Frame, clientSide: string | undefined) => Frame[];

async function interceptingMailbox(upstream: string, tamper: Tamper): Promise<{ url: string; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  server.on('connection', (client) => {
    let side: string | undefined;
    const up = new WebSocket(upstream);
    const early: string[] = [];
    up.on('open', () => early.splice(0).forEach((f) => up.send(f)));
    client.on('message', (data: RawData) => {
      const text = String(data);
      try {
        const f = JSON.parse(text) as Frame;
        if (f['type'] === 'bind') side = String(f['side']);
      } catch {
        // pass through
      }
      if (up.readyState === WebSocket.OPEN) up.send(text);
      else early.push(text);
    });
    up.on('message', (data: RawData) => {
      const frame = JSON.parse(String(data)) as Frame;
      for (const f of tamper(frame, side)) if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify(f));
    });
    client.on('close', () => up.close());
    up.on('close', () => client.close());
    up.on('error', () => client.close());
  });
  const address = server.address() as { port: number };
  const close = () => new Promise<void>((r) => server.close(() => r()));
  onCleanup(close);
  return { url: `ws://127.0.0.1:${address.port}/v1`, close };
}

const fromPeer = (f: Frame, side: string | undefined) => f['type'] === 'message' && f['side'] !== side;
const isAppPhase = (f: Frame) => /^\d+$/.test(String(f['phase']));

describe('an intercepting mailbox cannot redirect connect()', () => {
  let mailbox: MailboxServer;
  const WS = WebSocket as unknown as WebSocketConstructor;
  const RTC = NdcPeerConnection as unknown as RTCPeerConnectionConstructor;
  const opts = { rtcConfiguration: { bindAddress: '127.0.0.1' }, timeoutMs: 5_000 };

  beforeAll(async () => {
    assertPrivateNetwork();
    mailbox = await startMailboxServer();
  });
  afterAll(cleanup);

  const run = async (tamper: Tamper, timeoutMs = opts.timeoutMs) => {
    const proxy = await interceptingMailbox(mailbox.url, tamper);
    const [a, b] = await Promise.all([
      createWormhole({ mailbox: proxy.url, WebSocket: WS, RTCPeerConnection: RTC }),
      createWormhole({ mailbox: proxy.url, WebSocket: WS, RTCPeerConnection: RTC }),
    ]);
    b.setCode(await a.allocateCode());
    const results = await Promise.allSettled([a.connect({ ...opts, timeoutMs }), b.connect({ ...opts, timeoutMs })]);
    return { a, b, results, proxy };
  };

  it('a rewritten signalling message fails closed on both sides with Tampered (blame: server)', async () => {
    const { results, a, b, proxy } = await run((f, side) => {
      if (fromPeer(f, side) && f['phase'] === '0') {
        const body = String(f['body']);
        const i = body.length - 10; // flip one nibble of the ciphertext (the offer / answer)
        return [{ ...f, body: body.slice(0, i) + (body[i] === '0' ? '1' : '0') + body.slice(i + 1) }];
      }
      return [f];
    });
    // Whoever receives the altered message fails with Tampered; the other side never hears back
    // (a scared wormhole says nothing more) and fails closed at its bound. Nobody connects.
    for (const r of results) expect(r.status).toBe('rejected');
    const errors = results.map((r) => (r as PromiseRejectedResult).reason as { code: string; blame: string; message: string });
    const tampered = errors.filter((e) => isWormholeError(e, 'Tampered'));
    expect(tampered.length, errors.map(String).join('; ')).toBeGreaterThanOrEqual(1);
    expect(tampered[0]!.blame).toBe('server');
    expect(tampered[0]!.message).toMatch(/altered, injected or replayed/);
    for (const e of errors) expect(['Tampered', 'Timeout']).toContain(e.code);
    await Promise.allSettled([a.close(), b.close()]);
    await proxy.close();
  });

  it('a signalling message replayed under another phase fails closed with Tampered', async () => {
    const { results, a, b, proxy } = await run((f, side) => {
      if (fromPeer(f, side) && f['phase'] === '0') return [f, { ...f, phase: '41' }];
      return [f];
    });
    for (const r of results) expect(r.status).toBe('rejected');
    const codes = results.map((r) => ((r as PromiseRejectedResult).reason as { code: string }).code);
    expect(codes).toContain('Tampered');
    for (const c of codes) expect(['Tampered', 'Timeout']).toContain(c);
    await Promise.allSettled([a.close(), b.close()]);
    await proxy.close();
  });

  it('same-phase replays of every message are ignored: the peers still meet each other, over WebRTC', async () => {
    const { results, a, b, proxy } = await run((f, side) => (fromPeer(f, side) && isAppPhase(f) ? [f, f, f] : [f]), 30_000);
    const [ra, rb] = results;
    expect(ra.status, String((ra as PromiseRejectedResult).reason)).toBe('fulfilled');
    expect(rb.status).toBe('fulfilled');
    const ca = (ra as PromiseFulfilledResult<Awaited<ReturnType<typeof a.connect>>>).value;
    const cb = (rb as PromiseFulfilledResult<Awaited<ReturnType<typeof b.connect>>>).value;
    expect(ca.kind).toBe('webrtc');
    const s = await ca.openStream();
    const w = s.writable.getWriter();
    await w.write(new TextEncoder().encode('still us'));
    await w.close();
    const t = (await cb.incoming[Symbol.asyncIterator]().next()).value!;
    expect(await new Response(t.readable as unknown as ReadableStream).text()).toBe('still us');
    await ca.close();
    await Promise.allSettled([a.close(), b.close()]);
    await proxy.close();
  });
});
