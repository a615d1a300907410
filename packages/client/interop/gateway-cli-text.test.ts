// Burrow's Node client and the Debian `wormhole` 0.12 CLI meeting on Burrow's
// gateway (no Python mailbox server), text both ways.
import { bestEffort } from '@burrow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '@burrow/gateway';
import { assertPrivateNetwork, cleanup, runWormhole } from '@burrow/testkit';
import { burrow } from './support/transfer.js';

describe('Burrow client ↔ wormhole CLI 0.12 through the gateway', () => {
  let gw: Gateway;

  beforeAll(async () => {
    assertPrivateNetwork();
    gw = await startGateway({ port: 0, transitPort: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await cleanup();
  });

  const cli = () => ({ relayUrl: gw.url, transitHelper: gw.transitHint!, stdin: '' });

  it('Burrow client → CLI text through the gateway mailbox', async () => {
    const w = await burrow(gw.url);
    try {
      const code = await w.allocateCode();
      const receiver = runWormhole(['receive', code], cli());
      await w.sendText('from burrow via the gateway');
      const received = await receiver.result;
      expect(received.exitCode, received.stderr).toBe(0);
      expect(received.stdout).toBe('from burrow via the gateway\n');
    } finally {
      // Decision: a failing close must not hide the test's own failure.
      await w.close().catch(bestEffort);
    }
  });

  it('CLI → Burrow client text through the gateway mailbox', async () => {
    const sender = runWormhole(['send', '--text', 'from the CLI via the gateway'], cli());
    const code = await sender.code;
    const w = await burrow(gw.url);
    try {
      w.setCode(code);
      expect(await w.receiveText()).toBe('from the CLI via the gateway');
    } finally {
      // Decision: a failing close must not hide the test's own failure.
      await w.close().catch(bestEffort);
    }
    const sent = await sender.result;
    expect(sent.exitCode, sent.stderr).toBe(0);
  });
});
