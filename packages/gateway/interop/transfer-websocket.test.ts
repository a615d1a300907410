// The browser path: a Burrow peer that can only open WebSockets (no TCP, no
// listening) moves a file with the Debian `wormhole` CLI through the gateway's
// relay — Burrow on its WebSocket side (advertised as a relay-v2 hint, which
// Python ignores), the CLI on its TCP side (the relay-v1 twin), glued by token.
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRelayLocation, receiveOffer, sendFile, webSocketDialer, type TransitOptions, type WebSocketDialerOptions } from '@burrow/client';
import {
  assertPrivateNetwork,
  cleanup,
  makeTempDir,
  removeDir,
  runWormhole,
  sha256File,
  startMailboxServer,
  type MailboxServer,
} from '@burrow/testkit';
import { startGateway, type Gateway } from '../src/gateway.js';
import { fileSink, fileSource } from '../src/transit-node.js';
import { burrow, randomFile } from './transfer-helpers.js';

const SIZE = 8 * 1024 * 1024 + 3;

describe('WebSocket relay (browser-like peer) with the wormhole CLI', () => {
  let mailbox: MailboxServer;
  let gw: Gateway;
  let dir: string;
  let file: string;
  let transit: TransitOptions;

  beforeAll(async () => {
    assertPrivateNetwork();
    mailbox = await startMailboxServer();
    gw = await startGateway({ host: '127.0.0.1', port: 0, transitPort: 0 });
    dir = makeTempDir('burrow-xfer-ws-');
    file = join(dir, 'f.bin');
    randomFile(file, SIZE);
    transit = {
      dialers: { websocket: webSocketDialer({ WebSocket: WebSocket as unknown as NonNullable<WebSocketDialerOptions['WebSocket']> }) },
      relays: [{ tcp: parseRelayLocation(gw.transitHint!).tcp, websocket: [gw.relayUrl] }],
    };
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
    await cleanup();
    removeDir(dir);
  });

  it('Burrow (WebSocket only) → CLI', async () => {
    const out = join(dir, 'out-1.bin');
    const w = await burrow(mailbox.url);
    const code = await w.allocateCode();
    const cli = runWormhole(['receive', '--accept-file', '--hide-progress', '-o', out, code], { relayUrl: mailbox.url, transitHelper: gw.transitHint!, cwd: dir });
    const result = await sendFile(w, await fileSource(file), { transit });
    await w.close();
    const r = await cli.result;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(result.connection).toBe(`->relay:${gw.relayUrl}`);
    expect(await sha256File(out)).toBe(await sha256File(file));
  }, 60_000);

  it('CLI → Burrow (WebSocket only)', async () => {
    const outDir = makeTempDir('burrow-xfer-ws-out-');
    try {
      const cli = runWormhole(['send', '--hide-progress', file], { relayUrl: mailbox.url, transitHelper: gw.transitHint!, cwd: dir });
      const w = await burrow(mailbox.url);
      w.setCode(await cli.code);
      const offer = await receiveOffer(w, { transit });
      if (offer.type !== 'file') throw new Error('expected a file');
      const result = await offer.accept(await fileSink(join(outDir, offer.name)));
      await w.close();
      const r = await cli.result;
      expect(r.exitCode, r.stderr).toBe(0);
      expect(result.via).toBe('relay');
      expect(result.connection).toBe(`->relay:${gw.relayUrl}`);
      expect(await sha256File(join(outDir, 'f.bin'))).toBe(await sha256File(file));
    } finally {
      removeDir(outDir);
    }
  }, 60_000);

  it('Burrow (WebSocket only, no relay configured) → CLI with no transit flag: both find the gateway relay from its welcome', async () => {
    const out = join(dir, 'out-3.bin');
    const w = await burrow(gw.url);
    const code = await w.allocateCode();
    // The CLI gets no --transit-helper: it dials the gateway's TCP relay from Burrow's hints.
    const cli = runWormhole(['receive', '--accept-file', '--hide-progress', '-o', out, code], { relayUrl: gw.url, cwd: dir });
    const wsOnly = { dialers: transit.dialers! };
    const result = await sendFile(w, await fileSource(file), { transit: wsOnly });
    await w.close();
    const r = await cli.result;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(result.connection).toBe(`->relay:${gw.relayUrl}`);
    expect(await sha256File(out)).toBe(await sha256File(file));
  }, 60_000);
});
