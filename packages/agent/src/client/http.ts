/**
 * HTTP/1.1 over one forwarded stream: enough to `fetch` from a local service
 * through the agent (one request per stream, `Connection: close`). Bodies
 * with Content-Length, chunked encoding, or up to the end of the stream.
 */
import { WormholeError, concatBytes, fromUtf8, utf8 } from '@burrow/protocol';
import type { DuplexStream } from '@burrow/client';
import { bestEffort } from '../ignore.js';

const MAX_HEAD = 64 * 1024;
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export interface AgentFetchInit {
  method?: string;
  headers?: Record<string, string> | [string, string][];
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

/** Host and port of an http:// URL as the agent's allowlist spells them (`host:port`). */
export function destinationOf(url: URL): string {
  if (url.protocol !== 'http:') throw new WormholeError('Usage', `agent fetch supports http:// URLs only (got ${url.protocol})`);
  return `${url.hostname}:${url.port || '80'}`;
}

function headerLines(url: URL, init: AgentFetchInit, bodyLength: number): string {
  const headers = new Map<string, [string, string]>();
  const entries = Array.isArray(init.headers) ? init.headers : Object.entries(init.headers ?? {});
  for (const [k, v] of entries) {
    if (/[\r\n:]/.test(k) || /[\r\n]/.test(v)) throw new WormholeError('Usage', 'header names and values must not contain line breaks');
    headers.set(k.toLowerCase(), [k, v]);
  }
  headers.set('host', ['Host', url.host]);
  headers.set('connection', ['Connection', 'close']);
  if (bodyLength > 0 || init.method === 'POST' || init.method === 'PUT') headers.set('content-length', ['Content-Length', String(bodyLength)]);
  headers.delete('transfer-encoding');
  return [...headers.values()].map(([k, v]) => `${k}: ${v}\r\n`).join('');
}

/** A pull-based byte reader over a ReadableStream. */
class ByteReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #onDone: () => void;
  #buf: Uint8Array = new Uint8Array(0);
  #eof = false;

  constructor(readable: ReadableStream<Uint8Array>, onDone: () => void) {
    this.#reader = readable.getReader();
    this.#onDone = onDone;
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const { value, done } = await this.#reader.read();
    if (done) {
      this.#eof = true;
      return false;
    }
    this.#buf = concatBytes(this.#buf, value);
    return true;
  }

  /** Bytes up to and including `delimiter`, or throws past `limit`. */
  async until(delimiter: Uint8Array, limit: number): Promise<Uint8Array> {
    for (;;) {
      const i = indexOf(this.#buf, delimiter);
      if (i >= 0) {
        const out = this.#buf.slice(0, i + delimiter.length);
        this.#buf = this.#buf.slice(i + delimiter.length);
        return out;
      }
      if (this.#buf.length > limit) throw new WormholeError('RemoteProtocol', 'http: response head too large');
      if (!(await this.#fill())) throw new WormholeError('RemoteProtocol', 'http: the service closed the connection before answering');
    }
  }

  /** Up to `max` bytes (at least 1), or undefined at the end. */
  async some(max: number): Promise<Uint8Array | undefined> {
    if (this.#buf.length === 0 && !(await this.#fill())) return undefined;
    const out = this.#buf.slice(0, max);
    this.#buf = this.#buf.slice(out.length);
    return out;
  }

  /** Done with the response: release the stream (both directions). */
  cancel(reason?: unknown): void {
    this.#reader.cancel(reason).catch(bestEffort);
    this.#onDone();
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const CRLF = utf8('\r\n');
const CRLFCRLF = utf8('\r\n\r\n');

function bodyStream(reader: ByteReader, headers: Headers): ReadableStream<Uint8Array> {
  const length = headers.get('content-length');
  const chunked = /\bchunked\b/i.test(headers.get('transfer-encoding') ?? '');
  let remaining = length !== null && !chunked ? Number(length) : Infinity;
  if (!Number.isFinite(remaining) && !chunked && length !== null) throw new WormholeError('RemoteProtocol', 'http: bad Content-Length');
  let chunkLeft = 0;
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (finished) return;
        if (chunked) {
          if (chunkLeft === 0) {
            const line = fromUtf8(await reader.until(CRLF, 1024)).trim();
            const size = parseInt(line.split(';')[0] ?? '', 16);
            if (!Number.isInteger(size) || size < 0) throw new WormholeError('RemoteProtocol', 'http: bad chunk size');
            if (size === 0) {
              finished = true;
              controller.close();
              reader.cancel();
              return;
            }
            chunkLeft = size;
          }
          const data = await reader.some(chunkLeft);
          if (!data) throw new WormholeError('RemoteProtocol', 'http: the body ended inside a chunk');
          chunkLeft -= data.length;
          if (chunkLeft === 0) await reader.until(CRLF, 2);
          controller.enqueue(data);
          return;
        }
        if (remaining === 0) {
          finished = true;
          controller.close();
          reader.cancel();
          return;
        }
        const data = await reader.some(Math.min(remaining, 64 * 1024));
        if (!data) {
          finished = true;
          if (Number.isFinite(remaining)) controller.error(new WormholeError('RemoteProtocol', 'http: the body is shorter than its Content-Length'));
          else controller.close();
          reader.cancel();
          return;
        }
        remaining -= data.length;
        controller.enqueue(data);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/** Send one HTTP/1.1 request over `stream` and parse the answer into a `Response`. */
export async function httpOverStream(stream: DuplexStream, url: URL, init: AgentFetchInit = {}): Promise<Response> {
  const method = (init.method ?? 'GET').toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new WormholeError('Usage', 'bad HTTP method');
  const body = typeof init.body === 'string' ? utf8(init.body) : (init.body ?? new Uint8Array(0));
  const head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\n${headerLines(url, { ...init, method }, body.length)}\r\n`;
  const writer = stream.writable.getWriter();
  await writer.write(body.length > 0 ? concatBytes(utf8(head), body) : utf8(head));
  writer.releaseLock();
  const reader = new ByteReader(stream.readable, () => void stream.writable.close().catch(bestEffort));
  const headText = fromUtf8(await reader.until(CRLFCRLF, MAX_HEAD));
  const [statusLine, ...lines] = headText.split('\r\n').filter((l) => l.length > 0);
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine ?? '');
  if (!m) throw new WormholeError('RemoteProtocol', 'http: the service did not answer with HTTP/1.x');
  const status = Number(m[1]);
  const headers = new Headers();
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const responseBody = NULL_BODY.has(status) || method === 'HEAD' ? null : bodyStream(reader, headers);
  if (responseBody === null) reader.cancel();
  return new Response(responseBody, { status: status < 200 ? 200 : status, statusText: m[2] ?? '', headers });
}
