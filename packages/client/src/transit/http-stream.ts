/**
 * A relay connection over plain HTTP, for pages that receive: one streamed
 * GET carries the relay's bytes to the page, each write goes out as a POST
 * (in order, one at a time). Chromium spends about half the CPU per byte on
 * a download that it spends on WebSocket messages, and the page's reads
 * pace the relay (a WebSocket has no receive backpressure in browsers).
 *
 * Writes wait for their POST's answer, so sending is paced by round trips:
 * use this dialer where the page receives, and {@link webSocketDialer} where
 * it sends. A gateway without the HTTP side (or any failure before the
 * stream opens) falls back to `fallback`, if given.
 *
 * Wire: `GET <relay>-stream/<id>` → 200, body = {@link PREAMBLE} then
 * relay → page bytes (a 200 without the preamble is not a relay: fallback);
 * `POST <relay>-stream/<id>?seq=N` (N = 0, 1, …) body = page → relay bytes
 * → 204. `<id>` is 128 random bits (hex); `ws(s)://host/relay` maps to
 * `http(s)://host/relay-stream/<id>`.
 */
import { WormholeError, abortError, concatBytes, toHex, type RandomSource } from '@burrow/protocol';
import { systemRandom } from '../random.js';
import type { ByteChannel, DialOptions, WebSocketDialer } from './types.js';

/** The first bytes of every relay stream (gateway: packages/gateway/src/relay/http-stream.ts). */
const PREAMBLE = 'burrow relay-stream v1\n';

type Fetch = (url: string, init?: { method?: string; body?: Uint8Array; signal?: AbortSignal }) => Promise<{
  readonly ok: boolean;
  readonly status: number;
  readonly body: ReadableStream<Uint8Array> | null;
}>;

export interface HttpStreamDialerOptions {
  /** Used when the relay has no HTTP side or the stream cannot be opened (e.g. `webSocketDialer()`). */
  fallback?: WebSocketDialer;
  /** `fetch` implementation (default `globalThis.fetch`). */
  fetch?: Fetch;
  /** Randomness for the stream id (default crypto.getRandomValues). */
  random?: RandomSource;
}

/** `ws(s)://host/path` → `http(s)://host/path-stream/<id>`, or undefined for any other scheme. */
export function relayStreamUrl(relayUrl: string, id: string): string | undefined {
  const m = /^(wss?):\/\/([^/?#]+)(\/[^?#]*)?$/i.exec(relayUrl);
  if (!m) return undefined;
  const path = (m[3] ?? '/relay').replace(/\/$/, '');
  return `${m[1]!.toLowerCase() === 'wss' ? 'https' : 'http'}://${m[2]}${path}-stream/${id}`;
}

/**
 * @example
 * const offer = await receiveOffer(w, { transit: { dialers: { websocket: httpStreamDialer({ fallback: webSocketDialer() }) } } });
 */
export function httpStreamDialer(options: HttpStreamDialerOptions = {}): WebSocketDialer {
  const random = options.random ?? systemRandom;
  return async (url: string, dial: DialOptions): Promise<ByteChannel> => {
    if (dial.signal?.aborted) throw abortError(dial.signal);
    const doFetch = options.fetch ?? (globalThis as { fetch?: Fetch }).fetch?.bind(globalThis);
    const streamUrl = relayStreamUrl(url, toHex(random(16)));
    try {
      if (!doFetch || !streamUrl) throw new WormholeError('Usage', `no HTTP stream for ${url}`);
      return await open(doFetch, streamUrl, dial.signal);
    } catch (err) {
      if (dial.signal?.aborted || !options.fallback) throw err;
      return options.fallback(url, dial);
    }
  };
}

async function open(doFetch: Fetch, url: string, signal: AbortSignal | undefined): Promise<ByteChannel> {
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let res;
  try {
    res = await doFetch(url, { signal: abort.signal });
  } catch (err) {
    throw signal?.aborted ? abortError(signal) : new WormholeError('Connection', `cannot open HTTP stream ${url}: ${String(err)}`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const body = res.body;
  if (!res.ok || !body) {
    abort.abort();
    throw new WormholeError('Connection', `HTTP stream ${url} refused (${res.status})`);
  }
  const close = () => abort.abort();
  const reader = body.getReader();
  let first: Uint8Array;
  try {
    first = await readPreamble(reader);
  } catch (err) {
    abort.abort();
    throw signal?.aborted ? abortError(signal) : new WormholeError('Connection', `HTTP stream ${url} is not a relay: ${String(err)}`);
  }
  const readable = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (first.length > 0) {
        c.enqueue(first);
        first = new Uint8Array(0);
        return;
      }
      try {
        const r = await reader.read();
        if (r.done) c.close();
        else c.enqueue(r.value);
      } catch {
        c.error(new WormholeError('Connection', `HTTP stream ${url} closed`));
      }
    },
    cancel: close,
  });
  let seq = 0;
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (abort.signal.aborted) throw new WormholeError('Connection', 'HTTP stream closed');
      let answer;
      try {
        answer = await doFetch(`${url}?seq=${seq++}`, { method: 'POST', body: chunk, signal: abort.signal });
      } catch (err) {
        throw new WormholeError('Connection', `HTTP stream POST failed: ${String(err)}`);
      }
      if (!answer.ok) throw new WormholeError('Connection', `HTTP stream POST refused (${answer.status})`);
    },
    close,
    abort: close,
  });
  return { readable, writable, close };
}

/** Read the stream's preamble; returns whatever came after it. */
async function readPreamble(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array> {
  let head: Uint8Array = new Uint8Array(0);
  while (head.length < PREAMBLE.length) {
    const r = await reader.read();
    if (r.done) throw new Error('ended before its preamble');
    head = head.length ? concatBytes(head, r.value) : r.value;
  }
  for (let i = 0; i < PREAMBLE.length; i++) if (head[i] !== PREAMBLE.charCodeAt(i)) throw new Error('wrong preamble');
  return head.subarray(PREAMBLE.length);
}
