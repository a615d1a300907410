/**
 * RPC over streams: one stream per call. The caller opens a stream and
 * writes a request header; the callee answers with a response header. Each
 * header is one length-prefixed frame (../frames.ts: a 4-byte big-endian
 * length, then that many bytes) of UTF-8 JSON, at most {@link MAX_HEADER}:
 *
 *   request   {"method": "info" | "forward" | …, "params": {…}}
 *   response  {"ok": true, "result": …} | {"ok": false, "error": {"code", "message"}}
 *
 * After an ordinary call both sides close the stream. After a successful
 * `forward` the stream carries the raw bytes of the TCP connection the agent
 * opened, in both directions, until either end closes. Sans I/O: the
 * {@link RpcHeaderReader} is fed the stream's chunks by its owner.
 */
import { utf8 } from '../bytes.js';
import { WormholeError, type WormholeErrorCode } from '../errors.js';
import { LengthPrefixedParser, encodeLengthPrefixed } from '../frames.js';
import { isJsonObject, type JsonObject } from '../json.js';
import { parsePeerBytes } from './json.js';

/** Largest header, in bytes. */
export const MAX_HEADER = 64 * 1024;

export type RpcRequest = { readonly method: string; readonly params: Record<string, unknown> };
export type RpcResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { readonly code: WormholeErrorCode; readonly message: string } };

/** Codes a callee may answer with; others become `RemoteProtocol`. */
const RESPONSE_CODES: ReadonlySet<string> = new Set<WormholeErrorCode>(['NotAllowed', 'Unpaired', 'Revoked', 'Rejected', 'Connection', 'Usage', 'Timeout', 'RemoteProtocol']);
const MAX_METHOD_LENGTH = 100;
const MAX_ERROR_MESSAGE = 500;

/**
 * One header as it goes on the stream. Throws a RangeError over {@link MAX_HEADER}.
 *
 * @example
 * await writer.write(encodeHeader({ method: 'info', params: {} }));
 */
export function encodeHeader(value: RpcRequest | RpcResponse): Uint8Array {
  const body = utf8(JSON.stringify(value));
  if (body.length > MAX_HEADER) throw new RangeError(`an RPC header is limited to ${MAX_HEADER} bytes`);
  return encodeLengthPrefixed(body);
}

/** A header and the bytes that came after it in the same chunk. */
export interface RpcHeader {
  readonly header: JsonObject;
  /** What followed the header (the start of a forwarded byte stream, say); may be empty. */
  readonly rest: Uint8Array;
}

/**
 * Reads the header at the start of a stream, chunk by chunk. Throws
 * `RemoteProtocol` for a header over {@link MAX_HEADER} (before buffering
 * it), one that is not a JSON object, or a stream that ends inside it.
 *
 * @example
 * const reader = new RpcHeaderReader();
 * for await (const chunk of stream) { const got = reader.push(chunk); if (got) return got; }
 * reader.end();   // throws: the stream ended inside the header
 */
export class RpcHeaderReader {
  readonly #frames = new LengthPrefixedParser(MAX_HEADER);
  #fed = 0;
  #done = false;

  /** Feed the next chunk; returns the header once it is complete (then the reader is done). */
  push(chunk: Uint8Array): RpcHeader | undefined {
    if (this.#done) throw new TypeError('the header was already read');
    let frame: Uint8Array | undefined;
    try {
      frame = this.#frames.feed(chunk).next().value ?? undefined;
    } catch (cause) {
      throw new WormholeError('RemoteProtocol', `rpc: header exceeds ${MAX_HEADER} bytes`, { cause });
    }
    if (frame === undefined) {
      this.#fed += chunk.length;
      return undefined;
    }
    this.#done = true;
    // The header is the stream's first frame: it ends at byte 4 + length of the stream.
    const end = 4 + frame.length - this.#fed;
    const header = parsePeerBytes(frame, { maxLength: MAX_HEADER }, 'rpc', 'header');
    return { header, rest: chunk.slice(end) };
  }

  /** The stream ended: throws unless the header was read. */
  end(): void {
    if (!this.#done) throw new WormholeError('RemoteProtocol', 'rpc: the stream ended inside a header');
  }
}

/** Read a header as a request; throws `RemoteProtocol` on a bad method or params. */
export function parseRequest(header: unknown): RpcRequest {
  if (!isJsonObject(header)) throw new WormholeError('RemoteProtocol', 'rpc: request is not an object');
  const method = header['method'];
  if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_LENGTH) throw new WormholeError('RemoteProtocol', 'rpc: bad method');
  const params = header['params'] ?? {};
  if (!isJsonObject(params)) throw new WormholeError('RemoteProtocol', 'rpc: params must be an object');
  return { method, params };
}

/** Read a header as a response; error codes outside the agreed set become `RemoteProtocol`. */
export function parseResponse(header: unknown): RpcResponse {
  if (!isJsonObject(header)) throw new WormholeError('RemoteProtocol', 'rpc: response is not an object');
  if (header['ok'] === true) return { ok: true, result: header['result'] ?? null };
  const e = isJsonObject(header['error']) ? header['error'] : {};
  const code = typeof e['code'] === 'string' && RESPONSE_CODES.has(e['code']) ? (e['code'] as WormholeErrorCode) : 'RemoteProtocol';
  return { ok: false, error: { code, message: typeof e['message'] === 'string' ? e['message'].slice(0, MAX_ERROR_MESSAGE) : 'the call failed' } };
}
