// Native HTTP/3 WebTransport in headless Chromium: the gateway's mailbox core
// run by Deno (packages/gateway/src/deno/webtransport-server.ts, npm
// `deno`), a self-signed ECDSA P-256 certificate valid 10 days trusted
// through `serverCertificateHashes`, and Burrow's webTransportTransport on the
// browser's own WebTransport: two pages complete a wormhole text exchange,
// and the relay core glues two native sessions by token.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '@burrow/testkit';
import { repoPath, openPage, serveStatic, type StaticServer } from './support/static-server.js';
import { IIFE, closeSuite, prepareIifeSuite } from './support/iife.js';
import { pageToPageText, writeTestCertificate } from './support/webtransport.js';

const DENO = repoPath('packages', 'gateway', 'node_modules', '.bin', 'deno');
const SERVER = repoPath('packages', 'gateway', 'src', 'deno', 'webtransport-server.ts');
/** Maps the one workspace import the served modules need (@burrow/protocol/frames) to its source. */
const IMPORT_MAP = repoPath('packages', 'gateway', 'src', 'deno', 'import_map.json');

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>Burrow over native WebTransport</title>
<script src="/burrow.iife.js"></script>
<script>
  const transport = (hashHex) => Burrow.webTransportTransport({
    serverCertificateHashes: [{ algorithm: 'sha-256', value: Burrow.fromHex(hashHex) }],
  });
  window.send = async (mailbox, hash, text) => {
    const w = await Burrow.createWormhole({ mailbox, transport: transport(hash) });
    const code = await w.allocateCode();
    window.sent = w.sendText(text).then(async () => ({ verifier: Burrow.toHex(await w.verifier) })).finally(() => w.close());
    return code;
  };
  window.receive = async (mailbox, hash, code) => {
    const w = await Burrow.createWormhole({ mailbox, transport: transport(hash) });
    w.setCode(code);
    try {
      const text = await w.receiveText({ signal: AbortSignal.timeout(30000) });
      return { text, verifier: Burrow.toHex(await w.verifier) };
    } finally {
      await w.close();
    }
  };
  // Two raw relay sessions glued by token: A's bytes arrive at B (the relay protocol, no wormhole).
  window.relayBytes = async (relayUrl, hash, size) => {
    const options = { serverCertificateHashes: [{ algorithm: 'sha-256', value: Burrow.fromHex(hash) }] };
    const token = Burrow.toHex(crypto.getRandomValues(new Uint8Array(32)));
    const open = async (side) => {
      const wt = new WebTransport(relayUrl, options);
      await wt.ready;
      const stream = await wt.createBidirectionalStream();
      const writer = stream.writable.getWriter();
      const reader = stream.readable.getReader();
      await writer.write(new TextEncoder().encode('please relay ' + token + ' for side ' + side + '\\n'));
      return { wt, writer, reader };
    };
    const readExactly = async (reader, n) => {
      const out = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended after ' + got + ' of ' + n + ' bytes');
        out.set(value.subarray(0, n - got), got);
        got += Math.min(value.length, n - got);
      }
      return out;
    };
    const [a, b] = await Promise.all([open('aaaaaaaaaaaaaaaa'), open('bbbbbbbbbbbbbbbb')]);
    const okA = new TextDecoder().decode(await readExactly(a.reader, 3));
    const okB = new TextDecoder().decode(await readExactly(b.reader, 3));
    const data = new Uint8Array(size);
    for (let at = 0; at < size; at += 65536) crypto.getRandomValues(data.subarray(at, Math.min(size, at + 65536)));
    const sending = (async () => { for (let at = 0; at < size; at += 32768) await a.writer.write(data.subarray(at, at + 32768)); })();
    const received = await readExactly(b.reader, size);
    await sending;
    const hex = async (bytes) => Burrow.toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
    const result = { okA, okB, sent: await hex(data), received: await hex(received) };
    a.wt.close();
    b.wt.close();
    return result;
  };
  window.tryConnect = async (mailbox, hash) => {
    try { await Burrow.createWormhole({ mailbox, transport: transport(hash) }); return 'connected'; }
    catch (e) { return e.code; }
  };
</script>`;

type Win = {
  send(mailbox: string, hash: string, text: string): Promise<string>;
  sent: Promise<{ verifier: string }>;
  receive(mailbox: string, hash: string, code: string): Promise<{ text: string; verifier: string }>;
  tryConnect(mailbox: string, hash: string): Promise<string>;
  relayBytes(relayUrl: string, hash: string, size: number): Promise<{ okA: string; okB: string; sent: string; received: string }>;
};

interface DenoServer {
  readonly port: number;
  readonly lines: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Run the Deno WebTransport server; resolves once it reports its port. */
async function startDenoServer(certFile: string, keyFile: string, dir: string): Promise<DenoServer> {
  const child: ChildProcess = spawn(
    DENO,
    [
      'run', '--no-config', `--import-map=${IMPORT_MAP}`, '--no-npm', '--no-remote', '--sloppy-imports', '--unstable-net',
      '--allow-net=127.0.0.1', `--allow-read=${dir}`,
      SERVER, '--cert', certFile, '--key', keyFile, '--host', '127.0.0.1', '--port', '0',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '', DENO_DIR: join(dir, 'deno-cache'), NO_COLOR: '1' } },
  );
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`deno exited (${code}) before listening: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry['event'] === 'listening') resolve(entry['port'] as number);
      } catch {
        // not ours
      }
    });
  });
  return {
    port,
    lines,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('native HTTP/3 WebTransport mailbox in headless Chromium (Deno listener)', () => {
  let dir: string;
  let hash: string;
  let deno: DenoServer;
  let site: StaticServer;
  let browser: Browser;
  let mailbox: string;

  beforeAll(async () => {
    if (!existsSync(DENO)) throw new Error(`${DENO} is missing: run \`pnpm install\` (the npm package "deno" ships the binary)`);
    dir = prepareIifeSuite('burrow-wt-native-');
    // serverCertificateHashes: ECDSA, valid for less than 14 days.
    const { certFile, keyFile, sha256 } = writeTestCertificate(dir);
    hash = sha256;
    [deno, site, browser] = await Promise.all([
      startDenoServer(certFile, keyFile, dir),
      serveStatic({ '/burrow.iife.js': IIFE }, { '/': PAGE }),
      launchChromium(),
    ]);
    mailbox = `https://127.0.0.1:${deno.port}/v1`;
  });
  afterAll(async () => {
    await closeSuite(dir, browser, site, deno && { close: () => deno.stop() });
  });

  const open = () => openPage(browser, site.url);

  it('two pages complete a wormhole text exchange over Chromium native WebTransport', async () => {
    const a = await open();
    const b = await open();
    await pageToPageText(a.page, b.page, [mailbox, hash], 'over HTTP/3 🌍');
    for (const p of [a, b]) {
      expect(p.errors).toEqual([]);
      await p.page.close();
    }
    // Both sessions reached the Deno-run mailbox core over /v1.
    expect(deno.lines.filter((l) => l['event'] === 'session' && l['path'] === '/v1').length).toBeGreaterThanOrEqual(2);
  });

  it('the relay core glues two native WebTransport sessions by token and carries 2 MiB intact', async () => {
    const { page, errors } = await open();
    const size = 2 * 1024 * 1024;
    const r = await page.evaluate(([u, h, n]) => (window as unknown as Win).relayBytes(u, h, n), [`https://127.0.0.1:${deno.port}/relay`, hash, size] as const);
    expect(r.okA).toBe('ok\n');
    expect(r.okB).toBe('ok\n');
    expect(r.received).toBe(r.sent);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a wrong certificate hash is a Connection error in the page', async () => {
    const { page } = await open();
    const result = await page.evaluate(([m, h]) => (window as unknown as Win).tryConnect(m, h), [mailbox, '00'.repeat(32)] as const);
    expect(result).toBe('Connection');
    await page.close();
  });
});
