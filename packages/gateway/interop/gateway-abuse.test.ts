// Abuse against the gateway while real `wormhole` CLIs use it, in a private
// network namespace: a third side, an allocation flood, oversized frames, a
// relay token nobody matches, readers that stop reading. Each is bounded and
// logged, and the CLIs' transfers still complete. Attackers connect from
// other loopback addresses (127.0.0.2, …) so per-address limits apply to
// them and not to the CLIs on 127.0.0.1.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir, runWormhole, sha256File, waitFor } from '@burrow/testkit';
import { startGateway, type Gateway } from '../src/index.js';
import { cliOptions, cliText as cliTextThrough } from './support/cli.js';

type Frame = Record<string, unknown>;

/** A raw mailbox client from `localAddress`. */
async function rawMailbox(url: string, localAddress: string) {
  const ws = new WebSocket(url, { localAddress });
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  ws.on('error', () => {
      /* resets and refusals are part of the test: the outcome is asserted, not the socket error */
    });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  await waitFor(() => frames.length > 0, { message: 'welcome' });
  const send = (f: Frame) => ws.send(JSON.stringify(f));
  /** Send and wait for the first reply of one of `types`. */
  const request = async (f: Frame, types: string[]): Promise<Frame> => {
    const from = frames.length;
    send(f);
    return waitFor(() => frames.slice(from).find((x) => types.includes(x['type'] as string)), { message: types.join('/') });
  };
  return { ws, frames, closed, send, request };
}

describe('gateway under abuse, with real CLIs', () => {
  let gw: Gateway;
  const logs: string[] = [];
  const dirs: string[] = [];
  const codes: string[] = [];
  const tokens: string[] = [];
  const log = (level: string) => (event: string, fields?: Record<string, unknown>) => logs.push(`${level} ${event} ${JSON.stringify(fields ?? {})}`);

  beforeAll(async () => {
    assertPrivateNetwork();
    gw = await startGateway({
      port: 0,
      transitPort: 0,
      mailboxLimits: { maxAllocationsPerAddress: 50, maxBufferedBytes: 512 << 10 },
      relayLimits: { lonelyTimeoutMs: 1_500, highWaterMark: 512 << 10, lowWaterMark: 128 << 10 },
      logger: { debug: log('debug'), info: log('info'), warn: log('warn') },
    });
  });

  afterAll(async () => {
    await gw?.close();
    await cleanup();
    for (const dir of dirs) removeDir(dir);
  });

  const cli = () => cliOptions(gw);

  async function cliText(text: string): Promise<void> {
    codes.push(await cliTextThrough(gw, text));
  }

  it('a third side is told "crowded" (the CLI reports it) and cannot join', async () => {
    const sender = runWormhole(['send', '--text', 'for the right receiver only'], cli());
    const code = await sender.code;
    codes.push(code);
    const nameplate = code.split('-')[0]!;
    // An intruder claims the nameplate first, from another address…
    const intruder = await rawMailbox(gw.url, '127.0.0.2');
    intruder.send({ type: 'bind', appid: 'lothar.com/wormhole/text-or-file-xfer', side: 'intruder01' });
    expect(await intruder.request({ type: 'claim', nameplate }, ['claimed', 'error'])).toMatchObject({ type: 'claimed' });
    // …so the real receiver is the third side.
    const receiver = runWormhole(['receive', code], cli());
    const received = await receiver.result;
    expect(received.exitCode).not.toBe(0);
    expect(received.stderr).toMatch(/crowded/);
    // And a fourth, raw, is refused too.
    const fourth = await rawMailbox(gw.url, '127.0.0.3');
    fourth.send({ type: 'bind', appid: 'lothar.com/wormhole/text-or-file-xfer', side: 'fourth0001' });
    expect(await fourth.request({ type: 'claim', nameplate }, ['claimed', 'error'])).toMatchObject({ type: 'error', error: 'crowded' });
    sender.kill();
    intruder.ws.close();
    fourth.ws.close();
    expect(logs.some((l) => l.startsWith('info mailbox.crowded'))).toBe(true);
  });

  it('caps an allocation flood per address while CLIs carry on', async () => {
    const results = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const c = await rawMailbox(gw.url, '127.0.0.4');
        c.send({ type: 'bind', appid: 'lothar.com/wormhole/text-or-file-xfer', side: `flood${String(i).padStart(5, '0')}` });
        const reply = await c.request({ type: 'allocate' }, ['allocated', 'error']);
        return { c, reply };
      }),
    );
    const ok = results.filter((r) => r.reply['type'] === 'allocated').length;
    const refused = results.filter((r) => r.reply['error'] === 'too many nameplates and mailboxes from your address').length;
    expect(ok).toBe(50);
    expect(refused).toBe(70);
    await cliText('allocation flood did not stop me');
    for (const r of results) r.c.ws.close();
    expect(logs.some((l) => l.startsWith('warn mailbox.limit'))).toBe(true);
  });

  it('refuses oversized frames (close 1009) without disturbing a transfer', async () => {
    const big = await rawMailbox(gw.url, '127.0.0.5');
    big.ws.send(JSON.stringify({ type: 'ping', ping: 'x'.repeat(2_000_000) }));
    expect(await big.closed).toBe(1009);
    await cliText('oversized frames are refused');
    expect(logs.some((l) => l.includes('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'))).toBe(true);
  });

  it('a CLI text too large for the mailbox fails cleanly instead of reconnecting forever', async () => {
    // 150 kB of text: over 256 KiB once hex-encoded and encrypted, under the
    // hard limit, so the server answers with an error the CLI reports.
    const sender = runWormhole(['send', '--text', '-'], { ...cli(), stdin: 'x'.repeat(150_000), timeoutMs: 30_000 });
    const code = await sender.code;
    codes.push(code);
    // The receiver gets the key exchange going, so the sender sends its text.
    const receiver = runWormhole(['receive', code], { ...cli(), timeoutMs: 30_000 });
    const sent = await sender.result;
    expect(sent.exitCode).not.toBe(0);
    expect(sent.stderr).toMatch(/invalid frame \(too large\)/);
    // The receiver is never told (magic-wormhole has no "peer gave up").
    receiver.kill();
    await receiver.result;
  });

  it('closes a relay connection whose token nobody matches', async () => {
    const token = randomBytes(32).toString('hex');
    tokens.push(token);
    const socket: Socket = connect({ port: gw.transitPort!, host: '127.0.0.1', localAddress: '127.0.0.6' });
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    socket.on('error', () => {
      /* resets and refusals are part of the test: the outcome is asserted, not the socket error */
    });
    const t0 = Date.now();
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`please relay ${token} for side 0123456789abcdef\n`);
    await new Promise((resolve) => socket.once('close', resolve));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_400);
    expect(Buffer.concat(got).length).toBe(0);
    expect(logs.some((l) => l.startsWith('info relay.lonely-timeout'))).toBe(true);
    expect(gw.stats().relay.waiting).toBe(0);
  });

  it('readers that stop reading stall neither the mailbox nor the relay for others', async () => {
    // Mailbox: a client that never reads but asks for big pongs.
    const slow = await rawMailbox(gw.url, '127.0.0.7');
    slow.ws.pause();
    const ping = JSON.stringify({ type: 'ping', ping: 'p'.repeat(200_000) });
    // Relay: a glued pair whose reader stopped while its writer pushes.
    const token = randomBytes(32).toString('hex');
    tokens.push(token);
    const writer = connect({ port: gw.transitPort!, host: '127.0.0.1', localAddress: '127.0.0.8' });
    const reader = connect({ port: gw.transitPort!, host: '127.0.0.1', localAddress: '127.0.0.8' });
    for (const s of [writer, reader]) s.on('error', () => {
      /* resets and refusals are part of the test: the outcome is asserted, not the socket error */
    });
    await Promise.all([writer, reader].map((s) => new Promise((resolve) => s.once('connect', resolve))));
    const readerGotOk = new Promise((resolve) => reader.once('data', resolve));
    writer.write(`please relay ${token} for side aaaaaaaaaaaaaaaa\n`);
    reader.write(`please relay ${token} for side bbbbbbbbbbbbbbbb\n`);
    await readerGotOk;
    reader.pause();
    const junk = randomBytes(1 << 20);
    const pump = setInterval(() => {
      if (slow.ws.readyState === WebSocket.OPEN) for (let i = 0; i < 4; i++) slow.ws.send(ping);
      if (writer.writableLength < 4 << 20) writer.write(junk);
    }, 5);
    try {
      // A CLI file transfer through the same relay, and a text through the same mailbox.
      const src = makeTempDir('burrow-abuse-');
      const dst = makeTempDir('burrow-abuse-');
      dirs.push(src, dst);
      writeFileSync(join(src, 'data.bin'), randomBytes(2_000_000));
      const sender = runWormhole(['send', '--hide-progress', '--no-listen', 'data.bin'], { ...cli(), cwd: src });
      const code = await sender.code;
      codes.push(code);
      const receiver = runWormhole(['receive', '--accept-file', '--hide-progress', '--no-listen', code], { ...cli(), cwd: dst });
      const [sent, received] = await Promise.all([sender.result, receiver.result]);
      expect(sent.exitCode, sent.stderr).toBe(0);
      expect(received.exitCode, received.stderr).toBe(0);
      expect(await sha256File(join(dst, 'data.bin'))).toBe(await sha256File(join(src, 'data.bin')));
      await cliText('the slow reader was left behind');
      await waitFor(() => logs.some((l) => l.startsWith('warn mailbox.slow-consumer')), { message: 'the slow mailbox client to be dropped' });
      // The relay held the stuck pair's writer back instead of buffering its stream.
      expect(writer.writableLength).toBeGreaterThan(0);
    } finally {
      clearInterval(pump);
      writer.destroy();
      reader.destroy();
      slow.ws.terminate();
    }
  });

  it('logs carry no codes, nameplates or relay tokens', async () => {
    expect(logs.length).toBeGreaterThan(20);
    const all = logs.join('\n');
    for (const code of codes) {
      expect(all).not.toContain(code);
      // Each word on its own too, but not inside the client name a side reports
      // at bind: the CLI says "python", which is also a PGP word.
      const scrubbed = all.replace(/"client":"[^"]*"/g, '');
      for (const word of code.split('-').slice(1)) expect(scrubbed).not.toMatch(new RegExp(`\\b${word}\\b`));
    }
    for (const token of tokens) expect(all).not.toContain(token);
    await waitFor(() => gw.stats().relay.connections === 0 && gw.stats().relay.waiting === 0, { message: 'relay drained' });
  });
});
