/**
 * A bare directory sender for tests: offers a pre-built zip (for example one
 * with data descriptors, which Burrow's own writer never makes) and sends it
 * verbatim over Transit, in the order `wormhole send DIR` uses (transit,
 * offer, their answer, the bytes, their ack). The zips themselves come from
 * Python's zipfile writing into a pipe (testkit's `pythonStreamedZip`).
 */
import { WormholeError, directoryOffer, parseTransferAck, parseTransferMessage, transitKey, type JsonObject, type TransferAck } from '@burrow/protocol';
import { parseAppMessage, sendAppMessage } from '../../src/app-messages.js';
import { TRANSIT_KEY_PURPOSE } from '../../src/transfer/common.js';
import { TransitConnector } from '../../src/testing.js';
import type { TransitOptions, Wormhole } from '../../src/index.js';
import type { StreamedEntry } from '@burrow/testkit';

export { pythonStreamedZip } from '@burrow/testkit';

export interface ZipOfferMeta {
  readonly dirname: string;
  readonly numbytes: number;
  readonly numfiles: number;
}

/** Send `zip` as a directory; resolves to the receiver's ack, or undefined if it hung up without one. */
export async function sendZipAsDirectory(w: Wormhole, zip: Uint8Array, meta: ZipOfferMeta, transit: TransitOptions): Promise<TransferAck | undefined> {
  const key = transitKey(await w.deriveKey(TRANSIT_KEY_PURPOSE, 32));
  const connector = await TransitConnector.create({ role: 'sender', key, ...transit });
  try {
    sendAppMessage(w, { transit: connector.message } as unknown as JsonObject);
    sendAppMessage(w, directoryOffer({ ...meta, zipsize: zip.length }) as JsonObject);
    for (;;) {
      const msg = parseTransferMessage(parseAppMessage(await w.nextMessage()));
      if (msg.error !== undefined) throw new WormholeError('Rejected', msg.error);
      if (msg.transit) connector.addPeerHints(msg.transit);
      if (msg.answer) break;
    }
    const conn = await connector.connect();
    try {
      const writer = conn.writable.getWriter();
      for (let i = 0; i < zip.length; i += 16_384) await writer.write(zip.subarray(i, i + 16_384));
      writer.releaseLock();
      const r = await conn.readable.getReader().read();
      return r.done ? undefined : parseTransferAck(r.value);
    } catch {
      return undefined; // the receiver hung up (it refused the zip)
    } finally {
      conn.close();
    }
  } finally {
    connector.close();
  }
}

/** The tree the descriptor tests send: nested folders, a unicode name, an empty file, stored and deflated entries. */
export function descriptorTree(): StreamedEntry[] {
  const enc = new TextEncoder();
  return [
    { name: 'a/', mode: 0o750 },
    { name: 'a/b/c/deep.txt', data: enc.encode('deep\n'), deflate: true, mode: 0o600 },
    { name: 'ünïcödé ✓/日本語.txt', data: enc.encode('こんにちは\n'), deflate: true },
    { name: 'empty', data: new Uint8Array(0) },
    { name: 'stored.bin', data: Uint8Array.from({ length: 200_000 }, (_, i) => (i * 2654435761) >>> 24), mode: 0o755 },
    { name: 'deflated.txt', data: enc.encode('hello burrow\n'.repeat(50_000)), deflate: true },
  ];
}
