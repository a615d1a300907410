// The `burrow` a user gets: `pnpm pack` of @burrow/cli, `npm i -g` of the
// tarball into a temporary prefix (registry dependencies from the npm cache
// that `scripts/pack.mjs --warm-cache` filled before the test namespace was
// entered: no network here), then `burrow` found on PATH sends a text to the
// Debian `wormhole` CLI. Needs the built CLI (`pnpm build`).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  makeTempDir,
  randomFile,
  removeDir,
  runWormhole,
  sha256File,
  startDebianPeers,
  type MailboxServer,
  type TransitRelay,
} from '@burrow/testkit';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const PACK = join(ROOT, 'scripts', 'pack.mjs');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string }).version;

interface Done {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

describe('burrow installed from its npm tarball', () => {
  let dir: string;
  let prefix: string;
  let mailbox: MailboxServer;
  let relay: TransitRelay;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    dir = makeTempDir('burrow-installed-cli-');
    prefix = join(dir, 'prefix');
    const args = [PACK, '--no-build', '--dest', join(dir, 'pack'), '--install-global', prefix, '--offline', 'cli'];
    const [peers] = await Promise.all([startDebianPeers(), promisify(execFile)(process.execPath, args, { cwd: ROOT })]);
    ({ mailbox, relay } = peers);
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await cleanup();
    if (dir) removeDir(dir);
  });

  /** Start `burrow` as a shell would find it: on PATH, from a folder outside the repository. */
  function spawnBurrow(args: string[], onStderr?: (text: string) => void): { child: ChildProcess; stdout(): string; done: Promise<Done> } {
    const env = { ...process.env, PATH: [join(prefix, 'bin'), process.env['PATH']].join(delimiter) };
    const child = spawn('burrow', args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      onStderr?.(stderr);
    });
    const done = new Promise<Done>((res, rej) => {
      child.once('error', rej);
      child.once('close', (exitCode) => {
        children.delete(child);
        res({ exitCode, stdout, stderr });
      });
    });
    return { child, stdout: () => stdout, done };
  }

  function burrow(args: string[], onStderr?: (text: string) => void): Promise<Done> {
    return spawnBurrow(args, onStderr).done;
  }

  it('is a plain Node program: --version, --help and a usage error with their exit statuses', async () => {
    const version = await burrow(['--version']);
    expect(version).toMatchObject({ exitCode: 0, stdout: `burrow ${VERSION}\n` });
    const help = await burrow(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/^Usage: burrow/);
    expect(help.stdout).toMatch(/Exit status: 0 done; 1 transfer failed/);
    const usage = await burrow(['frobnicate']);
    expect(usage).toMatchObject({ exitCode: 2, stderr: "burrow: unknown command 'frobnicate'\n" });
  });

  it('loads every subcommand from the installed files: serve starts a gateway, agent lists pairings', async () => {
    let started: () => void = () => undefined;
    const up = new Promise<void>((res) => (started = res));
    const serving = spawnBurrow(['serve', '--port', '0', '--transit-port', '0']);
    serving.child.stdout!.on('data', () => {
      if (serving.stdout().includes('Burrow gateway')) started();
    });
    await Promise.race([up, serving.done.then((r) => Promise.reject(new Error(`burrow serve exited ${r.exitCode}:\n${r.stderr}`)))]);
    expect(serving.stdout()).toMatch(/mailbox {8}ws:\/\/127\.0\.0\.1:\d+\/v1/);
    serving.child.kill('SIGTERM');
    const stopped = await serving.done;
    expect(stopped.exitCode, `${stopped.stderr} ${serving.child.signalCode}`).toBe(0);
    const list = await burrow(['agent', 'list', '--data-dir', join(dir, 'agent')]);
    expect(list.exitCode, list.stderr).toBe(0);
  });

  /** `burrow send …` and the code it prints (rejects if it exits first). */
  function send(args: string[]): { code: Promise<string>; done: Promise<Done> } {
    let gotCode: (code: string) => void = () => undefined;
    const code = new Promise<string>((res) => (gotCode = res));
    const done = burrow(['--relay-url', mailbox.url, '--transit-helper', relay.hint, 'send', ...args], (stderr) => {
      const m = /Wormhole code is: (\S+)/.exec(stderr);
      if (m) gotCode(m[1]!);
    });
    return { code: Promise.race([code, done.then((r) => Promise.reject(new Error(`burrow exited first:\n${r.stderr}`)))]), done };
  }

  it('sends a text to the wormhole CLI', async () => {
    const sent = send(['--text', 'from an installed burrow 🐇']);
    const receiver = runWormhole(['receive', await sent.code], { relayUrl: mailbox.url, stdin: '' });
    const [rx, tx] = await Promise.all([receiver.result, sent.done]);
    expect(rx.exitCode, rx.stderr).toBe(0);
    expect(rx.stdout).toBe('from an installed burrow 🐇\n');
    expect(tx.exitCode, tx.stderr).toBe(0);
    expect(tx.stderr).toContain('text message sent');
  });

  it('sends a file to the wormhole CLI (Transit, the bundled record pipeline)', async () => {
    const file = join(dir, 'photo.bin');
    randomFile(file, 2 * 1024 * 1024 + 3);
    const out = join(dir, 'out');
    mkdirSync(out);
    const sent = send([file]);
    const receiver = runWormhole(['receive', '--accept-file', '--hide-progress', await sent.code], { relayUrl: mailbox.url, transitHelper: relay.hint, cwd: out });
    const [rx, tx] = await Promise.all([receiver.result, sent.done]);
    expect(rx.exitCode, rx.stderr).toBe(0);
    expect(tx.exitCode, tx.stderr).toBe(0);
    expect(tx.stderr).toMatch(/^100%\|#{30}\| 2\.1 MB\/2\.1 MB \[\d\d:\d\d<00:00, .+\/s\]$/m);
    expect(await sha256File(join(out, 'photo.bin'))).toBe(await sha256File(file));
  });
});
