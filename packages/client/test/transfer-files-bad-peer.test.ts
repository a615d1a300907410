// files-v1 against a sender that misbehaves on the wire (scripted here over a
// real w.connect()): each bad offer or stream is refused or timed out with a
// clear error, and nothing ever appears under a final name.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, encodeFilesStart } from '@burrow/protocol/files';
import { receiveOffer, type Connection, type DuplexStream, type Wormhole } from '../src/index.js';
import { sendAppMessage } from '../src/app-messages.js';
import { FramedReader } from '../src/transfer/files/framed.js';
import { MemoryNet, closePairs, pair } from './support/memory-transfer.js';
import { MemoryFilesSink } from './support/memory-files-sink.js';

afterEach(closePairs);

const relay = (net: MemoryNet, host: string) => ({ relay: { dialers: { tcp: net.tcp }, listen: net.listen([host]) } });

/**
 * A hand-written sender: announces `start`, connects, writes `offer` on the
 * control stream, and hands each stream the receiver opens to `serve`.
 */
async function scriptedSender(a: Wormhole, net: MemoryNet, start: { files: number; bytes: number }, offer: Record<string, unknown>, serve?: (s: DuplexStream) => Promise<void>) {
  sendAppMessage(a, encodeFilesStart(start));
  const conn: Connection = await a.connect(relay(net, '10.0.0.1'));
  const control = await conn.openStream();
  const writer = control.writable.getWriter();
  await writer.write(encodeFrame(offer));
  const answer = new FramedReader(control.readable).frame(1 << 20).then((f) => (f ? new TextDecoder().decode(f) : undefined));
  void (async () => {
    for await (const s of conn.incoming) void serve?.(s).catch(() => undefined);
  })().catch(() => undefined);
  return { conn, answer };
}

async function answerGet(s: DuplexStream, frames: (Uint8Array | Record<string, unknown>)[]) {
  const reader = new FramedReader(s.readable);
  await reader.frame(1 << 16); // the get
  const w = s.writable.getWriter();
  for (const f of frames) await w.write(f instanceof Uint8Array ? f : encodeFrame(f));
}

const receiveInto = async (b: Wormhole, net: MemoryNet, sink: MemoryFilesSink, options: Record<string, unknown> = {}) => {
  const offer = await receiveOffer(b, { connect: relay(net, '10.0.0.2') });
  if (offer.type !== 'files') throw new Error('expected a files offer');
  return offer.accept(sink, options);
};

describe('files-v1: a bad sender', () => {
  it.each([
    ['a traversal path', { offer: { files: [{ path: '../../.bashrc', size: 1 }], directories: [] } }, 'parent directory'],
    ['an absolute path', { offer: { files: [{ path: '/etc/passwd', size: 1 }], directories: [] } }, 'absolute'],
    ['duplicate paths', { offer: { files: [{ path: 'a', size: 1 }, { path: 'a', size: 0 }], directories: [] } }, 'twice'],
  ])('%s: the offer is refused with RemoteProtocol and the sender is told why', async (_, offer, why) => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    const files = (offer.offer.files as unknown[]).length;
    const sender = scriptedSender(a, net, { files, bytes: 1 }, offer);
    await expect(receiveOffer(b, { connect: relay(net, '10.0.0.2') })).rejects.toMatchObject({ code: 'RemoteProtocol', message: expect.stringContaining(why) });
    expect(await (await sender).answer).toContain(why);
  });

  it('an offer that differs from its announcement is refused', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    void scriptedSender(a, net, { files: 1, bytes: 5 }, { offer: { files: [{ path: 'a', size: 500 }], directories: [] } });
    await expect(receiveOffer(b, { connect: relay(net, '10.0.0.2') })).rejects.toMatchObject({ code: 'RemoteProtocol', message: expect.stringContaining('differs from its announcement') });
  });

  it('more bytes than the offered size: refused, nothing under the final name', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    void scriptedSender(a, net, { files: 1, bytes: 4 }, { offer: { files: [{ path: 'a.txt', size: 4 }], directories: [] } }, (s) =>
      answerGet(s, [{ send: { file: 0, offset: 0 } }, new TextEncoder().encode('abcdefgh-and-more')]),
    );
    const sink = new MemoryFilesSink();
    await expect(receiveInto(b, net, sink, { reconnects: 0 })).rejects.toMatchObject({ code: 'RemoteProtocol' });
    expect(sink.files.size).toBe(0);
  });

  it('a wrong SHA-256: the file is fetched once more, then the transfer fails with nothing kept', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    let gets = 0;
    void scriptedSender(a, net, { files: 1, bytes: 4 }, { offer: { files: [{ path: 'a.txt', size: 4 }], directories: [] } }, (s) => {
      gets++;
      return answerGet(s, [{ send: { file: 0, offset: 0 } }, new TextEncoder().encode('abcd'), { sha256: '00'.repeat(32) }]);
    });
    const sink = new MemoryFilesSink();
    await expect(receiveInto(b, net, sink, { reconnects: 0 })).rejects.toMatchObject({ code: 'TransferFailed', message: expect.stringContaining('sha256 mismatch') });
    expect(gets).toBe(2);
    expect(sink.files.size).toBe(0);
    expect(sink.partials.size).toBe(0);
    expect(sink.log.filter((l) => l.startsWith('discard'))).toHaveLength(2);
  });

  it('an answer for another file or from an offset never asked for is refused', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    void scriptedSender(a, net, { files: 1, bytes: 4 }, { offer: { files: [{ path: 'a.txt', size: 4 }], directories: [] } }, (s) => answerGet(s, [{ send: { file: 0, offset: 3 } }]));
    const sink = new MemoryFilesSink();
    await expect(receiveInto(b, net, sink, { reconnects: 0 })).rejects.toMatchObject({ code: 'RemoteProtocol', message: expect.stringContaining('bad answer') });
  });

  it('a sender that stalls mid-file: Timeout after the stall bound; what arrived is kept for a resume', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    void scriptedSender(a, net, { files: 1, bytes: 10 }, { offer: { files: [{ path: 'a.txt', size: 10 }], directories: [] } }, (s) =>
      answerGet(s, [{ send: { file: 0, offset: 0 } }, new TextEncoder().encode('abc')]),
    );
    const sink = new MemoryFilesSink();
    await expect(receiveInto(b, net, sink, { reconnects: 0, stallTimeoutMs: 300 })).rejects.toMatchObject({ code: 'Timeout', message: expect.stringContaining('nothing moved') });
    expect(sink.files.size).toBe(0);
    expect(new TextDecoder().decode(sink.partials.get('a.txt'))).toBe('abc');
  });

  it('a sender that connects but never offers: receiveOffer times out', async () => {
    const net = new MemoryNet();
    const [a, b] = await pair();
    sendAppMessage(a, encodeFilesStart({ files: 1, bytes: 1 }));
    void a.connect(relay(net, '10.0.0.1')).then((conn) => conn.openStream());
    await expect(receiveOffer(b, { connect: { ...relay(net, '10.0.0.2'), timeoutMs: 1_000 } })).rejects.toMatchObject({ code: 'Timeout' });
  });
});
