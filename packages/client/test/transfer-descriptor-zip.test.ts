// Folders from streaming zip writers (data descriptors, issue 17) through
// receiveOffer into the Node directory sink: intact when the zip is right;
// refused with RemoteProtocol, and nothing left behind, when a descriptor,
// the central directory or the length disagrees.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createWormhole, receiveOffer, type Wormhole } from '../src/index.js';
import { directorySink, nodeTransit } from '../src/node/index.js';
import { MemoryMailbox } from '../src/testing.js';
import { descriptorTree, pythonStreamedZip, sendZipAsDirectory } from './support/zip-sender.js';

const wormholes: Wormhole[] = [];
async function pair(): Promise<[Wormhole, Wormhole]> {
  const server = new MemoryMailbox();
  const a = await createWormhole({ mailbox: server.url, transport: server.transport });
  const b = await createWormhole({ mailbox: server.url, transport: server.transport });
  b.setCode(await a.allocateCode());
  wormholes.push(a, b);
  return [a, b];
}
afterEach(async () => {
  await Promise.allSettled(wormholes.splice(0).map((w) => w.close()));
});
const out = mkdtempSync(join(tmpdir(), 'burrow-dd-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const tree = descriptorTree();
const zip = pythonStreamedZip(tree);
const meta = { numbytes: tree.reduce((n, e) => n + (e.data?.length ?? 0), 0), numfiles: tree.filter((e) => !e.name.endsWith('/')).length };
const senderTransit = () => nodeTransit({ listen: { host: '127.0.0.1', addresses: ['127.0.0.1'] } });

/** Send `z` as directory `dirname` and receive it into `out`; the receiver's outcome and the sender's ack. */
async function transfer(z: Uint8Array, dirname: string) {
  const [a, b] = await pair();
  const sending = sendZipAsDirectory(a, z, { ...meta, dirname }, senderTransit());
  const offer = await receiveOffer(b, { transit: nodeTransit({ noListen: true }) });
  if (offer.type !== 'directory') throw new Error(`expected a directory, got ${offer.type}`);
  const receiving = offer.accept(await directorySink(join(out, offer.name)));
  const [received, ack] = await Promise.allSettled([receiving, sending]);
  return { received, ack, offer };
}

function patchU32(b: Uint8Array, offset: number, xor: number): Uint8Array {
  const c = b.slice();
  const v = new DataView(c.buffer);
  v.setUint32(offset, v.getUint32(offset, true) ^ xor, true);
  return c;
}
function offsets(b: Uint8Array, sig: number): number[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const r: number[] = [];
  for (let i = 0; i + 4 <= b.length; i++) if (v.getUint32(i, true) === sig) r.push(i);
  return r;
}

describe('receiving a folder zipped by a streaming writer', () => {
  it('arrives intact: nested folders, a unicode name, an empty file, stored and deflated entries, modes', async () => {
    const { received, ack } = await transfer(zip, 'good');
    expect(received.status, String((received as PromiseRejectedResult).reason)).toBe('fulfilled');
    expect(ack).toMatchObject({ status: 'fulfilled', value: { ok: true } });
    for (const e of tree) {
      const p = join(out, 'good', e.name);
      const st = statSync(p);
      expect(st.mode & 0o777, e.name).toBe(e.mode ?? 0o644);
      if (!e.name.endsWith('/')) expect(Buffer.compare(readFileSync(p), e.data!), e.name).toBe(0);
    }
  }, 60_000);

  const [, firstDd] = offsets(zip, 0x08074b50) as [number, number]; // the first file's (deflated); [0] is the folder's
  const [firstCentral] = offsets(zip, 0x02014b50) as [number];
  const cases: [string, Uint8Array][] = [
    ['a descriptor whose CRC disagrees with the data', patchU32(zip, firstDd + 4, 1)],
    ['a descriptor whose size disagrees with the data', patchU32(zip, firstDd + 12, 1)],
    ['a central directory that disagrees with the local entries', patchU32(zip, firstCentral + 16, 1)],
    ['a truncated zip', zip.subarray(0, zip.length - 30)],
  ];
  for (const [what, bad] of cases) {
    it(`${what}: RemoteProtocol, and nothing is left behind`, async () => {
      const name = `bad-${cases.findIndex((c) => c[0] === what)}`;
      const { received, ack } = await transfer(bad, name);
      expect(received).toMatchObject({ status: 'rejected', reason: { code: 'RemoteProtocol' } });
      expect(ack).toMatchObject({ status: 'fulfilled', value: undefined });
      expect(readdirSync(out).filter((n) => n.includes(name))).toEqual([]);
    }, 60_000);
  }
});
