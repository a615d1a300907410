// The Debian `wormhole` 0.12 CLI against Burrow's gateway only (no Python
// mailbox server, no Python relay), on loopback in a private network
// namespace: text and files CLI↔CLI (the file forced through the gateway's
// TCP relay with --no-listen), and a CLI that waits across a gateway
// restart. (Burrow's own client against the gateway and the CLI: the
// client's interop tests.)
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir, runWormhole, sha256File, waitFor } from '@burrow/testkit';
import { startGateway, type Gateway } from '../src/index.js';

describe('gateway ↔ wormhole CLI 0.12', () => {
  let gw: Gateway;
  let dataDir: string;
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = makeTempDir('burrow-gw-cli-');
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    assertPrivateNetwork();
    dataDir = tempDir();
    gw = await startGateway({ port: 0, transitPort: 0, dataDir, motd: 'Burrow gateway test' });
  });

  afterAll(async () => {
    await gw?.close();
    await cleanup();
    for (const dir of dirs) removeDir(dir);
  });

  const cli = () => ({ relayUrl: gw.url, transitHelper: gw.transitHint!, stdin: '' });

  it('CLI → CLI text through the gateway mailbox', async () => {
    const text = `hello gateway ${randomBytes(4).toString('hex')}`;
    const sender = runWormhole(['send', '--text', text], cli());
    const code = await sender.code;
    const receiver = runWormhole(['receive', code], cli());
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(received.exitCode, received.stderr).toBe(0);
    expect(received.stdout).toBe(`${text}\n`);
    // The motd reaches the CLI.
    expect(sent.stderr).toContain('Burrow gateway test');
  });

  it('CLI → CLI file through the gateway TCP relay (--no-listen: relay only)', async () => {
    const src = tempDir();
    const dst = tempDir();
    writeFileSync(join(src, 'payload.bin'), randomBytes(3_000_000));
    const sender = runWormhole(['send', '--hide-progress', '--no-listen', 'payload.bin'], { ...cli(), cwd: src });
    const code = await sender.code;
    const receiver = runWormhole(['receive', '--accept-file', '--hide-progress', '--no-listen', code], { ...cli(), cwd: dst });
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(received.exitCode, received.stderr).toBe(0);
    expect(sent.stderr).toContain(`->relay:${gw.transitHint}`);
    expect(received.stderr).toContain(`->relay:${gw.transitHint}`);
    expect(sent.stderr).toContain('Transfer complete');
    expect(readdirSync(dst)).toEqual(['payload.bin']);
    expect(await sha256File(join(dst, 'payload.bin'))).toBe(await sha256File(join(src, 'payload.bin')));
    expect(gw.stats().relay.bytes).toBeGreaterThan(3_000_000);
  });

  it('CLI → CLI directory through the gateway TCP relay', async () => {
    const src = tempDir();
    const dst = tempDir();
    mkdirSync(join(src, 'tree', 'sub'), { recursive: true });
    writeFileSync(join(src, 'tree', 'a.txt'), 'alpha\n');
    writeFileSync(join(src, 'tree', 'sub', 'b.bin'), randomBytes(100_000));
    const sender = runWormhole(['send', '--hide-progress', '--no-listen', 'tree'], { ...cli(), cwd: src });
    const code = await sender.code;
    const receiver = runWormhole(['receive', '--accept-file', '--hide-progress', '--no-listen', code], { ...cli(), cwd: dst });
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(received.exitCode, received.stderr).toBe(0);
    expect(await sha256File(join(dst, 'tree', 'sub', 'b.bin'))).toBe(await sha256File(join(src, 'tree', 'sub', 'b.bin')));
  });

  it('a CLI sender survives a gateway restart while it waits (state in the data dir)', async () => {
    const sender = runWormhole(['send', '--text', 'across a gateway restart'], cli());
    const code = await sender.code;
    const { port, transitPort } = gw;
    await gw.close();
    gw = await startGateway({ port, transitPort: transitPort ?? 0, dataDir, motd: 'Burrow gateway test' });
    expect(gw.stats().mailbox.nameplates).toBeGreaterThanOrEqual(1);
    const receiver = runWormhole(['receive', code], cli());
    const [sent, received] = await Promise.all([sender.result, receiver.result]);
    expect(sent.exitCode, sent.stderr).toBe(0);
    expect(received.exitCode, received.stderr).toBe(0);
    expect(received.stdout).toBe('across a gateway restart\n');
  });

  it('leaves nothing behind once the transfers are done', async () => {
    await waitFor(() => gw.stats().mailbox.connections === 0, { message: 'every mailbox connection gone' });
    expect(gw.stats().mailbox).toMatchObject({ connections: 0, listeners: 0, nameplates: 0, mailboxes: 0 });
    expect(gw.stats().relay).toMatchObject({ connections: 0, waiting: 0 });
  });
});
