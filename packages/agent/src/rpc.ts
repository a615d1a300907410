/**
 * The stream side of the RPC (the headers themselves are
 * `@burrow/protocol/agent` rpc): read a header off a ReadableStream and hand
 * over the bytes that follow, write a header without keeping the lock.
 */
import type { JsonObject } from '@burrow/protocol';
import { RpcHeaderReader } from '@burrow/protocol/agent';
import { bestEffort } from './ignore.js';

/**
 * Read one header from `readable`; returns it and a stream of the bytes that
 * follow it (the reader's lock moves to that stream). Rejects with
 * `RemoteProtocol` on a bad header or a stream that ends inside it.
 */
export async function readHeader(readable: ReadableStream<Uint8Array>): Promise<{ header: JsonObject; rest: ReadableStream<Uint8Array> }> {
  const reader = readable.getReader();
  try {
    return await readHeaderFrom(reader);
  } catch (err) {
    reader.cancel(err).catch(bestEffort);
    throw err;
  }
}

async function readHeaderFrom(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<{ header: JsonObject; rest: ReadableStream<Uint8Array> }> {
  const headerReader = new RpcHeaderReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) headerReader.end();
    const got = done ? undefined : headerReader.push(value);
    if (!got) continue;
    let leftover: Uint8Array | undefined = got.rest.length > 0 ? got.rest : undefined;
    const rest = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (leftover) {
            controller.enqueue(leftover);
            leftover = undefined;
            return;
          }
          const { value: chunk, done: ended } = await reader.read();
          if (ended) controller.close();
          else controller.enqueue(chunk);
        },
        cancel: (reason) => reader.cancel(reason),
      },
      { highWaterMark: 0 },
    );
    return { header: got.header, rest };
  }
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
