/**
 * A bare directory sender for tests: offers a pre-built zip (for example one
 * with data descriptors, which Burrow's own writer never makes) and sends it
 * verbatim over Transit, in the order `wormhole send DIR` uses (transit,
 * offer, their answer, the bytes, their ack). Also the zips themselves,
 * from Python's zipfile writing into a pipe (a streaming writer).
 */
import { spawnSync } from 'node:child_process';
import { WormholeError, directoryOffer, parseTransferAck, parseTransferMessage, transitKey, type JsonObject, type TransferAck } from '@burrow/protocol';
import { parseAppMessage, sendAppMessage } from '../../src/app-messages.js';
import { TRANSIT_KEY_PURPOSE } from '../../src/transfer/common.js';
import { TransitConnector } from '../../src/testing.js';
import type { TransitOptions, Wormhole } from '../../src/index.js';

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

export interface PythonEntry {
  readonly name: string;
  readonly data?: Uint8Array;
  readonly deflate?: boolean;
  readonly mode?: number;
}

/** A zip from Python's zipfile writing into a non-seekable stream: every entry gets a data descriptor (flag bit 3). */
export function pythonStreamedZip(entries: readonly PythonEntry[]): Uint8Array {
  const script = `
import base64, io, json, sys, zipfile
class Unseekable(io.RawIOBase):
    def __init__(s, f): s.f = f
    def writable(s): return True
    def seekable(s): return False
    def write(s, b): s.f.write(b); return len(b)
with zipfile.ZipFile(Unseekable(sys.stdout.buffer), 'w') as zf:
    for e in json.loads(sys.stdin.read()):
        zi = zipfile.ZipInfo(e['name'], date_time=(2024, 1, 2, 3, 4, 6))
        zi.compress_type = zipfile.ZIP_DEFLATED if e.get('deflate') else zipfile.ZIP_STORED
        zi.create_system = 3
        zi.external_attr = (e.get('mode', 0o644) | (0o40000 if e['name'].endswith('/') else 0o100000)) << 16
        with zf.open(zi, 'w') as f:
            f.write(base64.b64decode(e.get('data', '')))
`;
  const spec = entries.map((e) => ({ ...e, data: Buffer.from(e.data ?? new Uint8Array(0)).toString('base64') }));
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(spec), maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`Debian's /usr/bin/python3 is required: ${String(r.stderr)}`);
  return new Uint8Array(r.stdout);
}

/** The tree the descriptor tests send: nested folders, a unicode name, an empty file, stored and deflated entries. */
export function descriptorTree(): PythonEntry[] {
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
