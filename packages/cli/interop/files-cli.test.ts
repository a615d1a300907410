// `burrow send PATH…` → `burrow receive` with files-v1 (issue 12): several
// files and a folder in one offer over WebRTC (node-datachannel), the
// default direct-TCP head start (direct-v1) and its give-up, a receiver
// killed at ~50 % that resumes with a new code, a corrupted partial that
// restarts, and the Transit v1 fallback to the Debian `wormhole` CLI.
import { closeSync, copyFileSync, mkdirSync, openSync, readdirSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, listNames, makeTempDir, randomFile, removeDir, runWormhole, sha256File, startDebianPeers, type MailboxServer, type TransitRelay } from '@burrow/testkit';
import { killBurrows, runBurrow } from './burrow-process.js';

type Done = { event: 'done'; via: string; bytes: number; moved: number; files: { path: string; bytes: number; sha256: string; resumedFrom: number }[] };
/** Children log how connect() went (BURROW_DEBUG=1), so a fallback can be told apart. */
const DEBUG = { ...process.env, BURROW_DEBUG: '1' };
const ICE_RACE = 'Got a remote candidate without ICE transport';
const lastDone = (events: Record<string, unknown>[]) => events.filter((e) => e['event'] === 'done').at(-1) as Done | undefined;

describe('burrow send PATH… → burrow receive (files-v1)', () => {
  let mailbox: MailboxServer;
  let relay: TransitRelay;
  let dir: string;
  let flags: string[];
  const BIG = 200 * 1024 * 1024 + 13;

  beforeAll(async () => {
    ({ mailbox, relay } = await startDebianPeers());
    dir = makeTempDir('burrow-files-cli-');
    flags = ['--relay-url', mailbox.url, '--transit-helper', relay.hint];
    randomFile(join(dir, 'f1.bin'), 3 * 1024 * 1024 + 5);
    randomFile(join(dir, 'f2.bin'), 12_345);
    // A small folder of names files-v1 accepts everywhere (it refuses Windows-reserved characters such as '"').
    mkdirSync(join(dir, 'tree/sub'), { recursive: true });
    mkdirSync(join(dir, 'tree/empty'));
    writeFileSync(join(dir, 'tree/a.txt'), 'hello\n'.repeat(1000));
    randomFile(join(dir, 'tree/sub/b.bin'), 300_000);
    randomFile(join(dir, 'big.bin'), BIG);
  }, 60_000);

  afterAll(async () => {
    killBurrows();
    await cleanup();
    removeDir(dir);
  });

  it('two files and a folder in one offer, over WebRTC (--no-direct-first), checksums equal', async () => {
    const attempt = async (out: string) => {
      const s = runBurrow([...flags, 'send', '--no-direct-first', '--json', 'f1.bin', 'f2.bin', 'tree/'], dir, undefined, DEBUG);
      const r = runBurrow([...flags, 'receive', '--no-direct-first', '--json', '--accept-file', await s.code], out, undefined, DEBUG);
      const [sr, rr] = await Promise.all([s.done, r.done]);
      expect(sr.exitCode, sr.stderr).toBe(0);
      expect(rr.exitCode, rr.stderr).toBe(0);
      return { s, r, rr };
    };
    let out = makeTempDir('burrow-files-out-');
    try {
      let { s, r, rr } = await attempt(out);
      if (lastDone(r.events())?.via !== 'webrtc' && rr.stderr.includes(ICE_RACE)) {
        // Known libdatachannel race (issue 12's note): the leader drops the follower's candidate
        // ("…without ICE transport"), ICE stays in checking and connect() falls back after 10 s.
        // Retried once, and only for that; any other fallback fails the test.
        console.warn(`files-cli: WebRTC fell back because of "${ICE_RACE}"; retrying once`);
        removeDir(out);
        out = makeTempDir('burrow-files-out-');
        ({ s, r, rr } = await attempt(out));
      }
      const done = lastDone(r.events())!;
      expect(done.via, rr.stderr).toBe('webrtc');
      expect(lastDone(s.events())!.via).toBe('webrtc');
      expect(rr.stderr).toMatch(/Receiving \d+ files .* via webrtc/);
      expect(done.files.map((f) => f.path)).toEqual(expect.arrayContaining(['f1.bin', 'f2.bin', 'tree/a.txt', 'tree/sub/b.bin']));
      for (const f of done.files) {
        expect(f.resumedFrom).toBe(0);
        expect(await sha256File(join(out, f.path)), f.path).toBe(await sha256File(join(dir, f.path)));
        expect(f.sha256).toBe(await sha256File(join(dir, f.path)));
      }
      expect(done.files).toHaveLength(countFiles(join(dir, 'tree')) + 2);
      // Empty folders arrive too; nothing but the offer is left behind.
      expect(listNames(out).sort()).toEqual(['f1.bin', 'f2.bin', 'tree']);
      expect(treeNames(join(out, 'tree'))).toEqual(treeNames(join(dir, 'tree')));
    } finally {
      removeDir(out);
    }
  }, 60_000);

  it('by default two CLIs on one machine connect over direct TCP first (direct-v1); with nobody listening the leader gives up at once and WebRTC carries it', async () => {
    const out = makeTempDir('burrow-files-out-');
    try {
      const s = runBurrow([...flags, 'send', '--json', 'f1.bin'], dir, undefined, DEBUG);
      const r = runBurrow([...flags, 'receive', '--json', '--accept-file', await s.code], out, undefined, DEBUG);
      const [sr, rr] = await Promise.all([s.done, r.done]);
      expect(sr.exitCode, sr.stderr).toBe(0);
      expect(rr.exitCode, rr.stderr).toBe(0);
      expect(lastDone(r.events())!.via, rr.stderr).toBe('direct');
      expect(lastDone(s.events())!.via, sr.stderr).toBe('direct');
      expect(await sha256File(join(out, 'f1.bin'))).toBe(await sha256File(join(dir, 'f1.bin')));
      // Neither side tried WebRTC.
      expect(sr.stderr + rr.stderr).not.toMatch(/webrtc/i);
      removeDir(out);

      const out2 = makeTempDir('burrow-files-out-');
      try {
        const s2 = runBurrow([...flags, 'send', '--no-listen', '--json', 'f2.bin'], dir, undefined, DEBUG);
        const r2 = runBurrow([...flags, 'receive', '--no-listen', '--json', '--accept-file', await s2.code], out2, undefined, DEBUG);
        const [sr2, rr2] = await Promise.all([s2.done, r2.done]);
        expect(sr2.exitCode, sr2.stderr).toBe(0);
        expect(rr2.exitCode, rr2.stderr).toBe(0);
        const via = lastDone(r2.events())!.via;
        // WebRTC, or (libdatachannel's ICE race, see the first test) the relay: never direct.
        expect(via === 'webrtc' || (via === 'relay' && rr2.stderr.includes(ICE_RACE)), `${via}\n${rr2.stderr}`).toBe(true);
        for (const err of [sr2.stderr, rr2.stderr]) expect(err).toContain('direct TCP not reached');
        expect(await sha256File(join(out2, 'f2.bin'))).toBe(await sha256File(join(dir, 'f2.bin')));
      } finally {
        removeDir(out2);
      }
    } finally {
      removeDir(out);
    }
  }, 60_000);

  it('a receiver killed at ~50 % resumes with a new code; a corrupted partial restarts', async () => {
    const out = makeTempDir('burrow-files-out-');
    const bad = makeTempDir('burrow-files-bad-');
    const partial = `.big.bin.${BIG}.burrow-partial`;
    try {
      const s = runBurrow([...flags, 'send', '--json', 'big.bin'], dir);
      const r = runBurrow([...flags, 'receive', '--json', '--accept-file', await s.code], out);
      await r.waitForEvent((e) => e['event'] === 'progress' && (e['bytes'] as number) >= BIG / 2);
      r.child.kill('SIGKILL');
      s.child.kill('SIGKILL');
      expect((await r.done).signal).toBe('SIGKILL');
      await s.done;
      // Only the hidden partial, never the final name.
      expect(listNames(out)).toEqual([partial]);
      const held = statSync(join(out, partial)).size;
      expect(held).toBeGreaterThan(BIG * 0.4);
      expect(held).toBeLessThan(BIG);
      // The same partial with one byte flipped in the middle, for the second half of the test.
      copyFileSync(join(out, partial), join(bad, partial));
      flipByte(join(bad, partial), Math.floor(held / 2));

      const s2 = runBurrow([...flags, 'send', '--json', 'big.bin'], dir);
      const r2 = runBurrow([...flags, 'receive', '--json', '--accept-file', await s2.code], out);
      const [sr2, rr2] = await Promise.all([s2.done, r2.done]);
      expect(sr2.exitCode, sr2.stderr).toBe(0);
      expect(rr2.exitCode, rr2.stderr).toBe(0);
      const done = lastDone(r2.events())!;
      const why = `held ${held}; receiver said ${JSON.stringify(done)}\n${rr2.stderr}`;
      // The path is test 1's subject (WebRTC falls back at times, see there); here: what moved.
      expect(['webrtc', 'direct', 'relay'], why).toContain(done.via);
      expect(done.files[0]!.resumedFrom, why).toBe(held);
      expect(done.moved, why).toBe(BIG - held);
      expect(done.moved).toBeLessThanOrEqual(BIG * 0.55);
      expect(r2.events()).toContainEqual({ event: 'resume', path: 'big.bin', from: held });
      expect(rr2.stderr).toContain('resuming big.bin from');
      expect(listNames(out)).toEqual(['big.bin']);
      expect(await sha256File(join(out, 'big.bin'))).toBe(await sha256File(join(dir, 'big.bin')));

      const s3 = runBurrow([...flags, 'send', '--json', 'big.bin'], dir);
      // -o DIR from another folder: the partial is found in DIR.
      const r3 = runBurrow([...flags, 'receive', '--json', '--accept-file', '-o', bad, await s3.code], dir);
      const [sr3, rr3] = await Promise.all([s3.done, r3.done]);
      expect(sr3.exitCode, sr3.stderr).toBe(0);
      expect(rr3.exitCode, rr3.stderr).toBe(0);
      const done3 = lastDone(r3.events())!;
      expect(r3.events()).toContainEqual({ event: 'restart', path: 'big.bin', held });
      expect(done3.files[0]!.resumedFrom).toBe(0);
      expect(done3.moved).toBe(BIG);
      expect(listNames(bad)).toEqual(['big.bin']);
      expect(await sha256File(join(bad, 'big.bin'))).toBe(await sha256File(join(dir, 'big.bin')));
    } finally {
      removeDir(out);
      removeDir(bad);
    }
  }, 120_000);

  it('refuses an offer that would overwrite a different file (the error is the last --json line)', async () => {
    const out = makeTempDir('burrow-files-out-');
    try {
      writeFileSync(join(out, 'f2.bin'), 'precious');
      const s = runBurrow([...flags, 'send', '--json', 'f1.bin', 'f2.bin'], dir);
      const r = runBurrow([...flags, 'receive', '--json', '--accept-file', await s.code], out);
      const [sr, rr] = await Promise.all([s.done, r.done]);
      expect(rr.exitCode).toBe(1);
      expect(sr.exitCode).toBe(1);
      expect(rr.stderr).toContain("refusing to overwrite existing 'f2.bin'");
      expect(r.events().at(-1)).toMatchObject({ event: 'error', code: 'Rejected' });
      expect(s.events().at(-1)).toMatchObject({ event: 'error', code: 'Rejected' });
      expect(listNames(out)).toEqual(['f2.bin']);
    } finally {
      removeDir(out);
    }
  }, 60_000);

  it('burrow send a b → wormhole receive (Python): one folder with both files, over Transit v1', async () => {
    const out = makeTempDir('burrow-files-out-');
    try {
      const s = runBurrow([...flags, 'send', '--json', 'f1.bin', 'f2.bin'], dir);
      const cli = runWormhole(['receive', '--accept-file', '--hide-progress', await s.code], { relayUrl: mailbox.url, transitHelper: relay.hint, cwd: out });
      const [sr, cr] = await Promise.all([s.done, cli.result]);
      expect(sr.exitCode, sr.stderr).toBe(0);
      expect(cr.exitCode, cr.stderr).toBe(0);
      expect(listNames(out)).toEqual(['burrow-files']);
      expect(listNames(join(out, 'burrow-files')).sort()).toEqual(['f1.bin', 'f2.bin']);
      for (const f of ['f1.bin', 'f2.bin']) expect(await sha256File(join(out, 'burrow-files', f))).toBe(await sha256File(join(dir, f)));
      const done = lastDone(s.events())!;
      expect(done.files[0]).toMatchObject({ path: 'burrow-files/', resumedFrom: 0 });
    } finally {
      removeDir(out);
    }
  }, 60_000);
});

function flipByte(path: string, at: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

function treeNames(root: string, rel = ''): string[] {
  return readdirSync(join(root, rel), { withFileTypes: true }).flatMap((e) => {
    const p = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? [`${p}/`, ...treeNames(root, p)] : [p];
  }).sort();
}

function countFiles(root: string): number {
  return treeNames(root).filter((p) => !p.endsWith('/')).length;
}
