// The mailbox over WebTransport (HTTP/2 WebSocket mapping, as browsers use
// it through the ponyfill): two clients pass a message through a mailbox
// over it, and with a client on plain WebSocket; frames are length-prefixed.
// (Burrow's own client transport over it is tested in @burrow/client.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWebTransportPonyfill, testCertificate, waitFor, type PonyfillWebTransportCtor } from '@burrow/testkit';
import { startGateway, type Gateway } from '../src/index.js';
import { encodeFrame, FrameDecoder, peerHost } from '../src/mailbox/webtransport.js';
import { exchange, wsMailboxClient, wtMailboxClient } from './support/raw-mailbox.js';

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
  let WebTransport: PonyfillWebTransportCtor;
  let cert: string;

  beforeAll(async () => {
    const tls = testCertificate();
    cert = tls.cert;
    WebTransport = await loadWebTransportPonyfill(tls.cert);
    gw = await startGateway({ port: 0, transitPort: 0, webtransportPort: 0, tls });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('starts a WebTransport listener beside the WebSocket one', () => {
    expect(gw.webtransportUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(gw.url).toMatch(/^wss:\/\//);
  });

  it('two clients pass a message through a mailbox over WebTransport', async () => {
    const mailbox = `${gw.webtransportUrl}/v1`;
    const [a, b] = await Promise.all([wtMailboxClient(WebTransport, mailbox), wtMailboxClient(WebTransport, mailbox)]);
    expect(await exchange(a, b, '0be7')).toBe('0be7');
    a.close();
    b.close();
  });

  it('a WebTransport client and a WebSocket client meet in the same mailbox', async () => {
    const a = await wtMailboxClient(WebTransport, `${gw.webtransportUrl}/v1`);
    // The WebSocket side uses wss with the same test certificate.
    const b = await wsMailboxClient(gw.url, { ca: cert });
    expect(await exchange(a, b, '3ee7')).toBe('3ee7');
    a.close();
    b.close();
    await waitFor(() => gw.stats().mailbox.connections === 0, { message: 'both clients to leave' });
    expect(gw.stats().mailbox).toMatchObject({ connections: 0, nameplates: 0, mailboxes: 0 });
  });

  it('refuses WebTransport without TLS', async () => {
    await expect(startGateway({ port: 0, transitPort: null, webtransportPort: 0 })).rejects.toThrow(/needs options.tls/);
  });
});
