// `pnpm burrow send FILE|DIR` and `pnpm burrow receive` against the Debian
// `wormhole` CLI: files and directories both ways, the progress bar, and the
// refusal to overwrite. Text keeps working through the same commands.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  describeTree,
  ignoreDirModes,
  ignoreNonEmptyDirModes,
  listNames,
  makeTempDir,
  makeTree,
  randomFile,
  removeDir,
  runWormhole,
  sha256File,
  startDebianPeers,
  withoutEmptyDirs,
  type MailboxServer,
  type TransitRelay,
} from '@burrow/testkit';
import { killBurrows, runBurrow } from './burrow-process.js';

describe('burrow CLI file and directory transfer', () => {
  let mailbox: MailboxServer;
  let relay: TransitRelay;
  let dir: string;
  let flags: string[];

  beforeAll(async () => {
    ({ mailbox, relay } = await startDebianPeers());
    dir = makeTempDir('burrow-xfer-cli-');
    flags = ['--relay-url', mailbox.url, '--transit-helper', relay.hint];
    randomFile(join(dir, 'data.bin'), 5 * 1024 * 1024 + 7);
    makeTree(join(dir, 'tree'));
  }, 60_000);

  afterAll(async () => {
    killBurrows();
    await cleanup();
    removeDir(dir);
  });

  it('burrow send FILE → wormhole receive', async () => {
    const out = makeTempDir('burrow-cli-out-');
    try {
      const b = runBurrow([...flags, 'send', join(dir, 'data.bin')], dir);
      const cli = runWormhole(['receive', '--accept-file', '--hide-progress', await b.code], { relayUrl: mailbox.url, transitHelper: relay.hint, cwd: out });
      const [br, cr] = await Promise.all([b.done, cli.result]);
      expect(br.exitCode, br.stderr).toBe(0);
      expect(cr.exitCode, cr.stderr).toBe(0);
      expect(br.stderr).toMatch(/100%\|#+\|/);
      expect(br.stderr).toContain('Transfer complete.');
      expect(await sha256File(join(out, 'data.bin'))).toBe(await sha256File(join(dir, 'data.bin')));
    } finally {
      removeDir(out);
    }
  }, 60_000);

  it('wormhole send FILE → burrow receive --accept-file --hide-progress --output-file', async () => {
    const out = makeTempDir('burrow-cli-out-');
    try {
      const cli = runWormhole(['send', '--hide-progress', join(dir, 'data.bin')], { relayUrl: mailbox.url, transitHelper: relay.hint, cwd: dir });
      const b = runBurrow([...flags, 'receive', '--accept-file', '--hide-progress', '--output-file', 'renamed.bin', await cli.code], out);
      const [br, cr] = await Promise.all([b.done, cli.result]);
      expect(br.exitCode, br.stderr).toBe(0);
      expect(cr.exitCode, cr.stderr).toBe(0);
      expect(br.stderr).not.toContain('%|');
      expect(listNames(out)).toEqual(['renamed.bin']);
      expect(await sha256File(join(out, 'renamed.bin'))).toBe(await sha256File(join(dir, 'data.bin')));
    } finally {
      removeDir(out);
    }
  }, 60_000);

  it('burrow send DIR → wormhole receive, and wormhole send DIR → burrow receive (answering the prompt)', async () => {
    const out1 = makeTempDir('burrow-cli-out-');
    const out2 = makeTempDir('burrow-cli-out-');
    try {
      const b = runBurrow([...flags, 'send', '--hide-progress', join(dir, 'tree')], dir);
      const cli = runWormhole(['receive', '--accept-file', '--hide-progress', await b.code], { relayUrl: mailbox.url, transitHelper: relay.hint, cwd: out1 });
      const [br, cr] = await Promise.all([b.done, cli.result]);
      expect(br.exitCode, br.stderr).toBe(0);
      expect(cr.exitCode, cr.stderr).toBe(0);
      expect(ignoreNonEmptyDirModes(await describeTree(join(out1, 'tree')))).toEqual(ignoreNonEmptyDirModes(await describeTree(join(dir, 'tree'))));

      const cli2 = runWormhole(['send', '--hide-progress', join(dir, 'tree')], { relayUrl: mailbox.url, transitHelper: relay.hint, cwd: dir });
      const b2 = runBurrow([...flags, 'receive', '--hide-progress', await cli2.code], out2, 'y\n');
      const [br2, cr2] = await Promise.all([b2.done, cli2.result]);
      expect(br2.exitCode, br2.stderr).toBe(0);
      expect(cr2.exitCode, cr2.stderr).toBe(0);
      expect(br2.stderr).toContain('9 files');
      expect(ignoreDirModes(await describeTree(join(out2, 'tree')))).toEqual(ignoreDirModes(withoutEmptyDirs(await describeTree(join(dir, 'tree')))));
    } finally {
      removeDir(out1);
      removeDir(out2);
    }
  }, 90_000);

  it('refuses to overwrite, and a "no" at the prompt rejects', async () => {
    const out = makeTempDir('burrow-cli-out-');
    try {
      writeFileSync(join(out, 'data.bin'), 'precious');
      const cli = runWormhole(['send', '--hide-progress', join(dir, 'data.bin')], { relayUrl: mailbox.url, transitHelper: relay.hint, cwd: dir });
      const b = runBurrow([...flags, 'receive', '--accept-file', await cli.code], out);
      const [br, cr] = await Promise.all([b.done, cli.result]);
      expect(br.exitCode).toBe(1);
      expect(br.stderr).toContain("refusing to overwrite existing 'data.bin'");
      expect(cr.exitCode).not.toBe(0);
      expect(cr.stderr).toContain('transfer rejected');
      expect(readFileSync(join(out, 'data.bin'), 'utf8')).toBe('precious');

      const cli2 = runWormhole(['send', '--hide-progress', join(dir, 'data.bin')], { relayUrl: mailbox.url, transitHelper: relay.hint, cwd: dir });
      const b2 = runBurrow([...flags, 'receive', '--output-file', 'other.bin', await cli2.code], out, 'n\n');
      const [br2, cr2] = await Promise.all([b2.done, cli2.result]);
      expect(br2.exitCode).toBe(1);
      expect(cr2.stderr).toContain('transfer rejected');
      expect(existsSync(join(out, 'other.bin'))).toBe(false);
      expect(listNames(out)).toEqual(['data.bin']);
    } finally {
      removeDir(out);
    }
  }, 60_000);

  it('text still works both ways', async () => {
    const b = runBurrow([...flags, 'send', '--text', 'hello files'], dir);
    const cli = runWormhole(['receive', await b.code], { relayUrl: mailbox.url, cwd: dir });
    const [br, cr] = await Promise.all([b.done, cli.result]);
    expect(br.exitCode, br.stderr).toBe(0);
    expect(cr.stdout).toBe('hello files\n');
    const cli2 = runWormhole(['send', '--text', 'back again'], { relayUrl: mailbox.url, cwd: dir });
    const b2 = runBurrow([...flags, 'receive', await cli2.code], dir);
    const [br2] = await Promise.all([b2.done, cli2.result]);
    expect(br2.exitCode, br2.stderr).toBe(0);
    expect(br2.stdout).toBe('back again\n');
  }, 60_000);
});
