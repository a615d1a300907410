// Burrow's client against the real thing: the Debian mailbox server 0.4.1
// and the Debian `wormhole` 0.12 CLI, on loopback in a private netns.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, cleanup, runWormhole, startMailboxServer, waitFor, type MailboxServer, wrongCode } from '@burrow/testkit';
import { createWormhole, isWormholeError, toHex, type WebSocketConstructor, type Wormhole, type WormholeOptions } from '@burrow/client';

describe('Burrow client ↔ wormhole CLI 0.12 (text)', () => {
  let mailbox: MailboxServer;
  const open = (extra: Partial<WormholeOptions> = {}): Promise<Wormhole> =>
    createWormhole({ mailbox: mailbox.url, WebSocket: WebSocket as unknown as WebSocketConstructor, ...extra });

  beforeAll(async () => {
    assertPrivateNetwork();
    mailbox = await startMailboxServer();
  });
  afterAll(cleanup);

  it('CLI → Burrow with a code the CLI allocated', async () => {
    const cli = runWormhole(['send', '--text', 'from the CLI ✓'], { relayUrl: mailbox.url, stdin: '' });
    const w = await open();
    w.setCode(await cli.code);
    expect(await w.receiveText()).toBe('from the CLI ✓');
    await w.close();
    const res = await cli.result;
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toContain('text message sent');
  });

  it('Burrow → CLI with a code Burrow allocated, verifiers equal', async () => {
    const w = await open();
    const code = await w.allocateCode(3);
    expect(code).toMatch(/^\d+-[a-z]+-[a-z]+-[a-z]+$/);
    const cli = runWormhole(['receive', '--verify', code], { relayUrl: mailbox.url, stdin: 'yes\n' });
    const sent = w.sendText('to the CLI');
    const verifier = toHex(await w.verifier);
    await sent;
    await w.close();
    const res = await cli.result;
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toBe('to the CLI\n');
    expect(res.stderr).toContain(`Verifier ${verifier}.`);
  });

  it('chosen codes in both directions', async () => {
    const w1 = await open();
    w1.setCode('41-guitarist-revenge');
    const cli1 = runWormhole(['receive', '41-guitarist-revenge'], { relayUrl: mailbox.url, stdin: '' });
    await w1.sendText('chosen code, Burrow sends');
    await w1.close();
    expect((await cli1.result).stdout).toBe('chosen code, Burrow sends\n');

    const cli2 = runWormhole(['send', '--code', '42-guitarist-revenge', '--text', 'chosen code, CLI sends'], {
      relayUrl: mailbox.url,
      stdin: '',
    });
    await cli2.code;
    const w2 = await open();
    w2.setCode('42-guitarist-revenge');
    expect(await w2.receiveText()).toBe('chosen code, CLI sends');
    await w2.close();
    expect((await cli2.result).exitCode).toBe(0);
  });

  it('wrong code on the CLI side: WrongPassword here, key confirmation error there', async () => {
    const w = await open();
    const code = await w.allocateCode();
    const wrong = wrongCode(code);
    const cli = runWormhole(['receive', wrong], { relayUrl: mailbox.url, stdin: '' });
    const err = await w.sendText('never delivered').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isWormholeError(err, 'WrongPassword')).toBe(true);
    await expect(w.closed).rejects.toMatchObject({ code: 'WrongPassword' });
    const res = await cli.result;
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/Key confirmation failed/);
  });

  it('wrong code on the Burrow side', async () => {
    const cli = runWormhole(['send', '--text', 'secret'], { relayUrl: mailbox.url, stdin: '' });
    const code = await cli.code;
    const w = await open();
    w.setCode(wrongCode(code));
    await expect(w.receiveText()).rejects.toMatchObject({ code: 'WrongPassword' });
    await expect(w.close()).rejects.toMatchObject({ code: 'WrongPassword' });
    const res = await cli.result;
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/Key confirmation failed/);
  });

  it('the mailbox server is killed and restarted while Burrow waits; the transfer completes', async () => {
    const states: string[] = [];
    const w = await open({ reconnect: { initialMs: 200, maxMs: 1000, factor: 1.5 }, trace: (e) => states.push(`${e.machine}:${e.to}`) });
    const code = await w.allocateCode();
    const sent = w.sendText('survived a server restart');
    await mailbox.restart();
    // The client notices the drop and reconnects on its own before the peer arrives.
    await waitFor(() => states.indexOf('rendezvous:connected', states.indexOf('rendezvous:waiting')) > 0, {
      timeoutMs: 20_000,
      message: 'client did not reconnect',
    });
    const cli = runWormhole(['receive', code], { relayUrl: mailbox.url, stdin: '' });
    await sent;
    await w.close();
    const res = await cli.result;
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toBe('survived a server restart\n');
    expect(states).toContain('rendezvous:waiting');
  });

  it('restart while the CLI sender waits, Burrow receives after', async () => {
    const cli = runWormhole(['send', '--text', 'CLI waited through a restart'], { relayUrl: mailbox.url, stdin: '' });
    const code = await cli.code;
    await mailbox.restart();
    const w = await open();
    w.setCode(code);
    expect(await w.receiveText()).toBe('CLI waited through a restart');
    await w.close();
    expect((await cli.result).exitCode).toBe(0);
  });
});
