// Native HTTP/3 WebTransport on the gateway's own state (Deno terminates
// QUIC, each session is bridged back over a Unix socket): a client on
// HTTP/3 (Deno's WebTransport client; Chromium's is in e2e) and a client on
// WebSocket meet in one mailbox; admission counts HTTP/3 sessions by the
// client's address; the certificate is what browsers accept by hash; close
// stops the Deno child.
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@burrow/testkit';
import { startGateway, type Gateway } from '../src/index.js';
import { findDeno, listenHttp3 } from '../src/http3/listener.js';
import type { WebTransportSessionLike } from '../src/mailbox/webtransport.js';
import { selfSignedCertificate } from '../src/http3/certificate.js';
import { exchange, wsMailboxClient, type Frame, type RawMailboxClient } from './support/raw-mailbox.js';

const CLIENT = fileURLToPath(new URL('./support/deno-h3-client.ts', import.meta.url));

/** A raw mailbox client over native HTTP/3 WebTransport; resolves once the welcome is in (or the session closed). */
async function h3MailboxClient(url: string, hash: string): Promise<RawMailboxClient> {
  const child = spawn(findDeno(), ['run', '--no-config', '--no-prompt', '--unstable-net', '--allow-net', CLIENT, url, hash], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1' },
  });
  const frames: Frame[] = [];
  let closedWith: (code: number) => void = () => undefined;
  const closed = new Promise<number>((resolve) => (closedWith = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const frame = JSON.parse(line) as Frame;
    frames.push(frame);
    if (frame.type === 'closed') closedWith(Number(frame['closeCode'] ?? 0));
  });
  child.once('exit', () => closedWith(-1));
  const c: RawMailboxClient = {
    frames,
    send: (frame) => void child.stdin.write(JSON.stringify(frame) + '\n'),
    next: (type, from = 0) => waitFor(() => frames.slice(from).find((f) => f.type === type), { message: `a ${type} frame`, intervalMs: 5 }),
    closed,
    close: () => void child.stdin.end(),
  };
  await waitFor(() => frames.some((f) => f.type === 'welcome' || f.type === 'closed'), { message: 'welcome or close' });
  return c;
}

describe('self-signed certificate for serverCertificateHashes', () => {
  it('is X.509 v3, ECDSA P-256, valid under 14 days, for the names given', () => {
    const c = selfSignedCertificate({ names: ['127.0.0.1', 'localhost', '::1'], validForMs: 30 * 24 * 3600 * 1000 });
    const x = new X509Certificate(c.cert);
    expect(x.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(x.verify(x.publicKey)).toBe(true);
    expect(Date.parse(x.validTo) - Date.parse(x.validFrom)).toBeLessThan(14 * 24 * 3600 * 1000);
    expect(x.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost, IP Address:0:0:0:0:0:0:0:1');
    expect(x.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(c.sha256);
  });
});

describe('gateway mailbox over native HTTP/3 WebTransport', () => {
  let gw: Gateway;
  let hash: string;

  beforeAll(async () => {
    gw = await startGateway({ port: 0, transitPort: 0, http3: { port: 0 }, mailboxLimits: { maxConnectionsPerAddress: 4 } });
    hash = gw.http3CertificateHash!.value;
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('reports its HTTP/3 listener in /health and /metrics', async () => {
    const base = gw.url.replace(/^ws/, 'http').replace(/\/v1$/, '');
    const health = (await (await fetch(`${base}/health`)).json()) as { http3: { listening: boolean; restarts: number; notAfter: string } };
    expect(health.http3).toMatchObject({ listening: true, restarts: 0 });
    const expiry = Math.floor(Date.parse(health.http3.notAfter) / 1000);
    expect(expiry).toBeGreaterThan(Date.now() / 1000);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^burrow_http3_listening 1$/m);
    expect(text).toMatch(/^burrow_http3_restarts_total 0$/m);
    expect(text).toContain(`\nburrow_http3_certificate_expiry_seconds ${expiry}\n`);
  });

  it('publishes where it is and the certificate hash at GET /webtransport', async () => {
    const res = await fetch(gw.url.replace(/^ws/, 'http').replace(/\/v1$/, '/webtransport'));
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toMatchObject({ mailbox: `${gw.http3Url}/v1`, relay: `${gw.http3Url}/relay`, serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }] });
  });

  it('an HTTP/3 client and a WebSocket client meet in the same mailbox', async () => {
    const a = await h3MailboxClient(`${gw.http3Url}/v1`, hash);
    const welcome = a.frames.find((f) => f.type === 'welcome')!;
    // The welcome lists the relay's HTTP/3 side too.
    expect(JSON.stringify(welcome)).toContain(`"webtransport":["${gw.http3Url}/relay"]`);
    const b = await wsMailboxClient(gw.url);
    expect(await exchange(a, b, '3ee7')).toBe('3ee7');
    const [c, d] = await Promise.all([wsMailboxClient(gw.url), h3MailboxClient(`${gw.http3Url}/v1`, hash)]);
    expect(await exchange(c, d, '7ee3')).toBe('7ee3');
    for (const x of [a, b, c, d]) x.close();
    await waitFor(() => gw.stats().mailbox.connections === 0, { message: 'both clients to leave' });
  });

  it('counts HTTP/3 sessions by the client address: one over the per-address cap is closed with 503', async () => {
    const held = await Promise.all([1, 2, 3, 4].map(() => h3MailboxClient(`${gw.http3Url}/v1`, hash)));
    expect(held.every((c) => c.frames.some((f) => f.type === 'welcome'))).toBe(true);
    const refused = await h3MailboxClient(`${gw.http3Url}/v1`, hash);
    expect(await refused.closed).toBe(503);
    for (const c of held) c.close();
    await waitFor(() => gw.stats().mailbox.connections === 0, { message: 'the clients to leave' });
  });

  it('closes a session at an unknown path with 404', async () => {
    const c = await h3MailboxClient(`${gw.http3Url}/nope`, hash);
    expect(await c.closed).toBe(404);
  });
});

describe('HTTP/3 listener supervision', () => {
  const closedWith = (code: number) => async (_path: string, session: WebTransportSessionLike) => session.close({ closeCode: code, reason: 'test' });

  it('restarts a Deno child that died, on the same port and certificate', async () => {
    const h3 = await listenHttp3({ host: '127.0.0.1', port: 0, onSession: closedWith(4001) });
    try {
      const { port, pid } = h3;
      const hash = h3.certificateHash.value;
      expect([h3.listening, h3.restarts]).toEqual([true, 0]);
      process.kill(pid!, 'SIGKILL');
      await waitFor(() => h3.pid !== undefined && h3.pid !== pid, { message: 'a new Deno child', timeoutMs: 15_000 });
      await waitFor(() => h3.listening, { message: 'the new child to listen' });
      expect(h3.restarts).toBe(1);
      expect(h3.port).toBe(port);
      expect(h3.certificateHash.value).toBe(hash);
      const c = await h3MailboxClient(`https://127.0.0.1:${port}/v1`, hash);
      expect(await c.closed).toBe(4001);
    } finally {
      await h3.close();
    }
  });

  it('replaces the self-signed certificate before it expires, on the same port', async () => {
    const h3 = await listenHttp3({ host: '127.0.0.1', port: 0, validForMs: 4000, onSession: closedWith(4002) });
    try {
      const first = h3.certificateHash.value;
      await waitFor(() => h3.certificateHash.value !== first, { message: 'a new certificate', timeoutMs: 15_000 });
      await waitFor(() => h3.pid !== undefined, { message: 'Deno to listen again' });
      const c = await h3MailboxClient(`https://127.0.0.1:${h3.port}/v1`, h3.certificateHash.value);
      expect(await c.closed).toBe(4002);
    } finally {
      await h3.close();
    }
  });
});
