// `burrow serve` as an operator runs it, with the Debian `wormhole` CLI: the
// Python server's operator flags (--advertise-version, --signal-error,
// --disallow-list) behave as in Python, usage records land in --usage-log,
// and SIGTERM during 50 live wormholes drains them: new connections are
// refused, every message a client saw acknowledged reaches its peer, and the
// process exits within the drain bound.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir, runWormhole, waitFor } from '@burrow/testkit';
import { APPID, wsMailboxClient, type RawMailboxClient } from '../test/support/raw-mailbox.js';
import { serve, type Served } from './support/serve.js';

describe('burrow serve: operator flags and graceful shutdown, with the Debian CLI', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const started = async (args: string[]): Promise<Served> => {
    const s = await serve(args);
    children.push(s.child);
    return s;
  };

  beforeAll(() => assertPrivateNetwork());
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await cleanup();
    for (const dir of dirs) removeDir(dir);
  });

  it('--signal-error: both CLIs fail with the operator\'s message', async () => {
    const gw = await started(['--signal-error', 'closed for maintenance, see example.org']);
    const sender = runWormhole(['send', '--text', 'nope'], { relayUrl: gw.url, stdin: '' });
    const receiver = runWormhole(['receive', '1-purple-sausages'], { relayUrl: gw.url, stdin: '' });
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    for (const r of [sent, received]) {
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain('closed for maintenance, see example.org');
    }
    gw.child.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
  });

  it('--advertise-version, --disallow-list, --usage-log; SIGTERM drains 50 live wormholes', async () => {
    const dir = makeTempDir('burrow-serve-op-');
    dirs.push(dir);
    const usageLog = join(dir, 'usage.jsonl');
    const gw = await started(['--advertise-version', '99.1.0', '--disallow-list', '--usage-log', usageLog, '--drain-seconds', '20']);

    // A CLI sees the advertised version (Python's welcome.py hint) and completes.
    const sender = runWormhole(['send', '--text', 'hello operator'], { relayUrl: gw.url, stdin: '' });
    const code = await sender.code;
    // `list` answers no nameplates although one is in use (Python's --disallow-list).
    const lister = await wsMailboxClient(gw.url);
    lister.send({ type: 'bind', appid: APPID, side: 'lister01' });
    lister.send({ type: 'list' });
    expect(await lister.next('nameplates')).toMatchObject({ nameplates: [] });
    lister.close();
    const received = await runWormhole(['receive', code], { relayUrl: gw.url, stdin: '' }).result;
    expect(received.stdout).toBe('hello operator\n');
    const sent = await sender.result;
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(sent.stderr).toContain('Server claims 99.1.0 is current');

    // 50 wormholes, each mid-exchange: both sides bound, the mailbox open, the first message in.
    const pairs = await Promise.all(Array.from({ length: 50 }, (_, i) => openPair(gw.url, i)));
    gw.child.kill('SIGTERM');
    await waitFor(() => gw.stderr().includes('gateway.draining'), { message: 'the drain to start' });
    // New connections are refused while draining…
    const refused = new WebSocket(gw.url);
    refused.on('error', () => {
      /* the refusal ends in unexpected-response or a reset */
    });
    const outcome = await new Promise<string>((res) => {
      refused.once('unexpected-response', (_req, r) => res(`HTTP ${r.statusCode}`));
      refused.once('open', () => res('open'));
      refused.once('error', () => res('error'));
    });
    expect(outcome).not.toBe('open');
    // …while the open wormholes finish: every acknowledged message reaches the peer.
    await Promise.all(pairs.map((p) => p.finish()));
    expect(await gw.exited).toBe(0);
    expect(gw.stderr()).toMatch(/gateway\.drained.*"mailboxConnections":0/);

    const records = readFileSync(usageLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((r) => r['kind'] === 'mailbox' && r['mood'] === 'happy').length).toBeGreaterThanOrEqual(51);
    expect(readFileSync(usageLog, 'utf8')).not.toContain(code.split('-')[1]!);
  });
});

/** Two raw sides with an open mailbox and one message each way; `finish` adds more after SIGTERM and closes. */
async function openPair(url: string, i: number): Promise<{ finish(): Promise<void> }> {
  const a = await wsMailboxClient(url, { localAddress: `127.10.${i}.2` });
  const b = await wsMailboxClient(url, { localAddress: `127.10.${i}.3` });
  a.send({ type: 'bind', appid: APPID, side: `a${i}side` });
  b.send({ type: 'bind', appid: APPID, side: `b${i}side` });
  a.send({ type: 'allocate' });
  const { nameplate } = await a.next('allocated');
  a.send({ type: 'claim', nameplate });
  const { mailbox } = await a.next('claimed');
  b.send({ type: 'claim', nameplate });
  await b.next('claimed');
  for (const s of [a, b]) s.send({ type: 'open', mailbox });
  await exchange(a, b, 'pake', i);
  return {
    async finish() {
      for (const phase of ['version', '0', '1']) await exchange(a, b, phase, i);
      for (const s of [a, b]) s.send({ type: 'release', nameplate });
      for (const s of [a, b]) s.send({ type: 'close', mailbox, mood: 'happy' });
      await Promise.all([a.next('closed'), b.next('closed')]);
      a.close();
      b.close();
      await Promise.all([a.closed, b.closed]);
    },
  };
}

/** Each side adds `phase` and waits for its ack; then each must see the other's message. */
async function exchange(a: RawMailboxClient, b: RawMailboxClient, phase: string, i: number): Promise<void> {
  for (const [s, side] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    const from = s.frames.length;
    s.send({ type: 'add', phase, body: `${side}${i}${phase}`.padEnd(16, '0'), id: `${side}${phase}` });
    await waitFor(() => s.frames.slice(from).find((f) => f.type === 'ack' && f['id'] === `${side}${phase}`), { message: 'ack' });
  }
  for (const [s, other] of [
    [a, 'b'],
    [b, 'a'],
  ] as const) {
    await waitFor(() => s.frames.find((f) => f.type === 'message' && f['phase'] === phase && f['side'] === `${other}${i}side`), { message: `message ${phase}` });
  }
}
