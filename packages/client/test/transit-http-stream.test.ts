// The HTTP-stream relay dialer against a scripted fetch: the URL it derives,
// one GET for the relay's bytes, writes as POSTs in seq order, close aborts,
// and the fallback when the relay has no HTTP side.
import { describe, expect, it } from 'vitest';
import { httpStreamDialer, relayStreamUrl } from '../src/transit/http-stream.js';
import type { ByteChannel } from '../src/transit/types.js';
import { concatBytes } from '@burrow/protocol';

const PREAMBLE = new TextEncoder().encode('burrow relay-stream v1\n');

interface Call {
  url: string;
  method: string;
  body: number[] | undefined;
  signal: AbortSignal | undefined;
}

/** A fetch whose GET answers `getStatus` with a body we feed, and whose POSTs answer `postStatus`. */
function scriptedFetch(getStatus = 200, postStatus = 204) {
  const calls: Call[] = [];
  let feed!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (feed = c) });
  const fetch = async (url: string, init: { method?: string; body?: Uint8Array; signal?: AbortSignal } = {}) => {
    calls.push({ url, method: init.method ?? 'GET', body: init.body && [...init.body], signal: init.signal });
    await Promise.resolve();
    if ((init.method ?? 'GET') === 'GET') return { ok: getStatus === 200, status: getStatus, body };
    return { ok: postStatus < 300, status: postStatus, body: null };
  };
  return { fetch, calls, feed: () => feed };
}

const random = (n: number) => new Uint8Array(n).fill(0xab);
const ID = 'ab'.repeat(16);

describe('relayStreamUrl', () => {
  it('maps the relay WebSocket URL to its HTTP stream', () => {
    expect(relayStreamUrl('ws://gw.example:4000/relay', 'x')).toBe('http://gw.example:4000/relay-stream/x');
    expect(relayStreamUrl('wss://gw.example/relay/', 'x')).toBe('https://gw.example/relay-stream/x');
    expect(relayStreamUrl('wss://gw.example', 'x')).toBe('https://gw.example/relay-stream/x');
    expect(relayStreamUrl('tcp:gw.example:4001', 'x')).toBeUndefined();
  });
});

describe('httpStreamDialer', () => {
  it('reads the GET body, POSTs each write in order, and aborts on close', async () => {
    const f = scriptedFetch();
    const dialled = httpStreamDialer({ fetch: f.fetch, random })('ws://gw:1/relay', {});
    // The preamble split across reads, the relay's first bytes with its end.
    f.feed().enqueue(PREAMBLE.subarray(0, 5));
    f.feed().enqueue(concatBytes(PREAMBLE.subarray(5), new Uint8Array([111, 107])));
    const channel: ByteChannel = await dialled;
    expect(f.calls[0]).toMatchObject({ url: `http://gw:1/relay-stream/${ID}`, method: 'GET' });
    const writer = channel.writable.getWriter();
    await writer.write(new Uint8Array([1, 2]));
    await writer.write(new Uint8Array([3]));
    expect(f.calls.slice(1).map((c) => [c.url, c.method, c.body])).toEqual([
      [`http://gw:1/relay-stream/${ID}?seq=0`, 'POST', [1, 2]],
      [`http://gw:1/relay-stream/${ID}?seq=1`, 'POST', [3]],
    ]);
    const reader = channel.readable.getReader();
    expect([...(await reader.read()).value!]).toEqual([111, 107]); // what came with the preamble
    f.feed().enqueue(new Uint8Array([10]));
    expect([...(await reader.read()).value!]).toEqual([10]);
    f.feed().close();
    expect((await reader.read()).done).toBe(true);
    channel.close();
    expect(f.calls[0]!.signal!.aborted).toBe(true);
    await expect(writer.write(new Uint8Array([4]))).rejects.toMatchObject({ code: 'Connection' });
  });

  it('a refused POST fails the write', async () => {
    const f = scriptedFetch(200, 409);
    f.feed().enqueue(PREAMBLE);
    const channel = await httpStreamDialer({ fetch: f.fetch, random })('ws://gw:1/relay', {});
    await expect(channel.writable.getWriter().write(new Uint8Array([1]))).rejects.toMatchObject({ code: 'Connection' });
  });

  it('a 200 that does not start with the preamble is not a relay: it falls back', async () => {
    const f = scriptedFetch();
    f.feed().enqueue(new TextEncoder().encode('<!doctype html><title>an app answering every path</title>'));
    const fallbackChannel = { close: () => undefined } as unknown as ByteChannel;
    expect(await httpStreamDialer({ fetch: f.fetch, random, fallback: async () => fallbackChannel })('ws://gw/relay', {})).toBe(fallbackChannel);
    expect(f.calls[0]!.signal!.aborted).toBe(true);
    const ended = scriptedFetch();
    ended.feed().close();
    await expect(httpStreamDialer({ fetch: ended.fetch, random })('ws://gw/relay', {})).rejects.toMatchObject({ code: 'Connection' });
  });

  it('falls back when the relay has no HTTP side (404) or fetch fails', async () => {
    const fallbackChannel = { close: () => undefined } as unknown as ByteChannel;
    const used: string[] = [];
    const fallback = async (url: string) => {
      used.push(url);
      return fallbackChannel;
    };
    const missing = scriptedFetch(404);
    expect(await httpStreamDialer({ fetch: missing.fetch, random, fallback })('wss://gw/relay', {})).toBe(fallbackChannel);
    expect(missing.calls[0]!.signal!.aborted).toBe(true);
    const failing = async () => Promise.reject(new TypeError('Failed to fetch'));
    expect(await httpStreamDialer({ fetch: failing, random, fallback })('wss://gw/relay', {})).toBe(fallbackChannel);
    expect(await httpStreamDialer({ fetch: failing, random, fallback })('tcp:gw:1', {})).toBe(fallbackChannel);
    expect(used).toEqual(['wss://gw/relay', 'wss://gw/relay', 'tcp:gw:1']);
  });

  it('without a fallback a refused stream fails with Connection; an aborted dial with Aborted', async () => {
    await expect(httpStreamDialer({ fetch: scriptedFetch(404).fetch, random })('ws://gw/relay', {})).rejects.toMatchObject({ code: 'Connection' });
    const abort = new AbortController();
    abort.abort();
    const fallback = () => Promise.reject(new Error('must not be used'));
    await expect(httpStreamDialer({ fetch: scriptedFetch().fetch, random, fallback })('ws://gw/relay', { signal: abort.signal })).rejects.toMatchObject({
      code: 'Aborted',
    });
  });
});
