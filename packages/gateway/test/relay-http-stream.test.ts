// The relay's HTTP side for receiving pages, over real sockets: a streamed
// GET is the connection (relay → client bytes), POSTs in `seq` order carry
// the client's bytes; a TCP peer meets it like any other; CORS, bad ids,
// duplicate ids, out-of-order posts, a page that goes away.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@burrow/testkit';
import { relayLine, tcpRelayPeer } from './support/relay-peers.js';
import { listenTcpRelay, TransitRelay } from '../src/index.js';
import { RELAY_STREAM_PREAMBLE, RELAY_STREAM_PREFIX, RelayHttpStreamServer } from '../src/relay/http-stream.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const line = relayLine;
const newId = (): string => randomBytes(16).toString('hex');

/** A relay with a TCP listener and the HTTP side on an HTTP server whose request timeout is short. */
async function relayServer(options: ConstructorParameters<typeof RelayHttpStreamServer>[1] = {}) {
  const relay = new TransitRelay();
  const streams = new RelayHttpStreamServer(relay, options);
  const http = createServer((req, res) => streams.handle(req, res));
  http.requestTimeout = 1_000; // a streamed response must outlive it
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const tcp = await listenTcpRelay(relay, { host: '127.0.0.1', port: 0 });
  cleanups.push(async () => {
    relay.close();
    await tcp.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });
  const port = (http.address() as { port: number }).port;
  return { relay, base: `http://127.0.0.1:${port}${RELAY_STREAM_PREFIX}`, transitPort: tcp.port };
}

const tcpPeer = tcpRelayPeer;

/** Open the GET side and collect its body. */
async function httpPeer(url: string) {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  const chunks: Uint8Array[] = [];
  let ended = false;
  const done = (async () => {
    try {
      for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
      ended = true;
    } catch {
      // aborted
    }
  })();
  let seq = 0;
  const post = (body: Uint8Array<ArrayBuffer> | string, s = seq++) => fetch(`${url}?seq=${s}`, { method: 'POST', body });
  // Every stream starts with the preamble: the relay's bytes follow it.
  const received = () => {
    const all = Buffer.concat(chunks);
    expect(all.subarray(0, RELAY_STREAM_PREAMBLE.length).toString()).toBe(RELAY_STREAM_PREAMBLE.slice(0, all.length));
    return all.subarray(RELAY_STREAM_PREAMBLE.length);
  };
  return { res, abort, done, post, ended: () => ended, received };
}

describe('relay over an HTTP stream', () => {
  it('glues a GET + POSTs to a TCP peer, both ways, past the request timeout', async () => {
    const { base, transitPort } = await relayServer();
    const token = randomBytes(32).toString('hex');
    const page = await httpPeer(base + newId());
    expect(page.res.status).toBe(200);
    expect(page.res.headers.get('access-control-allow-origin')).toBe('*');
    expect((await page.post(line(token, 'pppppppppppppppp'))).status).toBe(204);
    const tcp = tcpPeer(transitPort, token);
    await waitFor(() => page.received().length >= 3 && tcp.received().length >= 3);
    expect(page.received().toString()).toBe('ok\n');
    await new Promise((r) => setTimeout(r, 1_200)); // longer than the server's requestTimeout
    const bulk = randomBytes(3 << 20);
    tcp.socket.write(bulk);
    await waitFor(() => page.received().length >= 3 + bulk.length, { timeoutMs: 10_000 });
    expect(page.received().subarray(3).equals(bulk)).toBe(true);
    expect((await page.post(new Uint8Array([1, 2, 3]))).status).toBe(204);
    await waitFor(() => tcp.received().length >= 6);
    expect([...tcp.received().subarray(3)]).toEqual([1, 2, 3]);
    tcp.socket.end();
    await page.done;
    expect(page.ended()).toBe(true); // the peer left: the response ends
  });

  it('a page that aborts its GET closes the TCP peer', async () => {
    const { base, transitPort } = await relayServer();
    const token = randomBytes(32).toString('hex');
    const page = await httpPeer(base + newId());
    await page.post(line(token, 'pppppppppppppppp'));
    const tcp = tcpPeer(transitPort, token);
    await waitFor(() => tcp.received().length >= 3);
    page.abort.abort();
    await tcp.closed;
  });

  it('answers preflights; refuses bad ids, a second GET, unknown sessions and posts out of order', async () => {
    const { base, relay } = await relayServer();
    const id = newId();
    const pre = await fetch(base + id, { method: 'OPTIONS', headers: { origin: 'https://page.example', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect((await fetch(base + 'short')).status).toBe(400);
    expect((await fetch(`${base}${newId()}?seq=0`, { method: 'POST', body: 'x' })).status).toBe(404);
    const page = await httpPeer(base + id);
    expect((await fetch(base + id)).status).toBe(409);
    expect((await page.post('please', 1)).status).toBe(409);
    expect((await page.post('please relay ', 0)).status).toBe(204);
    expect((await page.post('again', 0)).status).toBe(409);
    expect((await fetch(base + id, { method: 'PUT', body: 'x' })).status).toBe(405);
    expect(relay.stats().connections).toBe(1);
    page.abort.abort();
    await waitFor(() => relay.stats().connections === 0);
  });

  it('a POST over the body cap ends the connection', async () => {
    const { base, relay } = await relayServer();
    const page = await httpPeer(base + newId());
    const big = await page.post(new Uint8Array((1 << 20) + 1)).catch(() => undefined);
    if (big) expect(big.status).toBe(413);
    await waitFor(() => relay.stats().connections === 0);
    await page.done;
  });

  it.each([
    ['dribbles past its deadline (408)', false],
    ['is cut off by the client', true],
  ])('a POST body that %s ends the connection, the TCP peer too', async (_, cut) => {
    const { base, relay, transitPort } = await relayServer({ bodyTimeoutMs: cut ? 60_000 : 300 });
    const token = randomBytes(32).toString('hex');
    const id = newId();
    const page = await httpPeer(base + id);
    await page.post(line(token, 'pppppppppppppppp'));
    const tcp = tcpPeer(transitPort, token);
    await waitFor(() => tcp.received().length >= 3);
    // Headers that promise 10 bytes, then 3 of them, then nothing.
    const slow = connect(Number(new URL(base).port), '127.0.0.1');
    const answered: Buffer[] = [];
    slow.on('data', (d: Buffer) => answered.push(d));
    slow.write(`POST ${RELAY_STREAM_PREFIX}${id}?seq=1 HTTP/1.1\r\nhost: relay\r\ncontent-length: 10\r\n\r\nabc`);
    if (cut) setTimeout(() => slow.destroy(), 100);
    else await waitFor(() => Buffer.concat(answered).toString().startsWith('HTTP/1.1 408'), { message: 'a 408', timeoutMs: 5_000 });
    await tcp.closed;
    await page.done;
    await waitFor(() => relay.stats().connections === 0);
    expect([...tcp.received().subarray(3)]).toEqual([]); // the partial body never reached the peer
    slow.destroy();
  });
});
