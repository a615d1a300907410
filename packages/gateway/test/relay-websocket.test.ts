// The relay's own WebSocket endpoint over real sockets: the upgrade, pings,
// the close handshake both ways, fragmented messages through to a TCP peer,
// caps, protocol errors, and a close the client never answers.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitFor } from '@burrow/testkit';
import { relayLine, tcpRelayPeer } from './support/relay-peers.js';
import { listenTcpRelay, RelayWebSocketServer, TransitRelay } from '../src/index.js';
import { selfSignedCertificate } from '../src/http3/certificate.js';
import { closePayload, encodeFrame, FrameParser, OPCODE } from '../src/relay/ws-frames.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const line = relayLine;
const MASK = new Uint8Array([1, 2, 3, 4]);

/** A relay with a TCP listener and a WebSocket endpoint on an HTTP server. */
async function relayServer(options: { maxFrameBytes?: number; closeTimeoutMs?: number; tls?: boolean } = {}) {
  const warnings: string[] = [];
  const warn = (event: string, fields?: Record<string, unknown>): void => void warnings.push(`${event} ${JSON.stringify(fields)}`);
  const relay = new TransitRelay({ logger: { warn } });
  const { tls, ...wsOptions } = options;
  const ws = new RelayWebSocketServer(relay, { ...wsOptions, logger: { warn } });
  const http: Server = tls ? createHttpsServer(selfSignedCertificate({ names: ['127.0.0.1'] })) : createServer();
  http.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  const tcp = await listenTcpRelay(relay, { host: '127.0.0.1', port: 0 });
  cleanups.push(async () => {
    ws.close();
    relay.close();
    await tcp.close();
    await new Promise((resolve) => http.close(resolve));
  });
  const port = (http.address() as { port: number }).port;
  return { relay, warnings, port, url: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/relay`, transitPort: tcp.port };
}

const tcpPeer = async (port: number, token: string) => tcpRelayPeer(port, token);

async function wsPeer(url: string, protocols?: string[]) {
  const ws = new WebSocket(url, protocols, { rejectUnauthorized: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const chunks: Buffer[] = [];
  ws.on('message', (d: Buffer) => chunks.push(d));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return { ws, closed, received: () => Buffer.concat(chunks) };
}

/** A hand-driven client: raw upgrade, frames in, server frames parsed out. */
async function rawPeer(port: number, headers: Record<string, string> = {}) {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const all = { 'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-version': '13', upgrade: 'websocket', connection: 'Upgrade', ...headers };
  socket.write(`GET /relay HTTP/1.1\r\nHost: x\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
  const frames: Array<[number, Buffer]> = [];
  let response = '';
  let head = Buffer.alloc(0);
  const parser = new FrameParser(
    {
      data: (p) => frames.push([OPCODE.binary, Buffer.from(p)]),
      ping: (p) => frames.push([OPCODE.ping, Buffer.from(p)]),
      pong: (p) => frames.push([OPCODE.pong, Buffer.from(p)]),
      close: (code) => frames.push([OPCODE.close, Buffer.from(code === undefined ? [] : closePayload(code))]),
      error: (code, reason) => frames.push([-1, Buffer.from(`${code} ${reason}`)]),
    },
    { maxFrameBytes: Infinity, masked: false },
  );
  socket.on('data', (d: Buffer) => {
    if (response) return parser.push(d);
    head = Buffer.concat([head, d]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    response = head.subarray(0, end).toString('latin1');
    parser.push(head.subarray(end + 4));
  });
  socket.on('error', () => {
    /* the server cutting us is part of these tests */
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, frames, closed, response: () => response };
}

const closeCode = (payload: Buffer): number => payload.readUInt16BE(0);

describe('relay WebSocket endpoint', () => {
  it('answers the upgrade, echoes a requested subprotocol and refuses a bad version', async () => {
    const s = await relayServer();
    const peer = await wsPeer(s.url, ['wormhole', 'other']);
    expect(peer.ws.protocol).toBe('wormhole');
    peer.ws.close();
    const bad = await rawPeer(s.port, { 'sec-websocket-version': '12' });
    await bad.closed;
    expect(bad.response()).toMatch(/^HTTP\/1.1 400 Bad Request\r\n/);
  });

  it('answers a ping with its payload', async () => {
    const s = await relayServer();
    const peer = await wsPeer(s.url);
    const pong = new Promise<Buffer>((resolve) => peer.ws.once('pong', resolve));
    peer.ws.ping(Buffer.from('hello?'));
    expect((await pong).toString()).toBe('hello?');
    peer.ws.close();
  });

  it('passes a fragmented message with pings between the fragments to the TCP peer', async () => {
    const s = await relayServer();
    const token = randomBytes(32).toString('hex');
    const peer = await wsPeer(s.url);
    const tcp = await tcpPeer(s.transitPort, token);
    peer.ws.send(Buffer.from(line(token, 'wwwwwwwwwwwwwwww')));
    await waitFor(() => peer.received().toString() === 'ok\n' && tcp.received().toString() === 'ok\n', { message: 'ok' });
    const [a, b, c] = [randomBytes(100), randomBytes(70_000), randomBytes(3)];
    peer.ws.send(a, { fin: false });
    peer.ws.ping();
    peer.ws.send(b, { fin: false });
    peer.ws.ping();
    peer.ws.send(c, { fin: true });
    const want = Buffer.concat([Buffer.from('ok\n'), a, b, c]);
    await waitFor(() => tcp.received().length >= want.length, { message: 'all bytes' });
    expect(tcp.received().equals(want)).toBe(true);
    peer.ws.close(4001, 'done');
    expect(await peer.closed).toEqual({ code: 4001, reason: '' });
    await tcp.closed;
  });

  it('relays over TLS too (wss: the socket is read the usual way), 4 MB each way unchanged', async () => {
    const s = await relayServer({ tls: true });
    const token = randomBytes(32).toString('hex');
    const peer = await wsPeer(s.url);
    const tcp = await tcpPeer(s.transitPort, token);
    peer.ws.send(Buffer.from(line(token, 'wwwwwwwwwwwwwwww')));
    await waitFor(() => peer.received().length === 3 && tcp.received().length === 3, { message: 'ok' });
    const [up, down] = [randomBytes(4 << 20), randomBytes(4 << 20)];
    for (let i = 0; i < up.length; i += 256 << 10) peer.ws.send(up.subarray(i, i + (256 << 10)));
    tcp.socket.write(down);
    await waitFor(() => tcp.received().length === 3 + up.length && peer.received().length === 3 + down.length, { message: 'all bytes', timeoutMs: 30_000 });
    expect(tcp.received().subarray(3).equals(up)).toBe(true);
    expect(peer.received().subarray(3).equals(down)).toBe(true);
    peer.ws.close();
    await tcp.closed;
  });

  it('closes 1000 when the buddy leaves, after flushing its last bytes', async () => {
    const s = await relayServer();
    const token = randomBytes(32).toString('hex');
    const peer = await wsPeer(s.url);
    const tcp = await tcpPeer(s.transitPort, token);
    peer.ws.send(Buffer.from(line(token, 'wwwwwwwwwwwwwwww')));
    await waitFor(() => tcp.received().length === 3, { message: 'ok' });
    const last = randomBytes(3 << 20);
    tcp.socket.end(last);
    expect((await peer.closed).code).toBe(1000);
    expect(peer.received().equals(Buffer.concat([Buffer.from('ok\n'), last]))).toBe(true);
    await waitFor(() => s.relay.stats().connections === 0, { message: 'relay empty' });
  });

  it('ends a frame over the cap with 1009 and a warning', async () => {
    const s = await relayServer({ maxFrameBytes: 1024 });
    const peer = await wsPeer(s.url);
    peer.ws.send(randomBytes(1025));
    expect((await peer.closed).code).toBe(1009);
    expect(s.warnings).toEqual([expect.stringMatching(/^relay.websocket-error .*"error":"WS_ERR_UNSUPPORTED_MESSAGE_LENGTH","code":1009/)]);
    await waitFor(() => s.relay.stats().connections === 0, { message: 'relay empty' });
  });

  it('ends an unmasked frame with 1002 and an unknown opcode with 1002', async () => {
    const s = await relayServer();
    for (const bytes of [encodeFrame(OPCODE.binary, Buffer.from('x')), encodeFrame(5, Buffer.from('x'), MASK)]) {
      const raw = await rawPeer(s.port);
      raw.socket.write(bytes);
      await raw.closed;
      expect(raw.response()).toMatch(/^HTTP\/1.1 101 /);
      expect(raw.frames.map(([op, p]) => (op === OPCODE.close ? closeCode(p) : op))).toEqual([1002]);
    }
  });

  it('cuts a connection that never answers the close after the close timeout', async () => {
    const s = await relayServer({ closeTimeoutMs: 200 });
    const raw = await rawPeer(s.port);
    const t0 = performance.now();
    raw.socket.write(encodeFrame(OPCODE.binary, Buffer.from('GET / HTTP/1.1\r\n\r\n'), MASK));
    await raw.closed; // no close frame from us: the server cut the connection itself
    expect(performance.now() - t0).toBeLessThan(5_000); // the close timeout, not the relay's 10 s grace for closing connections
    expect(raw.frames.map(([op, p]) => (op === OPCODE.close ? `close ${closeCode(p)}` : p.toString()))).toEqual(['bad handshake\n', 'close 1000']);
    await waitFor(() => s.relay.stats().connections === 0, { message: 'relay empty' });
  });
});
