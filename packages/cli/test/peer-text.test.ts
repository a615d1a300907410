// Peer-supplied text reaches the terminal only through safeText: pairing
// names and origins in `burrow agent list` (even from records stored before
// names were cleaned), and a text received by `burrow receive`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createWormhole, sendText, type WebSocketConstructor } from '@burrow/client';
import { startGateway, type Gateway } from '@burrow/gateway';
import { fileStore } from '@burrow/store/file';
import { main } from '../src/main.js';

const HOSTILE = 'Evil\x1b]0;owned\x07\x1b[2J name\u202etxt.exe\u2066';

function sink(): PassThrough & { text(): string } {
  const out = new PassThrough();
  let text = '';
  out.setEncoding('utf8').on('data', (d: string) => (text += d));
  return Object.assign(out, { text: () => text });
}

async function run(argv: string[]): Promise<{ code: number; stdout: string }> {
  const stdout = sink();
  const code = await main(argv, { stdout, stderr: sink(), stdin: new PassThrough() });
  return { code, stdout: stdout.text() };
}

const dangerous = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('peer text on the terminal', () => {
  let dir: string;
  let gateway: Gateway;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'burrow-peer-text-'));
    gateway = await startGateway({ port: 0, transitPort: null });
  });
  afterAll(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('burrow agent list shows names and origins without controls, escapes or bidi characters', async () => {
    // A record as an older agent stored it: the peer's name and origin raw.
    await fileStore(dir).set(`pairing/${'ab'.repeat(16)}`, { id: 'ab'.repeat(16), name: HOSTILE, peerRole: 'client', createdAt: 1, origin: `chrome-extension://x\x1b[31m\u202e`, secret: '11'.repeat(32) });
    const plain = await run(['agent', 'list', '--data-dir', dir]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('Evil name');
    expect(plain.stdout.replace(/\n$/, '')).not.toMatch(dangerous);
    const json = await run(['agent', 'list', '--json', '--data-dir', dir]);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ name: 'Evil nametxt.exe', origin: 'chrome-extension://x' })]);
  });

  it('burrow receive prints a received text without escapes or bidi characters, keeping its lines', async () => {
    const w = await createWormhole({ mailbox: gateway.url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const code = await w.allocateCode();
    const sent = sendText(w, `line one\n${HOSTILE}\tend`);
    const received = await run(['receive', '--relay-url', gateway.url, code]);
    await sent;
    await w.close();
    expect(received.code).toBe(0);
    expect(received.stdout).toBe('line one\nEvil nametxt.exe\tend\n');
  });
});
