// The mailbox over WebTransport (HTTP/2 WebSocket mapping, as browsers use
// it through the ponyfill): Burrow clients complete a text transfer over it,
// and with a client on plain WebSocket; frames are length-prefixed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createWormhole, type WebSocketConstructor } from '@burrow/client';
import { startGateway, type Gateway } from '../src/index.js';
import { encodeFrame, FrameDecoder, peerHost } from '../src/mailbox/webtransport.js';
import { loadPonyfill, testCertificate, webTransportMailbox, type WebTransportCtor } from './mailbox-wt-client.js';

describe('length-prefixed frames', () => {
  it('splits a byte stream into frames, whatever the chunking', () => {
    const bytes = new Uint8Array([...encodeFrame(Uint8Array.of(1, 2, 3)), ...encodeFrame(new Uint8Array(0)), ...encodeFrame(Uint8Array.of(9))]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new FrameDecoder(100);
      const frames = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
      expect(frames.map((f) => [...f])).toEqual([[1, 2, 3], [], [9]]);
    }
  });

  it('refuses a frame over the limit as soon as its length is known', () => {
    expect(() => new FrameDecoder(10).push(Uint8Array.of(0, 0, 0, 11))).toThrow(RangeError);
  });

  it('reads the host out of peer addresses', () => {
    expect(peerHost('127.0.0.1:4444')).toBe('127.0.0.1');
    expect(peerHost('::ffff:127.0.0.1:4444')).toBe('127.0.0.1');
    expect(peerHost('[::1]:4444')).toBe('::1');
    expect(peerHost(undefined)).toBe('unknown');
  });
});

describe('gateway mailbox over WebTransport', () => {
  let gw: Gateway;
  let WebTransport: WebTransportCtor;

  beforeAll(async () => {
    const tls = testCertificate();
    WebTransport = await loadPonyfill(tls.cert);
    gw = await startGateway({ port: 0, transitPort: 0, webtransportPort: 0, tls });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('starts a WebTransport listener beside the WebSocket one', () => {
    expect(gw.webtransportUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(gw.url).toMatch(/^wss:\/\//);
  });

  it('two Burrow clients exchange a text over WebTransport', async () => {
    const transport = webTransportMailbox(WebTransport);
    const mailbox = `${gw.webtransportUrl}/v1`;
    const a = await createWormhole({ mailbox, transport });
    const b = await createWormhole({ mailbox, transport });
    const code = await a.allocateCode();
    b.setCode(code);
    const [, text] = await Promise.all([a.sendText('over webtransport'), b.receiveText()]);
    expect(text).toBe('over webtransport');
    await Promise.all([a.close(), b.close()]);
  });

  it('a WebTransport client and a WebSocket client meet in the same mailbox', async () => {
    const a = await createWormhole({ mailbox: `${gw.webtransportUrl}/v1`, transport: webTransportMailbox(WebTransport) });
    // The WebSocket side uses wss with the same test certificate.
    const ca = (globalThis as { WebSocket: unknown }).WebSocket as WebSocketConstructor;
    const b = await createWormhole({ mailbox: gw.url, WebSocket: ca });
    const code = await a.allocateCode();
    b.setCode(code);
    const [, text] = await Promise.all([a.sendText('webtransport meets websocket'), b.receiveText()]);
    expect(text).toBe('webtransport meets websocket');
    await Promise.all([a.close(), b.close()]);
    const deadline = Date.now() + 10_000;
    while (gw.stats().mailbox.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(gw.stats().mailbox).toMatchObject({ connections: 0, nameplates: 0, mailboxes: 0 });
  });

  it('refuses WebTransport without TLS', async () => {
    await expect(startGateway({ port: 0, transitPort: null, webtransportPort: 0 })).rejects.toThrow(/needs options.tls/);
    void WebSocket;
  });
});
