// A malicious or broken sender against Burrow's receiver: wrong transit
// handshake, oversized record length, corrupted record, zip path traversal
// (`..`, absolute) and zip bombs. Each must end in a typed WormholeError with
// nothing written, inside or outside the target folder.
//
// The attacker is a real wormhole peer (Burrow's client on the Debian mailbox
// server) with a hand-driven TCP transit endpoint built from the protocol
// package's primitives.
import { bestEffort } from '@burrow/protocol';
import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { TRANSIT_KEY_PURPOSE, isWormholeError, receiveOffer, type Wormhole } from '@burrow/client';
import {
  Crc32,
  RecordEncoder,
  TRANSIT_ABILITIES,
  encodeCentralDirectory,
  encodeLocalHeader,
  encodeTransitHints,
  recordKeys,
  receiverHandshake,
  senderHandshake,
  transitKey,
  utf8,
  type TransitKey,
  type ZipWriteEntry,
} from '@burrow/protocol';
import { directorySink, fileSink, nodeTransit } from '@burrow/client/node';
import { inTempDir, listNames } from '@burrow/testkit';
import { burrow, useTransferRig } from './support/transfer.js';

type Script = (socket: Socket, key: TransitKey) => void;

/** Read until `n` bytes arrived, then call `then` with them. */
function expectBytes(socket: Socket, n: number, then: (b: Buffer) => void): void {
  let buf = Buffer.alloc(0);
  const onData = (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (buf.length >= n) {
      socket.off('data', onData);
      then(buf);
    }
  };
  socket.on('data', onData);
}

/** A correct sender handshake, then `records(encoder)` frames written raw. */
function honestHandshakeThen(after: (socket: Socket, enc: RecordEncoder) => void): Script {
  return (socket, key) => {
    socket.write(senderHandshake(key));
    expectBytes(socket, receiverHandshake(key).length, () => {
      socket.write('go\n');
      after(socket, new RecordEncoder(recordKeys(key, 'sender').send));
    });
  };
}

function stored(name: string, data: Uint8Array): { entry: ZipWriteEntry; data: Uint8Array } {
  return { entry: { name, mode: 0o644, method: 0, crc: new Crc32().update(data).digest(), compressedSize: data.length, size: data.length, mtimeMs: 0 }, data };
}

function zipOf(files: { entry: ZipWriteEntry; data: Uint8Array }[]): Uint8Array {
  return Buffer.concat([...files.flatMap((f) => [encodeLocalHeader(f.entry), f.data]), encodeCentralDirectory(files.map((f) => f.entry))]);
}

describe('malicious sender', () => {
  const rig = useTransferRig('evil');
  const servers: Server[] = [];

  afterAll(() => {
    for (const s of servers) s.close();
  });

  /**
   * Pair an attacker and a victim, serve `script` on a TCP port advertised as
   * the attacker's only hint, send `offer`, and return the victim's offer.
   */
  async function attack(offer: Record<string, unknown>, script: Script) {
    const evil = await burrow(rig.mailbox.url);
    const victim = await burrow(rig.mailbox.url);
    const code = await evil.allocateCode();
    victim.setCode(code);
    const key = transitKey(await evil.deriveKey(TRANSIT_KEY_PURPOSE, 32));
    const server = createServer((s) => {
      s.on('error', () => {
      /* resets and refusals are part of the test: the outcome is asserted, not the socket error */
    });
      script(s, key);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const send = (w: Wormhole, m: unknown) => w.sendMessage(utf8(JSON.stringify(m)));
    send(evil, { transit: encodeTransitHints({ abilities: TRANSIT_ABILITIES, direct: [{ hostname: '127.0.0.1', port, priority: 0 }], relays: [] }) });
    send(evil, { offer });
    const incoming = await receiveOffer(victim, { transit: nodeTransit({ noListen: true, timeoutMs: 10_000 }) });
    return { incoming, close: async () => Promise.all([evil.close().catch(bestEffort), victim.close().catch(bestEffort)]) };
  }

  async function expectFileRefused(script: Script, code: string) {
    return inTempDir('burrow-xfer-evil-out-', async (out) => {
      const { incoming, close } = await attack({ file: { filename: 'x.bin', filesize: 100_000 } }, script);
      if (incoming.type !== 'file') throw new Error('expected a file offer');
      const err = await incoming.accept(await fileSink(join(out, incoming.name))).then(() => undefined, (e: unknown) => e);
      expect(isWormholeError(err), String(err)).toBe(true);
      expect((err as { code: string }).code, String(err)).toBe(code);
      expect(listNames(out)).toEqual([]);
      await close();
      return err as Error;
    });
  }

  it('wrong handshake', async () => {
    const err = await expectFileRefused((s) => s.write(`transit sender ${'00'.repeat(32)} ready\n\n`), 'RemoteProtocol');
    expect(err.message).toMatch(/handshake/);
  }, 30_000);

  it('oversized record length', async () => {
    const err = await expectFileRefused(honestHandshakeThen((s) => s.write(Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]))), 'RemoteProtocol');
    expect(err.message).toMatch(/exceeds/);
  }, 30_000);

  it('corrupted record', async () => {
    const err = await expectFileRefused(
      honestHandshakeThen((s, enc) => {
        const frame = enc.encode(new Uint8Array(1000));
        frame[frame.length - 10]! ^= 0x01;
        s.write(frame);
      }),
      'RemoteProtocol',
    );
    expect(err.message).toMatch(/authentication/);
  }, 30_000);

  it('more bytes than offered', async () => {
    await expectFileRefused(honestHandshakeThen((s, enc) => s.write(enc.encode(new Uint8Array(100_001)))), 'RemoteProtocol');
  }, 30_000);

  async function expectZipRefused(zip: Uint8Array, numbytes: number, numfiles: number, pattern: RegExp) {
    await inTempDir('burrow-xfer-evil-root-', async (root) => {
      const out = join(root, 'target');
      mkdirSync(out);
      const offer = { directory: { mode: 'zipfile/deflated', dirname: 'd', zipsize: zip.length, numbytes, numfiles } };
      const { incoming, close } = await attack(offer, honestHandshakeThen((s, enc) => s.write(enc.encode(zip))));
      if (incoming.type !== 'directory') throw new Error('expected a directory offer');
      const err = await incoming.accept(await directorySink(join(out, incoming.name))).then(() => undefined, (e: unknown) => e);
      expect(isWormholeError(err, 'RemoteProtocol'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(pattern);
      // Nothing in the target, nothing next to it, nothing above it.
      expect(listNames(out)).toEqual([]);
      expect(listNames(root)).toEqual(['target']);
      await close();
    });
  }

  it('zip path traversal with ..', async () => {
    const zip = zipOf([stored('ok.txt', utf8('fine')), stored('../evil.txt', utf8('pwned')), stored('../../evil2.txt', utf8('pwned'))]);
    await expectZipRefused(zip, 100, 3, /parent directory/);
  }, 30_000);

  it('zip absolute path', async () => {
    const zip = zipOf([stored(`${rig.dir}/abs-evil.txt`, utf8('pwned'))]);
    await expectZipRefused(zip, 100, 1, /absolute/);
    expect(listNames(rig.dir)).not.toContain('abs-evil.txt');
  }, 30_000);

  it('zip bomb: entries larger than the offered numbytes', async () => {
    const zeros = new Uint8Array(20 << 20);
    const packed = deflateRawSync(zeros);
    const entry: ZipWriteEntry = { name: 'bomb.bin', mode: 0o644, method: 8, crc: new Crc32().update(zeros).digest(), compressedSize: packed.length, size: zeros.length, mtimeMs: 0 };
    await expectZipRefused(zipOf([{ entry, data: packed }]), 1000, 1, /zip bomb/);
  }, 30_000);

  it('zip bomb: an entry that inflates beyond its declared size', async () => {
    const zeros = new Uint8Array(20 << 20);
    const packed = deflateRawSync(zeros);
    const entry: ZipWriteEntry = { name: 'liar.bin', mode: 0o644, method: 8, crc: 0, compressedSize: packed.length, size: 1000, mtimeMs: 0 };
    await expectZipRefused(zipOf([{ entry, data: packed }]), 1000, 1, /beyond its declared/);
  }, 30_000);
});
