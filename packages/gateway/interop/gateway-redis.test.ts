// Two `burrow serve --store redis://…` processes on different ports share
// their mailboxes through one Debian redis-server: the Debian `wormhole` CLI
// sends a text and a file through one, another CLI receives through the
// other. A third process killed with SIGKILL is declared gone by the others
// (heartbeat), so its listeners stop keeping mailboxes alive. Relay only
// (`--no-listen`), each CLI able to reach only its own process's relay:
// the halves meet across processes, and a file arrives.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir, runWormhole, sha256File, startRedis, waitFor, type RedisServer } from '@burrow/testkit';
import { sendBody, wsMailboxClient } from '../test/support/raw-mailbox.js';
import { serve, type Served } from './support/serve.js';

interface MailboxHealth {
  mailbox: { nameplates: number; mailboxes: number; listeners: number; connections: number };
  store: { ok: boolean };
}

/**
 * A `wormhole` that can reach only one of two relays: it runs in its own
 * mount namespace whose /etc/hosts sends `own` to 127.0.0.1 and `other` to
 * 127.0.0.2, where nothing listens (the gateways bind 127.0.0.1). Its
 * `--transit-helper` names `own`, so the relay hint its peer gets names a
 * host the peer cannot reach.
 */
function reachingOnly(dir: string, own: string, other: string, transitHint: string): string {
  const hosts = join(dir, `hosts-${own}`);
  writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.1 ${own}\n127.0.0.2 ${other}\n`);
  const port = transitHint.split(':').pop()!;
  const bin = join(dir, `wormhole-${own}`);
  writeFileSync(
    bin,
    `#!/bin/sh\nexec unshare --mount --propagation private sh -c 'mount --bind "$0" /etc/hosts && exec /usr/bin/wormhole --transit-helper tcp:${own}:${port} "$@"' '${hosts}' "$@"\n`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

/** `runWormhole` with another binary (BURROW_WORMHOLE_BIN is read when the CLI is spawned). */
function runAs(bin: string, ...args: Parameters<typeof runWormhole>): ReturnType<typeof runWormhole> {
  const before = process.env['BURROW_WORMHOLE_BIN'];
  process.env['BURROW_WORMHOLE_BIN'] = bin;
  try {
    return runWormhole(...args);
  } finally {
    if (before === undefined) delete process.env['BURROW_WORMHOLE_BIN'];
    else process.env['BURROW_WORMHOLE_BIN'] = before;
  }
}

async function relayStats(s: Served): Promise<{ forwardedOut: number; forwardedIn: number }> {
  const res = await fetch(`http://127.0.0.1:${s.port}/health`);
  return ((await res.json()) as { relay: { forwardedOut: number; forwardedIn: number } }).relay;
}

async function health(s: Served): Promise<MailboxHealth> {
  const res = await fetch(`http://127.0.0.1:${s.port}/health`);
  return (await res.json()) as MailboxHealth;
}

describe('burrow serve --store redis:// — two processes, one set of mailboxes', () => {
  let redis: RedisServer;
  let one: Served;
  let two: Served;
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const started = async (): Promise<Served> => {
    const s = await serve(['--store', redis.url]);
    children.push(s.child);
    return s;
  };

  beforeAll(async () => {
    assertPrivateNetwork();
    redis = await startRedis();
    [one, two] = await Promise.all([started(), started()]);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await cleanup();
    for (const dir of dirs) removeDir(dir);
  });

  it('a CLI sends a text through one process, another CLI receives it through the other', async () => {
    const text = `across processes ${randomBytes(4).toString('hex')}`;
    const sender = runWormhole(['send', '--text', text], { relayUrl: one.url, transitHelper: one.transitHint, stdin: '' });
    const code = await sender.code;
    const receiver = runWormhole(['receive', code], { relayUrl: two.url, transitHelper: two.transitHint, stdin: '' });
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(received.exitCode, received.stderr).toBe(0);
    expect(received.stdout).toBe(`${text}\n`);
  });

  it('a CLI sends a file through one process, another CLI receives it through the other (direct transit)', async () => {
    const src = makeTempDir('burrow-redis-src-');
    const dst = makeTempDir('burrow-redis-dst-');
    dirs.push(src, dst);
    writeFileSync(join(src, 'payload.bin'), randomBytes(2_000_000));
    const sender = runWormhole(['send', '--hide-progress', 'payload.bin'], { relayUrl: one.url, transitHelper: one.transitHint, stdin: '', cwd: src });
    const code = await sender.code;
    const receiver = runWormhole(['receive', '--accept-file', '--hide-progress', code], { relayUrl: two.url, transitHelper: two.transitHint, stdin: '', cwd: dst });
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(received.exitCode, received.stderr).toBe(0);
    expect(readdirSync(dst)).toEqual(['payload.bin']);
    expect(await sha256File(join(dst, 'payload.bin'))).toBe(await sha256File(join(src, 'payload.bin')));
    // The two relay halves would reach different processes, which do not pair them: the peers met directly.
    expect(sent.stderr).not.toContain('->relay:');
  });

  it('relay only, each CLI reaching only its own process: the halves meet across processes and the file arrives', async () => {
    const src = makeTempDir('burrow-redis-src-');
    const dst = makeTempDir('burrow-redis-dst-');
    const bins = makeTempDir('burrow-redis-bin-');
    dirs.push(src, dst, bins);
    writeFileSync(join(src, 'relayed.bin'), randomBytes(3_000_000));
    const senderBin = reachingOnly(bins, 'relay-one', 'relay-two', one.transitHint);
    const receiverBin = reachingOnly(bins, 'relay-two', 'relay-one', two.transitHint);
    const before = await Promise.all([one, two].map(relayStats));
    const sender = runAs(senderBin, ['send', '--no-listen', '--hide-progress', 'relayed.bin'], { relayUrl: one.url, stdin: '', cwd: src });
    const code = await sender.code;
    const receiver = runAs(receiverBin, ['receive', '--no-listen', '--accept-file', '--hide-progress', code], { relayUrl: two.url, stdin: '', cwd: dst });
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(received.exitCode, received.stderr).toBe(0);
    expect(await sha256File(join(dst, 'relayed.bin'))).toBe(await sha256File(join(src, 'relayed.bin')));
    // Each through its own process's relay: one process sent its half on to the other.
    expect(sent.stderr).toContain('->relay:tcp:relay-one:');
    expect(received.stderr).toContain('->relay:tcp:relay-two:');
    const after = await Promise.all([one, two].map(relayStats));
    const forwarded = after.map((a, i) => a.forwardedOut - before[i]!.forwardedOut);
    expect(forwarded[0]! + forwarded[1]!).toBeGreaterThanOrEqual(1);
  });

  it('both processes end with the same, empty state', async () => {
    for (const s of [one, two]) {
      await waitFor(async () => {
        const h = await health(s);
        return h.mailbox.nameplates === 0 && h.mailbox.mailboxes === 0 && h.mailbox.connections === 0;
      }, { message: 'state emptied on both processes' });
    }
    expect((await health(one)).store.ok).toBe(true);
  });

  it('a process killed with SIGKILL is declared gone: its listener no longer counts, its mailbox stays', async () => {
    const three = await started();
    const a = await wsMailboxClient(three.url);
    await sendBody(a, 'aa01');
    await waitFor(async () => (await health(one)).mailbox.listeners === 1, { message: 'the listener on process three, seen by one' });
    three.child.kill('SIGKILL');
    await three.exited;
    // Heartbeat: 2 s period, gone after 6 s without one.
    await waitFor(async () => (await health(one)).mailbox.listeners === 0, { message: 'process three declared gone', timeoutMs: 20_000, intervalMs: 250 });
    expect((await health(two)).mailbox).toMatchObject({ listeners: 0, nameplates: 1, mailboxes: 1 });
    a.close();
  }, 30_000);
});
