// The browser path: a Burrow peer that can only open WebSockets (no TCP, no
// listening) moves a file with the Debian `wormhole` CLI through the gateway's
// relay — Burrow on its WebSocket side (advertised as a relay-v2 hint, which
// Python ignores), the CLI on its TCP side (the relay-v1 twin), glued by token.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRelayLocation, receiveOffer, sendFile, webSocketDialer, type TransitOptions } from '@burrow/client';
import { NodeWebSocket, fileSink, fileSource } from '@burrow/client/node';
import { startGateway, type Gateway } from '@burrow/gateway';
import { inTempDir, randomFile, runWormhole, sha256File } from '@burrow/testkit';
import { burrow, useTransferRig } from './support/transfer.js';

const SIZE = 8 * 1024 * 1024 + 3;

describe('WebSocket relay (browser-like peer) with the wormhole CLI', () => {
  let gw: Gateway;
  let file: string;
  let transit: TransitOptions;
  const rig = useTransferRig('ws', {
    setup: (dir) => {
      file = join(dir, 'f.bin');
      randomFile(file, SIZE);
    },
  });

  beforeAll(async () => {
    gw = await startGateway({ host: '127.0.0.1', port: 0, transitPort: 0 });
    transit = {
      dialers: { websocket: webSocketDialer({ WebSocket: NodeWebSocket }) },
      relays: [{ tcp: parseRelayLocation(gw.transitHint!).tcp, websocket: [gw.relayUrl] }],
    };
  }, 60_000);

  afterAll(async () => {
    await gw?.close();
  });

  /** Burrow sends `file` on `mailboxUrl` with `burrowTransit`; the CLI receives it into `out`; both go through the gateway relay. */
  async function burrowToCli(mailboxUrl: string, out: string, cliOptions: { transitHelper?: string; cwd: string }, burrowTransit: TransitOptions): Promise<void> {
    const w = await burrow(mailboxUrl);
    const code = await w.allocateCode();
    const cli = runWormhole(['receive', '--accept-file', '--hide-progress', '-o', out, code], { relayUrl: mailboxUrl, ...cliOptions });
    const result = await sendFile(w, await fileSource(file), { transit: burrowTransit });
    await w.close();
    const r = await cli.result;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(result.connection).toBe(`->relay:${gw.relayUrl}`);
    expect(await sha256File(out)).toBe(await sha256File(file));
  }

  it('Burrow (WebSocket only) → CLI', async () => {
    const { mailbox, dir } = rig;
    await burrowToCli(mailbox.url, join(dir, 'out-1.bin'), { transitHelper: gw.transitHint!, cwd: dir }, transit);
  }, 60_000);

  it('CLI → Burrow (WebSocket only)', async () => {
    const { mailbox, dir } = rig;
    await inTempDir('burrow-xfer-ws-out-', async (outDir) => {
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
    });
  }, 60_000);

  it('Burrow (WebSocket only, no relay configured) → CLI with no transit flag: both find the gateway relay from its welcome', async () => {
    // The CLI gets no --transit-helper: it dials the gateway's TCP relay from Burrow's hints.
    await burrowToCli(gw.url, join(rig.dir, 'out-3.bin'), { cwd: rig.dir }, { dialers: transit.dialers! });
  }, 60_000);
});
