// The `burrow` a user gets: `pnpm pack` of @burrow/cli, `npm i -g` of the
// tarball into a temporary prefix (registry dependencies from the npm cache
// that `scripts/pack.mjs --warm-cache` filled before the test namespace was
// entered: no network here), then `burrow` found on PATH sends a text to the
// Debian `wormhole` CLI. Needs the built CLI (`pnpm build`).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir, runWormhole, startMailboxServer, type MailboxServer } from '@burrow/testkit';

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
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    assertPrivateNetwork();
    dir = makeTempDir('burrow-installed-cli-');
    prefix = join(dir, 'prefix');
    const args = [PACK, '--no-build', '--dest', join(dir, 'pack'), '--install-global', prefix, '--offline', 'cli'];
    [mailbox] = await Promise.all([startMailboxServer(), promisify(execFile)(process.execPath, args, { cwd: ROOT })]);
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
    expect((await serving.done).exitCode).toBe(0);
    const list = await burrow(['agent', 'list', '--data-dir', join(dir, 'agent')]);
    expect(list.exitCode, list.stderr).toBe(0);
  });

  it('sends a text to the wormhole CLI', async () => {
    let gotCode: (code: string) => void = () => undefined;
    const code = new Promise<string>((res) => (gotCode = res));
    const sent = burrow(['--relay-url', mailbox.url, 'send', '--text', 'from an installed burrow 🐇'], (stderr) => {
      const m = /Wormhole code is: (\S+)/.exec(stderr);
      if (m) gotCode(m[1]!);
    });
    const receiver = runWormhole(['receive', await Promise.race([code, sent.then((r) => Promise.reject(new Error(`burrow exited first:\n${r.stderr}`)))])], {
      relayUrl: mailbox.url,
      stdin: '',
    });
    const [rx, tx] = await Promise.all([receiver.result, sent]);
    expect(rx.exitCode, rx.stderr).toBe(0);
    expect(rx.stdout).toBe('from an installed burrow 🐇\n');
    expect(tx.exitCode, tx.stderr).toBe(0);
    expect(tx.stderr).toContain('text message sent');
  });
});
