// Whom the gateway believes about client addresses: the trusted-proxy list,
// X-Forwarded-For walked from the right, and a real gateway on loopback
// taking the client address from PROXY v1/v2 headers (HTTP, HTTPS and the
// TCP relay) and X-Forwarded-For — and ignoring both from anyone else.
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '@burrow/testkit';
import { startGateway, type Gateway, type GatewayOptions } from '../src/index.js';
import { selfSignedCertificate } from '../src/http3/certificate.js';
import { readProxyHeader } from '../src/proxy-connection.js';
import { forwardedFor, TrustedProxies } from '../src/trust-proxy.js';

describe('TrustedProxies', () => {
  it('matches addresses and networks, IPv4-mapped peers too', () => {
    const t = new TrustedProxies(['10.0.0.0/8', '192.0.2.1', '2001:db8::/32', '[::1]']);
    expect(['10.1.2.3', '::ffff:10.9.9.9', '192.0.2.1', '2001:db8:5::1', '::1'].map((a) => t.trusts(a))).toEqual([true, true, true, true, true]);
    expect(['11.0.0.1', '192.0.2.2', '2001:db9::1', 'unknown', ''].map((a) => t.trusts(a))).toEqual([false, false, false, false, false]);
    expect(new TrustedProxies([]).trusts('127.0.0.1')).toBe(false);
  });

  it('refuses what is not ADDR or ADDR/PREFIX, naming it', () => {
    for (const bad of ['localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/', '1.2.3.4/8/9', '']) {
      expect(() => new TrustedProxies([bad]), bad).toThrow(TypeError);
    }
    expect(() => new TrustedProxies(['lb.example'])).toThrow('trustProxy: "lb.example" is not an IP address or ADDR/PREFIX');
  });
});

describe('forwardedFor', () => {
  const t = new TrustedProxies(['10.0.0.0/8']);
  it('takes the right-most address that is not a trusted proxy', () => {
    expect(forwardedFor('10.0.0.1', '203.0.113.9', t)).toBe('203.0.113.9');
    expect(forwardedFor('10.0.0.1', '198.51.100.1, 203.0.113.9, 10.0.0.2', t)).toBe('203.0.113.9');
    expect(forwardedFor('10.0.0.1', ['198.51.100.1', '203.0.113.9'], t)).toBe('203.0.113.9');
    expect(forwardedFor('10.0.0.1', '[2001:db8::1]:4711, 203.0.113.9:80', t)).toBe('203.0.113.9');
    expect(forwardedFor('10.0.0.1', '[2001:db8::1]:4711', t)).toBe('2001:db8::1');
  });
  it('ignores it from an untrusted peer, and stops at a malformed entry or an oversized header', () => {
    expect(forwardedFor('203.0.113.9', '10.0.0.5', t)).toBe('203.0.113.9');
    expect(forwardedFor('10.0.0.1', '198.51.100.1, unknown, 10.0.0.2', t)).toBe('10.0.0.2');
    expect(forwardedFor('10.0.0.1', 'nonsense', t)).toBe('10.0.0.1');
    expect(forwardedFor('10.0.0.1', `${'1.2.3.4,'.repeat(600)}5.6.7.8`, t)).toBe('10.0.0.1');
    expect(forwardedFor('10.0.0.1', undefined, t)).toBe('10.0.0.1');
  });
  it('takes the left-most when every hop is trusted', () => {
    expect(forwardedFor('10.0.0.1', '10.0.0.3, 10.0.0.2', t)).toBe('10.0.0.3');
  });
});

const open: Gateway[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((g) => g.close()));
});

interface Logged {
  event: string;
  fields: Record<string, unknown>;
}

/** A gateway trusting 127.0.0.1 that refuses every mailbox and relay connection by address, logging whose. */
async function gateway(options: GatewayOptions = {}): Promise<{ gw: Gateway; logs: Logged[]; refusedAddresses: () => unknown[] }> {
  const logs: Logged[] = [];
  const log = (event: string, fields?: Record<string, unknown>): void => void logs.push({ event, fields: fields ?? {} });
  const gw = await startGateway({ port: 0, transitPort: 0, trustProxy: ['127.0.0.1'], logger: { info: log, warn: log }, ...options });
  open.push(gw);
  const refusedAddresses = (): unknown[] => logs.filter((l) => l.event.endsWith('.refused-connection')).map((l) => l.fields['address']);
  return { gw, logs, refusedAddresses };
}

const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
/** A PROXY v2 TCP4 header for `source` (to 127.0.0.1:4000). */
function proxyV2(source: string): Buffer {
  return Buffer.from([...SIG, 0x21, 0x11, 0, 12, ...source.split('.').map(Number), 127, 0, 0, 1, 0x9c, 0x40, 0x0f, 0xa0]);
}
const proxyV1 = (source: string): Buffer => Buffer.from(`PROXY TCP4 ${source} 127.0.0.1 40000 4000\r\n`);

const upgradeRequest = (path: string, headers: Record<string, string> = {}): string =>
  [`GET ${path} HTTP/1.1`, 'Host: gw', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');

/** Connect from `from`, write `bytes` (in pieces, to exercise reassembly), and collect what comes back until the server closes or `until` matches. */
async function exchange(port: number, from: string, pieces: (Buffer | string)[], until?: RegExp): Promise<{ text: string; socket: Socket }> {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  socket.on('error', () => {
    /* a reset is an answer too: what arrived is asserted */
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  let text = '';
  const done = new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (until?.test(text)) resolve();
    });
    socket.on('close', () => resolve());
  });
  for (const piece of pieces) {
    socket.write(piece);
    await new Promise((r) => setImmediate(r));
  }
  await done;
  return { text, socket };
}

describe('a gateway behind a trusted proxy', () => {
  it('takes the client address from PROXY v2 and v1 headers on the HTTP port, and serves what follows them', async () => {
    const { gw, refusedAddresses } = await gateway();
    // A served upgrade: the bytes after the header (split across writes) reach the HTTP parser and the mailbox.
    const v2 = proxyV2('127.0.0.33');
    const ok = await exchange(gw.port, '127.0.0.1', [v2.subarray(0, 5), v2.subarray(5), upgradeRequest('/v1').slice(0, 9), upgradeRequest('/v1').slice(9)], /"type":"welcome"/);
    expect(ok.text).toMatch(/^HTTP\/1\.1 101 /);
    await waitFor(() => gw.stats().mailbox.connections === 1);
    ok.socket.destroy();

    // Limits see the named address: refuse everyone, and read whose connection it was.
    const { gw: full, refusedAddresses: refused } = await gateway({ mailboxLimits: { maxConnectionsPerAddress: 0 }, relayLimits: { maxConnectionsPerAddress: 0 } });
    await exchange(full.port, '127.0.0.1', [proxyV2('127.0.0.44'), upgradeRequest('/v1')]);
    await exchange(full.port, '127.0.0.1', [proxyV1('127.0.0.45'), upgradeRequest('/relay')]);
    await exchange(full.port, '127.0.0.1', [Buffer.concat([proxyV1('127.0.0.46'), Buffer.from(upgradeRequest('/v1'))])]);
    expect(refused()).toEqual(['127.0.0.44', '127.0.0.45', '127.0.0.46']);
    expect(refusedAddresses()).toEqual([]);
  });

  it('answers a health check that sends PROXY v2 LOCAL, or no header at all', async () => {
    const { gw } = await gateway();
    const local = Buffer.from([...SIG, 0x20, 0x00, 0, 0]);
    for (const prefix of [[local], []]) {
      const r = await exchange(gw.port, '127.0.0.1', [...prefix, 'GET /health HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n']);
      expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
    }
  });

  it('takes it from a PROXY header before the TLS handshake on an HTTPS gateway', async () => {
    const { cert, key } = selfSignedCertificate({ names: ['127.0.0.1'] });
    const { gw, refusedAddresses } = await gateway({ tls: { cert, key }, mailboxLimits: { maxConnectionsPerAddress: 0 } });
    const raw = connect({ port: gw.port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    await new Promise((resolve) => raw.once('connect', resolve));
    raw.write(proxyV2('127.0.0.55'));
    const tls = tlsConnect({ socket: raw, rejectUnauthorized: false });
    tls.on('error', () => {
      /* refused: the answer is asserted */
    });
    let answer = '';
    tls.on('data', (d: Buffer) => (answer += d.toString('latin1'))); // read it, or the socket never ends
    await new Promise((resolve) => tls.once('secureConnect', resolve));
    tls.write(upgradeRequest('/v1'));
    await new Promise((resolve) => tls.once('close', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(refusedAddresses()).toEqual(['127.0.0.55']);
  });

  it('takes it from X-Forwarded-For on upgrades from a trusted peer only', async () => {
    const { gw, refusedAddresses } = await gateway({ mailboxLimits: { maxConnectionsPerAddress: 0 }, relayLimits: { maxConnectionsPerAddress: 0 } });
    await exchange(gw.port, '127.0.0.1', [upgradeRequest('/v1', { 'X-Forwarded-For': '203.0.113.7, 127.0.0.1' })]);
    await exchange(gw.port, '127.0.0.1', [upgradeRequest('/relay', { 'X-Forwarded-For': '2001:db8::7' })]);
    // PROXY names a trusted hop: its X-Forwarded-For counts too.
    await exchange(gw.port, '127.0.0.1', [proxyV1('127.0.0.1'), upgradeRequest('/v1', { 'X-Forwarded-For': '198.51.100.3' })]);
    // PROXY names an untrusted client: its X-Forwarded-For is the client's own say, ignored.
    await exchange(gw.port, '127.0.0.1', [proxyV1('127.0.0.66'), upgradeRequest('/v1', { 'X-Forwarded-For': '198.51.100.4' })]);
    await exchange(gw.port, '127.0.0.2', [upgradeRequest('/v1', { 'X-Forwarded-For': '198.51.100.5' })]);
    expect(refusedAddresses()).toEqual(['203.0.113.7', '2001:db8::7', '198.51.100.3', '127.0.0.66', '127.0.0.2']);
  });

  it('closes a PROXY header from an untrusted peer, and a broken one from a trusted peer (counted in /metrics)', async () => {
    const { gw, logs } = await gateway();
    const untrusted = await exchange(gw.port, '127.0.0.2', [proxyV2('127.0.0.77'), upgradeRequest('/v1')]);
    expect(untrusted.text).not.toMatch(/101/);
    const relayUntrusted = await exchange(gw.transitPort!, '127.0.0.2', [proxyV1('127.0.0.77'), `please relay ${'a'.repeat(64)} for side ${'1'.repeat(16)}\n`]);
    // The relay's own handshake check refuses the line (as "impatient": bytes beyond a handshake) and closes.
    expect(relayUntrusted.text).toBe('impatient\n');
    const broken = await exchange(gw.port, '127.0.0.1', [Buffer.from([...SIG, 0x31, 0x11, 0, 0]), upgradeRequest('/v1')]);
    expect(broken.text).toBe('');
    expect(gw.stats().mailbox.connections).toBe(0);
    expect(logs.filter((l) => l.event === 'proxy.bad-header').map((l) => l.fields)).toEqual([{ listener: 'http', peer: '127.0.0.1', reason: 'v2 header: version 3' }]);
    expect(gw.metrics()).toContain('burrow_rejections_total{service="proxy",limit="proxy-header"} 1');
  });

  it('takes the client address from PROXY headers on the TCP relay: a pair meets, charged to its clients', async () => {
    const { gw } = await gateway();
    const token = randomBytes(32).toString('hex');
    const half = (header: Buffer, side: string) =>
      exchange(gw.transitPort!, '127.0.0.1', [header.subarray(0, 7), Buffer.concat([header.subarray(7), Buffer.from(`please relay ${token} for side ${side}\n`)])], /ok\n/);
    const [a, b] = await Promise.all([half(proxyV2('127.0.0.81'), 'a'.repeat(16)), half(proxyV1('127.0.0.82'), 'b'.repeat(16))]);
    expect([a.text, b.text]).toEqual(['ok\n', 'ok\n']);
    expect(gw.stats().relay).toMatchObject({ pairs: 1, addresses: 2 });
    a.socket.destroy();
    b.socket.destroy();
  });
});

describe('readProxyHeader', () => {
  it('gives up on a proxy that sends part of a header and stops', async () => {
    const server = createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect((server.address() as { port: number }).port, '127.0.0.1');
    client.write('PROXY TCP4 127.0.0.1');
    const read = await readProxyHeader(await accepted, '127.0.0.1', 100);
    expect(read).toEqual({ ok: false, reason: 'timeout' });
    client.destroy();
    server.close();
  });
});
