// The gateway's side of the Deno QUIC bridge, without Deno: a Unix-socket
// pair speaking the bridge framing. The hello gives the path and the
// client's address, `stream` yields the one bidirectional stream, data and
// end flow both ways, close carries its code, and a bridge that speaks
// before its hello (or sends garbage) is dropped.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LengthPrefixedParser } from '@burrow/protocol/frames';
import { acceptBridgeSocket, type BridgedSession } from '../src/http3/bridge-session.js';
import { BridgeFrame, encodeBridgeFrame } from '../src/http3/bridge-frames.js';

const text = (s: string) => new TextEncoder().encode(s);

describe('bridge session (gateway side)', () => {
  let dir: string;
  let server: Server;
  let accepted: Promise<BridgedSession | undefined>;
  let bridge: Socket;
  const fromGateway: { type: number; payload: string }[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'burrow-bridge-test-'));
    const path = join(dir, 's');
    accepted = new Promise((resolve) => {
      server = createServer((socket) => resolve(acceptBridgeSocket(socket, 2000)));
    });
    server.listen(path);
    await once(server, 'listening');
    bridge = connect(path);
    fromGateway.length = 0;
    const parser = new LengthPrefixedParser(1 << 20);
    bridge.on('data', (d: Buffer) => {
      for (const f of parser.push(d)) fromGateway.push({ type: f[0]!, payload: new TextDecoder().decode(f.subarray(1)) });
    });
    await once(bridge, 'connect');
  });
  afterEach(() => {
    bridge.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns hello, stream and data into a session with one bidirectional stream, and back', async () => {
    bridge.write(encodeBridgeFrame(BridgeFrame.hello, text(JSON.stringify({ path: '/v1', peer: '[2001:db8::5]:4433' }))));
    const got = (await accepted)!;
    expect(got.path).toBe('/v1');
    expect(got.session.peerAddress).toBe('[2001:db8::5]:4433');
    bridge.write(Buffer.concat([encodeBridgeFrame(BridgeFrame.stream), encodeBridgeFrame(BridgeFrame.data, text('abc')), encodeBridgeFrame(BridgeFrame.end)]));
    const { value: stream } = await got.session.incomingBidirectionalStreams.getReader().read();
    const reader = stream!.readable.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('abc');
    expect((await reader.read()).done).toBe(true);
    const writer = stream!.writable.getWriter();
    await writer.write(text('x'.repeat(40_000)));
    await writer.close();
    got.session.close({ closeCode: 503, reason: 'busy' });
    await once(bridge, 'end');
    // 40,000 bytes arrive as data frames of at most 32 KiB, then end, then close.
    expect(fromGateway.map((f) => [f.type, f.payload.length])).toEqual([[BridgeFrame.data, 32768], [BridgeFrame.data, 40000 - 32768], [BridgeFrame.end, 0], [BridgeFrame.close, JSON.stringify({ code: 503, reason: 'busy' }).length]]);
    expect(JSON.parse(fromGateway[3]!.payload)).toEqual({ code: 503, reason: 'busy' });
  });

  it('drops a bridge that speaks before its hello', async () => {
    bridge.write(encodeBridgeFrame(BridgeFrame.data, text('abc')));
    expect(await accepted).toBeUndefined();
  });

  it('drops a bridge whose hello is not JSON with a path', async () => {
    bridge.write(encodeBridgeFrame(BridgeFrame.hello, text('{"peer":"1.2.3.4:5"}')));
    expect(await accepted).toBeUndefined();
  });

  it('drops a frame over the limit', async () => {
    bridge.write(Uint8Array.of(0x7f, 0, 0, 0));
    expect(await accepted).toBeUndefined();
  });

  it('ends the stream with an error when the bridge goes away', async () => {
    bridge.write(Buffer.concat([encodeBridgeFrame(BridgeFrame.hello, text('{"path":"/relay"}')), encodeBridgeFrame(BridgeFrame.stream)]));
    const got = (await accepted)!;
    const { value: stream } = await got.session.incomingBidirectionalStreams.getReader().read();
    bridge.destroy();
    await expect(stream!.readable.getReader().read()).rejects.toThrow(/closed/);
    await got.session.closed;
  });
});
