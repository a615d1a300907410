// Two `burrow serve --store redis://…` processes on different ports share
// their mailboxes through one Debian redis-server: the Debian `wormhole` CLI
// sends a text and a file through one, another CLI receives through the
// other. A third process killed with SIGKILL is declared gone by the others
// (heartbeat), so its listeners stop keeping mailboxes alive.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir, runWormhole, sha256File, startRedis, waitFor, type RedisServer } from '@burrow/testkit';
import { sendBody, wsMailboxClient } from '../test/support/raw-mailbox.js';
import { serve, type Served } from './support/serve.js';

interface MailboxHealth {
  mailbox: { nameplates: number; mailboxes: number; listeners: number; connections: number };
  store: { ok: boolean };
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
