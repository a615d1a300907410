/**
 * Helpers of the zip reader tests: zips from an independent streaming writer
 * (Python's zipfile into a pipe, which emits data descriptors: in
 * @burrow/testkit, re-exported here), a small hand writer for layouts Python
 * never writes, and a driver that plays the caller's part (node:zlib finds
 * where each deflate stream ends).
 */
import { inflateRawSync, deflateRawSync } from 'node:zlib';
import type { StreamedEntry } from '@burrow/testkit';
import { Crc32, WormholeError, ZipReader, concatBytes, utf8, type ZipCentralEntry, type ZipEvent } from '../src/index.js';

export { pythonReads, pythonStreamedZip, type StreamedEntry } from '@burrow/testkit';

export const crc = (d: Uint8Array) => new Crc32().update(d).digest();

/** Byte equality without vitest's slow element-wise diff (`undefined` counts as empty). */
export const same = (a: Uint8Array | undefined, b: Uint8Array | undefined): boolean =>
  Buffer.compare(a ?? new Uint8Array(0), b ?? new Uint8Array(0)) === 0;

/**
 * A hand-written streaming zip (flag bit 3, zeros in the local header) with
 * the descriptor layout chosen: `signature` and 8-byte (`wide`) sizes.
 */
export function handStreamedZip(entries: readonly StreamedEntry[], layout: { signature: boolean; wide: boolean }): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = e.data ?? new Uint8Array(0);
    const body = e.deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const name = utf8(e.name);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, 0x808, true);
    lv.setUint16(8, e.deflate ? 8 : 0, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const d = new DataView(new ArrayBuffer(24));
    let p = 0;
    if (layout.signature) d.setUint32(p, 0x08074b50, true), (p += 4);
    d.setUint32(p, crc(data), true), (p += 4);
    for (const n of [body.length, data.length]) {
      d.setUint32(p, n, true), (p += 4);
      if (layout.wide) p += 4;
    }
    const descriptor = new Uint8Array(d.buffer, 0, p);
    const rec = new Uint8Array(46 + name.length);
    const cv = new DataView(rec.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, (3 << 8) | 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x808, true);
    cv.setUint16(10, e.deflate ? 8 : 0, true);
    cv.setUint32(16, crc(data), true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(38, ((e.name.endsWith('/') ? 0o40000 : 0o100000) | (e.mode ?? 0o644)) << 16, true);
    cv.setUint32(42, offset, true);
    rec.set(name, 46);
    central.push(rec);
    parts.push(local, body, descriptor);
    offset += local.length + body.length + descriptor.length;
  }
  const cd = concatBytes(...central);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cd.length, true);
  ev.setUint32(16, offset, true);
  return concatBytes(...parts, cd, end);
}

export interface ReadResult {
  files: Map<string, Uint8Array>;
  central: readonly ZipCentralEntry[] | undefined;
  ends: Map<string, string>;
}

/**
 * Read a whole zip in `step`-byte chunks, playing the caller: inflate
 * deflated entries (finding where a descriptor entry's deflate stream ends)
 * and check every entry against its `entry-end` totals.
 */
export function readZip(zip: Uint8Array, step: number, reader = new ZipReader()): ReadResult {
  const files = new Map<string, Uint8Array>();
  const ends = new Map<string, string>();
  let central: readonly ZipCentralEntry[] | undefined;
  let cur: { name: string; method: number; end: string; parts: Uint8Array[] } | undefined;
  const run = (events: ZipEvent[]): void => {
    for (const ev of events) {
      if (ev.type === 'entry') {
        cur = { name: ev.entry.name, method: ev.entry.method, end: ev.entry.end, parts: [] };
        ends.set(cur.name, cur.end);
      } else if (ev.type === 'data') {
        cur!.parts.push(ev.bytes.slice());
        if (cur!.end !== 'deflate') continue;
        const all = concatBytes(...cur!.parts);
        let out: { buffer: Uint8Array; engine: { bytesWritten: number } };
        try {
          out = inflateRawSync(all, { info: true }) as unknown as typeof out;
        } catch (err) {
          if ((err as { code?: string }).code === 'Z_BUF_ERROR') continue; // not at the end yet
          throw err;
        }
        const used = out.engine.bytesWritten;
        cur!.parts = [all.subarray(0, used)];
        run(reader.endOfData(all.length - used, { crc: crc(out.buffer), size: out.buffer.length }));
      } else if (ev.type === 'entry-end') {
        const raw = concatBytes(...cur!.parts);
        const data = cur!.method === 8 ? new Uint8Array(inflateRawSync(raw)) : raw;
        const got = { crc: crc(data), size: data.length, compressedSize: raw.length };
        if (got.crc !== ev.crc || got.size !== ev.size || got.compressedSize !== ev.compressedSize) {
          throw new Error(`${cur!.name}: unpacked ${JSON.stringify(got)}, entry-end says ${JSON.stringify(ev)}`);
        }
        files.set(cur!.name, data);
      } else if (ev.type === 'central') central = ev.entries;
    }
  };
  for (let i = 0; i < zip.length; i += step) run(reader.push(zip.subarray(i, i + step)));
  reader.finish();
  return { files, central, ends };
}

/** The WormholeError `fn` throws (fails the test if it throws anything else or nothing). */
export function wormholeError(fn: () => unknown): WormholeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WormholeError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

/** Bytes with the zip signatures a naive scanner would trip on, and counters that pass the size pre-test. */
export function trickyBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  const v = new DataView(out.buffer);
  for (let i = 0; i + 4 <= n; i += 4) v.setUint32(i, i % 64 === 0 ? 0x08074b50 : i % 64 === 16 ? 0x04034b50 : i - 4, true);
  return out;
}
