// Proves the test rig with real peers only: Debian's mailbox server and
// transit relay, two `wormhole` CLIs, and headless Chromium, all on loopback
// inside a private network namespace.
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertPrivateNetwork,
  cleanup,
  freePort,
  launchChromium,
  makeTempDir,
  probeMailbox,
  removeDir,
  runWormhole,
  sha256File,
  startDebianPeers,
  type MailboxServer,
  type TransitRelay,
} from '../src/index.js';

describe('test rig', () => {
  let mailbox: MailboxServer;
  let relay: TransitRelay;
  const dirs: string[] = [];

  beforeAll(async () => {
    ({ mailbox, relay } = await startDebianPeers());
  });

  afterAll(async () => {
    await cleanup();
    for (const dir of dirs) removeDir(dir);
  });

  const tempDir = (): string => {
    const dir = makeTempDir('burrow-rig-');
    dirs.push(dir);
    return dir;
  };

  /** `wormhole send --text` → `wormhole receive CODE`; returns what the receiver printed. */
  async function cliText(text: string): Promise<string> {
    const sender = runWormhole(['send', '--text', text], { relayUrl: mailbox.url, stdin: '' });
    const code = await sender.code;
    expect(code).toMatch(/^\d+-\w+-\w+$/);
    const receiver = runWormhole(['receive', code], { relayUrl: mailbox.url, stdin: '' });
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(received.exitCode, received.stderr).toBe(0);
    expect(sent.stderr).toContain('text message sent');
    return received.stdout;
  }

  it('runs in a private network namespace with only loopback', () => {
    expect(() => assertPrivateNetwork()).not.toThrow();
    expect(process.env['BURROW_NETNS']).toBe('1');
  });

  it('starts the Debian mailbox server on loopback', async () => {
    expect(mailbox.url).toBe(`ws://127.0.0.1:${mailbox.port}/v1`);
    expect(await probeMailbox(mailbox.url)).toEqual({});
  });

  it('refuses to point the CLI at anything but loopback', () => {
    expect(() => runWormhole(['send', '--text', 'x'], { relayUrl: 'ws://relay.magic-wormhole.io:4000/v1' })).toThrow(
      /loopback/,
    );
    expect(() =>
      runWormhole(['send', '--text', 'x'], { relayUrl: mailbox.url, transitHelper: 'tcp:transit.magic-wormhole.io:4001' }),
    ).toThrow(/loopback/);
  });

  it('CLI → CLI text through the mailbox', async () => {
    const text = `hello from the rig ${randomBytes(4).toString('hex')}`;
    expect(await cliText(text)).toBe(`${text}\n`);
  });

  it('CLI → CLI file through the Debian transit relay', async () => {
    const src = tempDir();
    const dst = tempDir();
    const payload = join(src, 'payload.bin');
    writeFileSync(payload, randomBytes(300_000));

    // --no-listen on both sides: no direct hints, so the relay is the only path.
    const transit = { relayUrl: mailbox.url, transitHelper: relay.hint };
    const sender = runWormhole(['send', '--hide-progress', '--no-listen', 'payload.bin'], {
      ...transit,
      cwd: src,
      stdin: '',
    });
    const code = await sender.code;
    const receiver = runWormhole(['receive', '--accept-file', '--hide-progress', '--no-listen', code], {
      ...transit,
      cwd: dst,
      stdin: '',
    });
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(received.exitCode, received.stderr).toBe(0);
    expect(received.stderr).toContain(`->relay:${relay.hint}`);
    expect(sent.stderr).toContain('Transfer complete');
    expect(readdirSync(dst)).toEqual(['payload.bin']);
    expect(await sha256File(join(dst, 'payload.bin'))).toBe(await sha256File(payload));
  });

  it('keeps working after a mailbox restart (same port, same database)', async () => {
    const before = mailbox.pid;
    await mailbox.restart();
    expect(mailbox.pid).not.toBe(before);
    expect(await probeMailbox(mailbox.url)).toEqual({});
    expect(await cliText('after restart')).toBe('after restart\n');
  });

  it('a CLI sender survives a mailbox restart while it waits', async () => {
    const sender = runWormhole(['send', '--text', 'across a restart'], { relayUrl: mailbox.url, stdin: '' });
    const code = await sender.code;
    // The nameplate and mailbox live in the sqlite db, which restart() keeps;
    // the CLI reconnects on its own.
    await mailbox.restart();
    const receiver = runWormhole(['receive', code], { relayUrl: mailbox.url, stdin: '' });
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(received.exitCode, received.stderr).toBe(0);
    expect(received.stdout).toBe('across a restart\n');
  });

  it('Chromium reaches the mailbox and opens a loopback WebRTC data channel', async () => {
    // A real http://127.0.0.1 origin: the Debian server (autobahn) refuses
    // `Origin: null`, which is what about:blank, file: and data: pages send.
    const port = await freePort();
    const http = createServer((_, res) => res.end('<!doctype html><title>rig</title>'));
    await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      expect(await page.evaluate(() => isSecureContext)).toBe(true);
      const welcome = await page.evaluate(
        (url) =>
          new Promise<string>((resolve, reject) => {
            const ws = new WebSocket(url);
            ws.onmessage = (e) => {
              ws.close();
              resolve(String(e.data));
            };
            ws.onerror = () => reject(new Error('websocket error'));
          }),
        mailbox.url,
      );
      expect(JSON.parse(welcome)).toMatchObject({ type: 'welcome' });

      const echoed = await page.evaluate(async () => {
        const a = new RTCPeerConnection();
        const b = new RTCPeerConnection();
        const seen: string[] = [];
        a.onicecandidate = (e) => {
          if (e.candidate) {
            seen.push(e.candidate.candidate);
            void b.addIceCandidate(e.candidate);
          }
        };
        b.onicecandidate = (e) => {
          if (e.candidate) void a.addIceCandidate(e.candidate);
        };
        const got = new Promise<string>((resolve) => {
          b.ondatachannel = (e) => {
            e.channel.onmessage = (m) => resolve(String(m.data));
          };
        });
        const channel = a.createDataChannel('rig');
        channel.onopen = () => channel.send('ping over loopback');
        await a.setLocalDescription();
        await b.setRemoteDescription(a.localDescription!);
        await b.setLocalDescription();
        await a.setRemoteDescription(b.localDescription!);
        const message = await Promise.race([
          got,
          new Promise<string>((_, reject) => setTimeout(() => reject(new Error(`no message; candidates: ${seen.join(' | ')}`)), 15_000)),
        ]);
        a.close();
        b.close();
        return { message, candidates: seen };
      });
      expect(echoed.message).toBe('ping over loopback');
      expect(echoed.candidates.some((c) => / 127\.0\.0\.1 /.test(c))).toBe(true);
    } finally {
      await browser.close();
      http.close();
    }
  });
});
