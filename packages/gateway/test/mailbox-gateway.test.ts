// The gateway's mailbox over real WebSockets on loopback: two Burrow clients
// complete a text transfer, state survives a restart with a data dir, and
// oversized frames and slow readers are dealt with without hurting others.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createWormhole, type WebSocketConstructor } from '@burrow/client';
import { startGateway, type Gateway, type GatewayOptions } from '../src/index.js';

const WS = WebSocket as unknown as WebSocketConstructor;
const open: Gateway[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function gateway(options: GatewayOptions = {}): Promise<Gateway> {
  const gw = await startGateway({ port: 0, transitPort: 0, ...options });
  open.push(gw);
  return gw;
}

/** Poll until `check` is truthy (no sleeps in tests). */
async function until<T>(check: () => T, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function textTransfer(url: string, text: string): Promise<string> {
  const sender = await createWormhole({ mailbox: url, WebSocket: WS });
  const receiver = await createWormhole({ mailbox: url, WebSocket: WS });
  try {
    const code = await sender.allocateCode();
    receiver.setCode(code);
    const [, got] = await Promise.all([sender.sendText(text), receiver.receiveText()]);
    return got;
  } finally {
    await Promise.allSettled([sender.close(), receiver.close()]);
  }
}

/** A raw mailbox client: collects frames, sends JSON. */
async function rawClient(url: string): Promise<{ ws: WebSocket; frames: Record<string, unknown>[]; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  const frames: Record<string, unknown>[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Record<string, unknown>));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('error', () => {});
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  await until(() => frames.length > 0, 'welcome');
  return { ws, frames, closed };
}

describe('gateway mailbox', () => {
  it('two Burrow clients exchange a text, and the state is empty afterwards', async () => {
    const gw = await gateway({ motd: 'be nice' });
    expect(gw.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v1$/);
    expect(await textTransfer(gw.url, 'hello through the gateway')).toBe('hello through the gateway');
    await until(() => gw.stats().mailbox.connections === 0, 'disconnects');
    expect(gw.stats().mailbox).toMatchObject({ nameplates: 0, mailboxes: 0, messages: 0, listeners: 0, apps: 0 });
  });

  it('serves /health and refuses unknown upgrade paths', async () => {
    const gw = await gateway();
    const res = await fetch(`http://127.0.0.1:${gw.port}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', mailbox: { connections: 0 }, relay: { connections: 0 } });
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/elsewhere`);
    const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0)));
    expect(status).toBe(404);
  });

  it('keeps an open mailbox across a restart with a data dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'burrow-gw-'));
    dirs.push(dataDir);
    const first = await startGateway({ port: 0, transitPort: null, dataDir });
    const port = first.port;
    const sender = await createWormhole({ mailbox: first.url, WebSocket: WS, reconnect: { initialMs: 50, maxMs: 200, factor: 1.5 } });
    const code = await sender.allocateCode();
    const sent = sender.sendText('survived a restart');
    await until(() => first.stats().mailbox.messages >= 1, 'the pake message');
    await first.close();
    const second = await gateway({ port, transitPort: null, dataDir });
    expect(second.stats().mailbox).toMatchObject({ nameplates: 1, mailboxes: 1 });
    const receiver = await createWormhole({ mailbox: second.url, WebSocket: WS });
    receiver.setCode(code);
    expect(await receiver.receiveText()).toBe('survived a restart');
    await sent;
    await Promise.all([sender.close(), receiver.close()]);
  });

  it('answers a large frame with an error, drops a huge one (close 1009), keeps serving others', async () => {
    const warnings: string[] = [];
    const gw = await gateway({ mailboxLimits: { maxFrameBytes: 4096 }, logger: { warn: (e, f) => warnings.push(`${e} ${JSON.stringify(f)}`) } });
    const big = await rawClient(gw.url);
    big.ws.send(JSON.stringify({ type: 'ping', ping: 'x'.repeat(5000) }));
    await until(() => big.frames.some((f) => f['type'] === 'error'), 'an error');
    expect(big.frames.at(-1)).toMatchObject({ type: 'error', error: 'invalid frame (too large)', orig: null });
    big.ws.send(JSON.stringify({ type: 'ping', ping: 'x'.repeat(20_000) }));
    expect(await big.closed).toBe(1009);
    expect(warnings.some((w) => w.includes('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'))).toBe(true);
    expect(await textTransfer(gw.url, 'still fine')).toBe('still fine');
  });

  it('drops a client that stops reading while others carry on', async () => {
    const warnings: string[] = [];
    const gw = await gateway({ mailboxLimits: { maxBufferedBytes: 256 * 1024 }, logger: { warn: (e) => warnings.push(e) } });
    const slow = await rawClient(gw.url);
    // Stop reading, then ask for big pongs until the server gives up on us.
    slow.ws.pause();
    const ping = JSON.stringify({ type: 'ping', ping: 'p'.repeat(200_000) });
    const pump = setInterval(() => {
      if (slow.ws.readyState === WebSocket.OPEN) for (let i = 0; i < 5; i++) slow.ws.send(ping);
    }, 5);
    try {
      expect(await textTransfer(gw.url, 'not stalled')).toBe('not stalled');
      await until(() => warnings.includes('mailbox.slow-consumer'), 'the slow consumer to be dropped');
    } finally {
      clearInterval(pump);
    }
    slow.ws.terminate();
    await until(() => gw.stats().mailbox.connections === 0, 'all connections gone');
  });

  it('refuses connections over the per-address cap with HTTP 503', async () => {
    const gw = await gateway({ mailboxLimits: { maxConnectionsPerAddress: 2 } });
    const a = await rawClient(gw.url);
    const b = await rawClient(gw.url);
    const ws = new WebSocket(gw.url);
    const status = await new Promise<number>((resolve) => ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0)));
    expect(status).toBe(503);
    a.ws.close();
    b.ws.close();
  });
});
