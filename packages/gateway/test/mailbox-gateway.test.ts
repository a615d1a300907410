// The gateway's mailbox over real WebSockets on loopback: two clients pass a
// message through a mailbox (raw frames), state survives a restart with a
// data dir, and oversized frames and slow readers are dealt with without
// hurting others.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitFor } from '@burrow/testkit';
import { startGateway, type Gateway, type GatewayOptions } from '../src/index.js';
import { exchange, leave, receiveBody, sendBody, wsMailboxClient as rawClient } from './support/raw-mailbox.js';

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

/** Two fresh clients pass `body` (hex) through a mailbox; returns what arrived. */
async function passMessage(url: string, body: string): Promise<string> {
  const [a, b] = await Promise.all([rawClient(url), rawClient(url)]);
  try {
    return await exchange(a, b, body);
  } finally {
    a.close();
    b.close();
  }
}

describe('gateway mailbox', () => {
  it('two clients pass a message through a mailbox, and the state is empty afterwards', async () => {
    const gw = await gateway({ motd: 'be nice' });
    expect(gw.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v1$/);
    const a = await rawClient(gw.url);
    expect(a.frames[0]).toMatchObject({ type: 'welcome', welcome: { motd: 'be nice' } });
    a.close();
    expect(await passMessage(gw.url, 'c0ffee')).toBe('c0ffee');
    await waitFor(() => gw.stats().mailbox.connections === 0, { message: 'disconnects' });
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
    const sender = await rawClient(first.url);
    const { nameplate } = await sendBody(sender, '5afe');
    await waitFor(() => first.stats().mailbox.messages >= 1, { message: 'the message stored' });
    await first.close();
    await sender.closed;
    const second = await gateway({ port, transitPort: null, dataDir });
    expect(second.stats().mailbox).toMatchObject({ nameplates: 1, mailboxes: 1 });
    const receiver = await rawClient(second.url);
    expect(await receiveBody(receiver, nameplate)).toBe('5afe');
    await leave(receiver);
    receiver.close();
  });

  it('draining closes connections in no wormhole at once (1001) and lets an open wormhole finish', async () => {
    const gw = await startGateway({ port: 0, transitPort: null });
    const idle = await rawClient(gw.url);
    idle.send({ type: 'bind', appid: 'lothar.com/wormhole/text-or-file-xfer', side: 'cccc' });
    const busy = await rawClient(gw.url);
    await sendBody(busy, '5afe');
    await waitFor(() => gw.stats().mailbox.messages >= 1, { message: 'the message stored' });
    const shutdown = gw.shutdown({ drainMs: 20_000 });
    expect(await idle.closed).toBe(1001);
    // The wormhole is still served while it lasts: its owner ends it, then the gateway is done.
    await waitFor(() => gw.stats().mailbox.connections === 1, { message: 'only the idle connection gone' });
    expect(busy.frames.some((f) => f.type === 'error')).toBe(false);
    await leave(busy);
    busy.close();
    await shutdown;
  });

  it('reports how long the SQLite store takes to commit, in /metrics and /health', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'burrow-gw-'));
    dirs.push(dataDir);
    const gw = await gateway({ transitPort: null, dataDir });
    expect(await passMessage(gw.url, 'beef')).toBe('beef');
    const text = await (await fetch(`http://127.0.0.1:${gw.port}/metrics`)).text();
    expect(text).toContain('# TYPE burrow_store_commit_seconds histogram');
    const count = Number(/^burrow_store_commit_seconds_count (\d+)$/m.exec(text)?.[1]);
    expect(count).toBeGreaterThan(0);
    expect(text).toMatch(new RegExp(`^burrow_store_commit_seconds_bucket\\{le="\\+Inf"\\} ${count}$`, 'm'));
    const health = (await (await fetch(`http://127.0.0.1:${gw.port}/health`)).json()) as { store: { latency: { count: number; maxMs: number } } };
    expect(health.store.latency.count).toBeGreaterThanOrEqual(count);
    expect(health.store.latency.maxMs).toBeGreaterThan(0);
  });

  it('answers a large frame with an error, drops a huge one (close 1009), keeps serving others', async () => {
    const warnings: string[] = [];
    const gw = await gateway({ mailboxLimits: { maxFrameBytes: 4096 }, logger: { warn: (e, f) => warnings.push(`${e} ${JSON.stringify(f)}`) } });
    const big = await rawClient(gw.url);
    big.ws.send(JSON.stringify({ type: 'ping', ping: 'x'.repeat(5000) }));
    await big.next('error');
    expect(big.frames.at(-1)).toMatchObject({ type: 'error', error: 'invalid frame (too large)', orig: null });
    big.ws.send(JSON.stringify({ type: 'ping', ping: 'x'.repeat(20_000) }));
    expect(await big.closed).toBe(1009);
    expect(warnings.some((w) => w.includes('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'))).toBe(true);
    expect(await passMessage(gw.url, '5711f1e0')).toBe('5711f1e0');
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
      expect(await passMessage(gw.url, 'f10e')).toBe('f10e');
      await waitFor(() => warnings.includes('mailbox.slow-consumer'), { message: 'the slow consumer to be dropped' });
    } finally {
      clearInterval(pump);
    }
    slow.ws.terminate();
    await waitFor(() => gw.stats().mailbox.connections === 0, { message: 'all connections gone' });
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
