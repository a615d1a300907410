// The TCP channel's send() fast path (used by Transit to write sealed record batches).
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { tcpDialer } from '../src/node/index.js';

describe('TCP channel send()', () => {
  const servers: ReturnType<typeof createServer>[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });
  const listen = async (onSocket: (s: Socket) => void) => {
    const server = createServer(onSocket);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };

  it('delivers chunks in order after what went through the writable, resolving once each is written', async () => {
    const got: Buffer[] = [];
    let ended!: Promise<void>;
    const port = await listen((s) => {
      ended = new Promise<void>((resolve) => s.on('data', (d: Buffer) => got.push(d)).on('end', resolve));
    });
    const channel = await tcpDialer()('127.0.0.1', port, {});
    const writer = channel.writable.getWriter();
    await writer.write(new Uint8Array([1, 2, 3]));
    const big = new Uint8Array(8 * 1024 * 1024).fill(9);
    await channel.send!(big);
    await channel.send!(new Uint8Array([4]));
    await writer.close();
    await ended;
    const all = Buffer.concat(got);
    expect(all.length).toBe(3 + big.length + 1);
    expect([...all.subarray(0, 3)]).toEqual([1, 2, 3]);
    expect(all[all.length - 1]).toBe(4);
  });

  it('rejects with Connection when the channel is closed while a send waits on a peer that does not read', async () => {
    const port = await listen((s) => s.pause());
    const channel = await tcpDialer()('127.0.0.1', port, {});
    const pending = channel.send!(new Uint8Array(64 * 1024 * 1024));
    setTimeout(() => channel.close(), 50);
    await expect(pending).rejects.toMatchObject({ code: 'Connection' });
    await expect(channel.send!(new Uint8Array(1))).rejects.toMatchObject({ code: 'Connection' });
  });
});
