/**
 * RPC over streams: one stream per call. The caller opens a stream and
 * writes a request header; the callee answers with a response header. Each
 * header is a 4-byte big-endian length and that many bytes of UTF-8 JSON
 * (≤ {@link MAX_HEADER}):
 *
 *   request   {"method": "info" | "forward" | …, "params": {…}}
 *   response  {"ok": true, "result": …} | {"ok": false, "error": {"code", "message"}}
 *
 * After an ordinary call both sides close the stream. After a successful
 * `forward` the stream carries the raw bytes of the TCP connection the agent
 * opened, in both directions, until either end closes.
 */
import { WormholeError, concatBytes, fromUtf8, utf8, type WormholeErrorCode } from '@burrow/protocol';

export const MAX_HEADER = 64 * 1024;

export type RpcRequest = { readonly method: string; readonly params: Record<string, unknown> };
export type RpcResponse =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { readonly code: WormholeErrorCode; readonly message: string } };

/** Codes a callee may answer with; others become `RemoteProtocol`. */
const RESPONSE_CODES: ReadonlySet<string> = new Set<WormholeErrorCode>(['NotAllowed', 'Unpaired', 'Revoked', 'Rejected', 'Connection', 'Usage', 'Timeout', 'RemoteProtocol']);

export function encodeHeader(value: RpcRequest | RpcResponse): Uint8Array {
  const body = utf8(JSON.stringify(value));
  if (body.length > MAX_HEADER) throw new RangeError(`an RPC header is limited to ${MAX_HEADER} bytes`);
  const prefix = new Uint8Array(4);
  new DataView(prefix.buffer).setUint32(0, body.length);
  return concatBytes(prefix, body);
}

/**
 * Read one header from `readable`; returns it and a stream of the bytes that
 * follow it (the reader's lock moves to that stream).
 */
export async function readHeader(readable: ReadableStream<Uint8Array>): Promise<{ header: unknown; rest: ReadableStream<Uint8Array> }> {
  const reader = readable.getReader();
  try {
    return await readHeaderFrom(reader);
  } catch (err) {
    reader.cancel(err).catch(() => {});
    throw err;
  }
}

async function readHeaderFrom(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<{ header: unknown; rest: ReadableStream<Uint8Array> }> {
  let buffered: Uint8Array = new Uint8Array(0);
  let need = 4;
  let length: number | undefined;
  for (;;) {
    while (buffered.length < need) {
      const { value, done } = await reader.read();
      if (done) throw new WormholeError('RemoteProtocol', 'rpc: the stream ended inside a header');
      buffered = concatBytes(buffered, value);
    }
    if (length === undefined) {
      length = new DataView(buffered.buffer, buffered.byteOffset, 4).getUint32(0);
      if (length > MAX_HEADER) throw new WormholeError('RemoteProtocol', `rpc: header of ${length} bytes exceeds ${MAX_HEADER}`);
      need = 4 + length;
      continue;
    }
    break;
  }
  let header: unknown;
  try {
    header = JSON.parse(fromUtf8(buffered.subarray(4, need)));
  } catch (cause) {
    throw new WormholeError('RemoteProtocol', 'rpc: header is not JSON', { cause });
  }
  let leftover: Uint8Array | undefined = buffered.length > need ? buffered.slice(need) : undefined;
  const rest = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (leftover) {
          controller.enqueue(leftover);
          leftover = undefined;
          return;
        }
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return { header, rest };
}

export function parseRequest(header: unknown): RpcRequest {
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new WormholeError('RemoteProtocol', 'rpc: request is not an object');
  const h = header as Record<string, unknown>;
  if (typeof h['method'] !== 'string' || h['method'].length === 0 || h['method'].length > 100) throw new WormholeError('RemoteProtocol', 'rpc: bad method');
  const params = h['params'] ?? {};
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new WormholeError('RemoteProtocol', 'rpc: params must be an object');
  return { method: h['method'], params: params as Record<string, unknown> };
}

export function parseResponse(header: unknown): RpcResponse {
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new WormholeError('RemoteProtocol', 'rpc: response is not an object');
  const h = header as Record<string, unknown>;
  if (h['ok'] === true) return { ok: true, result: h['result'] ?? null };
  const e = (h['error'] ?? {}) as Record<string, unknown>;
  const code = typeof e['code'] === 'string' && RESPONSE_CODES.has(e['code']) ? (e['code'] as WormholeErrorCode) : 'RemoteProtocol';
  return { ok: false, error: { code, message: typeof e['message'] === 'string' ? e['message'].slice(0, 500) : 'the call failed' } };
}

/** Write bytes to a writable without keeping its lock. */
export async function writeAll(writable: WritableStream<Uint8Array>, bytes: Uint8Array, close = false): Promise<void> {
  const writer = writable.getWriter();
  try {
    await writer.write(bytes);
    if (close) await writer.close();
  } finally {
    writer.releaseLock();
  }
}
