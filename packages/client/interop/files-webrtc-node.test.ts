// files-v1 Node ↔ Node over WebRTC (node-datachannel) through the Debian
// mailbox, into real directories (nodeFilesSink): several files and a
// folder in one offer, a resume from a kept partial with a new code, and a
// peer connection closed under a running transfer that recovers by itself.
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { RTCPeerConnection as NdcPeerConnection } from 'node-datachannel/polyfill';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, startMailboxServer, type MailboxServer } from '@burrow/testkit';
import { createWormhole, receiveOffer, sendFiles, type FilesResult, type RTCPeerConnectionConstructor, type WebSocketConstructor, type Wormhole } from '@burrow/client';
import { directorySource, fileSource, nodeFilesSink, partialName, nodeSha256 } from '@burrow/client/node';

const WS = WebSocket as unknown as WebSocketConstructor;
const LOOPBACK = { rtcConfiguration: { bindAddress: '127.0.0.1' } };
const T = 60_000;

/** node-datachannel's RTCPeerConnection, remembering every instance so a test can pull one out from under a transfer. */
const made: RTCPeerConnection[] = [];
class RecordingRTC extends (NdcPeerConnection as unknown as RTCPeerConnectionConstructor) {
  constructor(config?: RTCConfiguration) {
    super(config);
    made.push(this);
  }
}
const RTC = RecordingRTC as unknown as RTCPeerConnectionConstructor;

let mailbox: MailboxServer;
beforeAll(async () => {
  assertPrivateNetwork();
  mailbox = await startMailboxServer();
});
afterAll(cleanup);

async function pair(): Promise<[Wormhole, Wormhole]> {
  const [a, b] = await Promise.all([createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: RTC }), createWormhole({ mailbox: mailbox.url, WebSocket: WS, RTCPeerConnection: RTC })]);
  b.setCode(await a.allocateCode());
  return [a, b];
}

const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');
const patterned = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * seed + (i >> 12)) & 255);

async function tree(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'files-src-'));
  await writeFile(join(dir, 'one.bin'), patterned(3_000_000, 13));
  await writeFile(join(dir, 'two.txt'), 'two\n');
  await mkdir(join(dir, 'folder', 'sub'), { recursive: true });
  await mkdir(join(dir, 'folder', 'empty'));
  await writeFile(join(dir, 'folder', 'sub', 'deep.bin'), patterned(500_000, 7));
  return dir;
}

/** Send `paths` from a to b; b receives into `into`. `during` sees the receiver's progress. */
async function transfer(paths: string[], into: string, during?: (bytes: number, total: number) => void): Promise<[FilesResult, FilesResult]> {
  const [a, b] = await pair();
  try {
    const items = await Promise.all(paths.map(async (p) => ((await readdir(p).then(() => true, () => false)) ? directorySource(p) : fileSource(p))));
    const sending = sendFiles(a, items, { connect: LOOPBACK, createHash: nodeSha256 });
    const offer = await receiveOffer(b, { connect: LOOPBACK });
    if (offer.type !== 'files') throw new Error(`expected files, got ${offer.type}`);
    expect(offer.via).toBe('webrtc');
    const receiving = offer.accept(nodeFilesSink(into), {
      createHash: nodeSha256,
      progressIntervalMs: 0,
      ...(during ? { onProgress: (p) => during(p.bytes, p.total) } : {}),
    });
    return (await Promise.all([sending, receiving])) as [FilesResult, FilesResult];
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
  }
}

describe('files-v1 over WebRTC, Node ↔ Node', () => {
  it(
    'several files and a folder (with an empty directory) in one offer; checksums equal; via webrtc',
    async () => {
      const src = await tree();
      const dst = await mkdtemp(join(tmpdir(), 'files-dst-'));
      const [sent, got] = await transfer([join(src, 'one.bin'), join(src, 'two.txt'), join(src, 'folder')], dst);
      expect(got.via).toBe('webrtc');
      expect(sent.via).toBe('webrtc');
      expect(got.files.map((f) => f.path).sort()).toEqual(['folder/sub/deep.bin', 'one.bin', 'two.txt']);
      for (const rel of ['one.bin', 'two.txt', 'folder/sub/deep.bin']) {
        expect(sha(await readFile(join(dst, rel))), rel).toBe(sha(await readFile(join(src, rel))));
      }
      expect(await readdir(join(dst, 'folder', 'empty'))).toEqual([]);
      expect(got.files.map((f) => f.sha256)).toEqual(sent.files.map((f) => f.sha256));
      expect(got.reconnects).toBe(0);
    },
    T,
  );

  it(
    'resumes a kept partial with a new code: only the rest moves',
    async () => {
      const src = await mkdtemp(join(tmpdir(), 'files-src-'));
      const data = patterned(6_000_000, 29);
      await writeFile(join(src, 'big.bin'), data);
      const dst = await mkdtemp(join(tmpdir(), 'files-dst-'));
      // What a killed receiver leaves behind: the first 40 % under the partial name.
      const kept = Math.floor(data.length * 0.4);
      await writeFile(join(dst, partialName('big.bin', data.length)), data.subarray(0, kept));
      const [sent, got] = await transfer([join(src, 'big.bin')], dst);
      expect(sha(await readFile(join(dst, 'big.bin')))).toBe(sha(data));
      expect(got.files[0]!.resumedFrom).toBe(kept);
      expect(sent.files[0]!.resumedFrom).toBe(kept);
      expect(got.moved).toBe(data.length - kept);
      expect((await readdir(dst)).filter((n) => n.endsWith('.burrow-partial'))).toEqual([]);
    },
    T,
  );

  it(
    'the peer connection closed under a running transfer: it reconnects within the code and completes',
    async () => {
      const src = await mkdtemp(join(tmpdir(), 'files-src-'));
      const data = patterned(24_000_000, 31);
      await writeFile(join(src, 'big.bin'), data);
      const dst = await mkdtemp(join(tmpdir(), 'files-dst-'));
      made.length = 0;
      let pulled = false;
      const [sent, got] = await transfer([join(src, 'big.bin')], dst, (bytes, total) => {
        if (!pulled && bytes > total / 3) {
          pulled = true;
          // One side's peer connection goes away under the transfer; the other side learns it from the wire.
          made[0]!.close();
        }
      });
      expect(pulled).toBe(true);
      expect(got.reconnects).toBeGreaterThanOrEqual(1);
      expect(sent.reconnects).toBe(got.reconnects);
      expect(sha(await readFile(join(dst, 'big.bin')))).toBe(sha(data));
      // Nothing was sent twice beyond what was in flight when the path died.
      expect(got.moved).toBe(data.length);
      expect(got.files[0]!.resumedFrom).toBeGreaterThan(0);
    },
    T,
  );
});
