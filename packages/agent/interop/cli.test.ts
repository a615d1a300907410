// `pnpm burrow agent` as a person runs it: pair one client by code, let it
// reconnect and fetch, revoke it from a second `burrow agent revoke`
// process while it is connected; the logs never show the code or a secret.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, startMailboxServer, waitFor, type MailboxServer } from '@burrow/testkit';
import { isWormholeError } from '@burrow/protocol';
import { memoryStore } from '@burrow/store';
import { connectAgent, pairWithAgent } from '../src/client/index.js';
import { EXTENSION_ORIGIN, NodeWebSocket, startEcho, webSocketWithOrigin, type EchoService } from './support.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const MAIN = join(ROOT, 'packages', 'cli', 'src', 'main.ts');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function burrow(args: string[]): Run {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

describe('burrow agent (CLI)', () => {
  let mailbox: MailboxServer;
  let echo: EchoService;
  let dir: string;
  let agent: Run | undefined;

  beforeAll(async () => {
    assertPrivateNetwork();
    [mailbox, echo] = await Promise.all([startMailboxServer(), startEcho()]);
    dir = mkdtempSync(join(tmpdir(), 'burrow-agent-cli-'));
  });
  afterAll(async () => {
    agent?.child.kill('SIGKILL');
    await echo?.close();
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pairs by code, serves the paired client, and drops it when another process revokes it', async () => {
    agent = burrow([
      'agent', '--port', '0', '--data-dir', dir, '--relay-url', mailbox.url, '--name', 'CLI agent',
      '--allow-origin', EXTENSION_ORIGIN, '--allow-forward', `127.0.0.1:${echo.port}`, '--pair',
    ]);
    const a = agent;
    await waitFor(() => /Pairing code: (\S+)/.test(a.stdout()), { timeoutMs: 30_000, message: 'the pairing code on stdout' });
    const code = /Pairing code: (\S+)/.exec(a.stdout())![1]!;
    expect(a.stdout()).toMatch(/endpoint\s+ws:\/\/127\.0\.0\.1:\d+\/v1/);

    const store = memoryStore();
    const paired = await pairWithAgent({ mailbox: mailbox.url, code, store, name: 'Node client', origin: EXTENSION_ORIGIN, WebSocket: NodeWebSocket });
    expect(paired.name).toBe('CLI agent');
    await waitFor(() => a.stdout().includes('Paired with Node client'));

    const session = await connectAgent({ store, WebSocket: webSocketWithOrigin(EXTENSION_ORIGIN) });
    const res = await session.fetch(`http://127.0.0.1:${echo.port}/via-cli`);
    expect(((await res.json()) as { path: string }).path).toBe('/via-cli');
    const closed = session.closed.then(
      () => 'clean',
      (e: unknown) => e,
    );

    const clientId = /Paired with Node client \(([0-9a-f]{32})\)/.exec(a.stdout())![1]!;
    const secret = (JSON.parse(readFileSync(join(dir, `pairing%2F${clientId}.json`), 'utf8')) as { secret: string }).secret;
    expect(secret).toMatch(/^[0-9a-f]{64}$/);

    const list = burrow(['agent', 'list', '--json', '--data-dir', dir]);
    expect(await list.exit).toBe(0);
    const listed = JSON.parse(list.stdout()) as { id: string; name: string }[];
    expect(listed).toEqual([expect.objectContaining({ id: clientId, name: 'Node client', origin: EXTENSION_ORIGIN })]);
    expect(list.stdout()).not.toContain(secret);

    const revoke = burrow(['agent', 'revoke', clientId.slice(0, 8), '--data-dir', dir]);
    expect(await revoke.exit).toBe(0);
    expect(isWormholeError(await closed, 'Revoked')).toBe(true);
    await expect(connectAgent({ store, WebSocket: webSocketWithOrigin(EXTENSION_ORIGIN) })).rejects.toMatchObject({ code: 'Revoked' });

    a.child.kill('SIGTERM');
    expect(await a.exit).toBe(0);
    const logs = a.stderr();
    expect(logs).toContain('"msg":"agent.revoked"');
    expect(logs).toContain('"msg":"agent.forward"');
    expect(logs).not.toContain(code);
    expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/[0-9a-f]{64}/);
  });

  it('explains a usage error', async () => {
    const bad = burrow(['agent', 'frobnicate', '--data-dir', dir]);
    expect(await bad.exit).toBe(2);
    expect(bad.stderr()).toContain("unknown agent command 'frobnicate'");
    const badForward = burrow(['agent', '--port', '0', '--data-dir', dir, '--allow-forward', 'nope']);
    expect(await badForward.exit).toBe(1);
    expect(badForward.stderr()).toContain("'nope' is not host:port");
  });
});
