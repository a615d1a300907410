// The relay over WebTransport (HTTP/2 WebSocket mapping, as browsers use it
// through the ponyfill): a WebTransport client meets a TCP client by token,
// bytes pass unchanged both ways; a lonely token times out.
import { bestEffort } from '@burrow/protocol';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWebTransportPonyfill as loadPonyfill, testCertificate, waitFor, type PonyfillWebTransportCtor as WebTransportCtor } from '@burrow/testkit';
import { startGateway, type Gateway } from '../src/index.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const line = (token: string, side: string): Uint8Array => new TextEncoder().encode(`please relay ${token} for side ${side}\n`);

describe('gateway relay over WebTransport', () => {
  let gw: Gateway;
  let WebTransport: WebTransportCtor;

  beforeAll(async () => {
    const tls = testCertificate();
    WebTransport = await loadPonyfill(tls.cert);
    gw = await startGateway({ port: 0, transitPort: 0, webtransportPort: 0, tls, relayLimits: { lonelyTimeoutMs: 500 } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  async function wtClient() {
    const wt = new WebTransport(`${gw.webtransportUrl}/relay`);
    await wt.ready;
    const stream = await wt.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    const chunks: Uint8Array[] = [];
    let received = 0;
    let ended = false;
    void (async () => {
      const reader = stream.readable.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.length;
      }
    })()
      .catch(bestEffort)
      .finally(() => (ended = true));
    return {
      wt,
      write: (d: Uint8Array) => writer.write(d),
      received: () => received,
      bytes: () => Buffer.concat(chunks),
      ended: () => ended,
    };
  }

  async function tcpClient(): Promise<{ socket: Socket; bytes: () => Buffer }> {
    const socket = connect(gw.transitPort!, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {
      /* resets and refusals are part of the test: the outcome is asserted, not the socket error */
    });
    return { socket, bytes: () => Buffer.concat(chunks) };
  }

  it('glues a WebTransport client to a TCP client; 8 MB each way arrive unchanged', async () => {
    const token = randomBytes(32).toString('hex');
    const browser = await wtClient();
    const native = await tcpClient();
    await browser.write(line(token, '0000000000000001'));
    native.socket.write(line(token, '0000000000000002'));
    await waitFor(() => browser.received() === 3 && native.bytes().length === 3, { message: 'ok on both' });
    expect(browser.bytes().toString()).toBe('ok\n');

    const up = randomBytes(8 << 20);
    const down = randomBytes(8 << 20);
    native.socket.write(down);
    for (let i = 0; i < up.length; i += 32 << 10) await browser.write(up.subarray(i, i + (32 << 10)));
    await waitFor(() => native.bytes().length === 3 + up.length && browser.received() === 3 + down.length, { message: 'all bytes', timeoutMs: 20_000 });
    expect(sha(native.bytes().subarray(3))).toBe(sha(up));
    expect(sha(browser.bytes().subarray(3))).toBe(sha(down));

    native.socket.end();
    await waitFor(() => browser.ended(), { message: 'the WebTransport side to be closed' });
    browser.wt.close();
    await waitFor(() => gw.stats().relay.connections === 0, { message: 'relay empty' });
  });

  it('times out a WebTransport client whose token nobody matches', async () => {
    const lonely = await wtClient();
    await lonely.write(line(randomBytes(32).toString('hex'), 'aaaaaaaaaaaaaaaa'));
    await waitFor(() => lonely.ended(), { message: 'the lonely session to end', timeoutMs: 10_000 });
    expect(lonely.received()).toBe(0);
    await waitFor(() => gw.stats().relay.connections === 0, { message: 'relay empty' });
  });
});
