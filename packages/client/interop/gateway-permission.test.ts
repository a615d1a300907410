// Hashcash permission on Burrow's gateway (`permission: { hashcash: { bits: 12 } }`,
// what `burrow serve --permission hashcash:12` sets): Burrow's Node clients
// solve the stamp and complete a wormhole; a client that sends no stamp and
// the Debian `wormhole` 0.12 CLI (which has no hashcash support) are refused
// with the server's error before bind.
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type Gateway } from '@burrow/gateway';
import { ERR_PERMISSION_REQUIRED } from '@burrow/protocol/server';
import { assertPrivateNetwork, cleanup, runWormhole } from '@burrow/testkit';
import { burrow } from './support/transfer.js';

/** A bare WebSocket client: the welcome, then the answer to a bind sent without a stamp. */
async function bindWithoutStamp(url: string): Promise<{ welcome: Record<string, unknown>; answers: Record<string, unknown>[] }> {
  const ws = new WebSocket(url);
  const frames: Record<string, unknown>[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      frames.push(JSON.parse(data.toString()) as Record<string, unknown>);
      if (frames.length === 1) ws.send(JSON.stringify({ type: 'bind', appid: 'x', side: 'abcdef', id: 'b1' }));
      if (frames.length === 3) resolve();
    });
    ws.on('error', reject);
  });
  ws.close();
  return { welcome: frames[0]!['welcome'] as Record<string, unknown>, answers: frames.slice(1) };
}

describe('hashcash permission on the gateway', () => {
  let gw: Gateway;

  beforeAll(async () => {
    assertPrivateNetwork();
    gw = await startGateway({ port: 0, transitPort: 0, permission: { hashcash: { bits: 12 } } });
  });

  afterAll(async () => {
    await gw?.close();
    await cleanup();
  });

  it('two Burrow clients solve the stamp and complete a wormhole', async () => {
    const [a, b] = await Promise.all([burrow(gw.url), burrow(gw.url)]);
    expect((await a.welcome)['permission-required']).toMatchObject({ hashcash: { bits: 12, resource: expect.any(String) as unknown } });
    b.setCode(await a.allocateCode());
    const got = b.receiveText();
    await a.sendText('paid in hashcash');
    expect(await got).toBe('paid in hashcash');
    await Promise.all([a.close(), b.close()]);
  });

  it('a client that binds without a stamp is refused with the protocol error', async () => {
    const { welcome, answers } = await bindWithoutStamp(gw.url);
    expect(welcome['permission-required']).toMatchObject({ hashcash: { bits: 12 } });
    expect(answers).toMatchObject([
      { type: 'ack', id: 'b1' },
      { type: 'error', error: ERR_PERMISSION_REQUIRED, orig: { type: 'bind' } },
    ]);
  });

  it('the Debian wormhole 0.12 CLI (no hashcash support) fails at once with the server error', async () => {
    const sender = runWormhole(['send', '--text', 'no stamp'], { relayUrl: gw.url, transitHelper: gw.transitHint!, stdin: '', timeoutMs: 20_000 });
    const result = await sender.result;
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(ERR_PERMISSION_REQUIRED);
  });
});
