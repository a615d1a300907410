// Burrow's own WebTransport mailbox transport (@burrow/client
// webTransportTransport) against the gateway's WebTransport listener, in
// Node, through the @fails-components ponyfill (HTTP/2 WebSocket mapping,
// what browsers without native WebTransport use): a text exchange, a
// message large enough to need split writes, a WebTransport client meeting a
// WebSocket client, and clean closes that leave no connection behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '@burrow/gateway';
import { assertPrivateNetwork, loadWebTransportPonyfill, testCertificate, waitFor } from '@burrow/testkit';
import { createWormhole, webTransportTransport, type MailboxTransport, type WebSocketConstructor, type WebTransportConstructor } from '../src/index.js';

describe('client webTransportTransport through the gateway (ponyfill, Node)', () => {
  let gw: Gateway;
  let transport: MailboxTransport;
  let mailbox: string;

  beforeAll(async () => {
    assertPrivateNetwork();
    const tls = testCertificate();
    const Ponyfill = await loadWebTransportPonyfill(tls.cert);
    transport = webTransportTransport({ WebTransport: Ponyfill as unknown as WebTransportConstructor });
    gw = await startGateway({ port: 0, transitPort: 0, webtransportPort: 0, tls });
    mailbox = `${gw.webtransportUrl!}/v1`;
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('two Burrow clients complete a text transfer over WebTransport', async () => {
    const a = await createWormhole({ mailbox, transport });
    const b = await createWormhole({ mailbox, transport });
    const code = await a.allocateCode();
    b.setCode(code);
    const [, text] = await Promise.all([a.sendText('hello over webtransport 🌍'), b.receiveText({ signal: AbortSignal.timeout(20_000) })]);
    expect(text).toBe('hello over webtransport 🌍');
    expect(await a.verifier).toEqual(await b.verifier);
    await Promise.all([a.close(), b.close()]);
    await waitFor(() => gw.stats().mailbox.connections === 0, { message: 'the gateway to see both clients leave' });
    expect(gw.stats().mailbox).toMatchObject({ connections: 0, nameplates: 0, mailboxes: 0 });
  });

  it('carries a frame that needs several 32 KiB writes (100 KiB text, ~200 KiB hex frame)', async () => {
    // The gateway's default frame limit is 256 KiB; hex doubles the message.
    const big = 'burrow '.repeat(Math.ceil((100 * 1024) / 7)).slice(0, 100 * 1024);
    const a = await createWormhole({ mailbox, transport });
    const b = await createWormhole({ mailbox, transport });
    try {
      b.setCode(await a.allocateCode());
      const [, text] = await Promise.all([a.sendText(big), b.receiveText({ signal: AbortSignal.timeout(30_000) })]);
      expect(text.length).toBe(big.length);
      expect(text === big).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a WebTransport client and a WebSocket (wss) client meet in one mailbox', async () => {
    // loadPonyfill installed a `ws` WebSocket that trusts the test certificate.
    const TrustingWebSocket = (globalThis as { WebSocket: unknown }).WebSocket as WebSocketConstructor;
    const a = await createWormhole({ mailbox: gw.url, WebSocket: TrustingWebSocket });
    const b = await createWormhole({ mailbox, transport });
    b.setCode(await a.allocateCode());
    const [, text] = await Promise.all([a.sendText('websocket → webtransport'), b.receiveText({ signal: AbortSignal.timeout(20_000) })]);
    expect(text).toBe('websocket → webtransport');
    await Promise.all([a.close(), b.close()]);
    await waitFor(() => gw.stats().mailbox.connections === 0, { message: 'both clients to leave' });
  });

  it('reports an unreachable WebTransport mailbox as a Connection error', async () => {
    await expect(createWormhole({ mailbox: 'https://127.0.0.1:9/v1', transport })).rejects.toMatchObject({ code: 'Connection' });
  });
});
