// A full disk under `--data-dir` (a 4 MiB tmpfs in the gateway's own mount
// namespace, filled up): the client whose add could not be saved gets an
// `error`, /health answers 503 with the store's failure, and once space is
// freed saving resumes and the same add is stored and echoed to newcomers.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, makeTempDir, removeDir, waitFor } from '@burrow/testkit';
import { ERR_STORE_FAILED } from '../src/index.js';
import { APPID, wsMailboxClient } from '../test/support/raw-mailbox.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const CHILD = fileURLToPath(new URL('./support/gateway-child.ts', import.meta.url));

describe('gateway --data-dir on a full disk', () => {
  let child: ChildProcess | undefined;
  const dir = makeTempDir('burrow-full-');
  afterAll(() => {
    child?.kill('SIGKILL');
    removeDir(dir);
  });

  it('refuses what it cannot save, says so in /health, and resumes when space is freed', async () => {
    assertPrivateNetwork();
    const node = [process.execPath, '--conditions=source', '--import', TSX, CHILD].map((a) => `'${a}'`).join(' ');
    child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o size=4m tmpfs '${dir}' && exec ${node}`], {
      env: { ...process.env, DATA_DIR: dir, PORT: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = child.pid!;
    const line = await new Promise<string>((resolve) => createInterface({ input: child!.stdout! }).once('line', resolve));
    const { port } = JSON.parse(line) as { port: number };
    const url = `ws://127.0.0.1:${port}/v1`;
    const inNs = (cmd: string): void => {
      execFileSync('nsenter', ['-t', String(pid), '-m', 'sh', '-c', cmd], { stdio: 'ignore' });
    };
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      return { status: res.status, body: (await res.json()) as { status: string; store: { ok: boolean; error?: string } } };
    };

    const a = await wsMailboxClient(url);
    a.send({ type: 'bind', appid: APPID, side: 'aaaa' });
    a.send({ type: 'claim', nameplate: '5' });
    const mailbox = (await a.next('claimed'))['mailbox'] as string;
    a.send({ type: 'open', mailbox });
    // Fill the disk (dd stops at ENOSPC).
    try {
      inNs(`dd if=/dev/zero of='${dir}/filler' bs=64k`);
    } catch {
      // dd exits non-zero when the disk is full: that is the point
    }
    const body = 'cd'.repeat(60_000);
    const from = a.frames.length;
    a.send({ type: 'add', phase: 'pake', body, id: 'big' });
    const error = await a.next('error', from).catch((err: Error) => ({ type: 'error', error: /answered (.*)$/.exec(err.message)?.[1] }));
    expect(JSON.stringify(error)).toContain(ERR_STORE_FAILED);
    expect(a.frames.slice(from).some((f) => f.type === 'message')).toBe(false);
    const failing = await health();
    expect(failing.status).toBe(503);
    expect(failing.body).toMatchObject({ status: 'store-failing', store: { ok: false, error: expect.stringMatching(/full/i) } });

    inNs(`rm -f '${dir}/filler'`);
    await waitFor(async () => (await health()).status === 200, { message: 'saving resumes', timeoutMs: 10_000 });
    expect((await health()).body.store).toMatchObject({ ok: true });
    // The refused add was kept and saved: a second side opening the mailbox hears it.
    const b = await wsMailboxClient(url);
    b.send({ type: 'bind', appid: APPID, side: 'bbbb' });
    b.send({ type: 'open', mailbox });
    expect(await b.next('message')).toMatchObject({ side: 'aaaa', phase: 'pake', id: 'big' });
    a.close();
    b.close();
  }, 60_000);
});
