// TURN credentials minted by the gateway, checked by Debian coturn
// (`use-auth-secret`): each welcome carries its own short-lived credential,
// coturn allocates with it (turnutils_uclient), and refuses one that expired.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, startCoturn, type Coturn } from '@burrow/testkit';
import { ICE_WELCOME_KEY } from '@burrow/protocol/turn';
import { startGateway, type Gateway } from '../src/index.js';
import { wsMailboxClient } from '../test/support/raw-mailbox.js';

const SECRET = 'burrow-test-secret';

interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/** Allocate on coturn with `username`/`credential` (two clients relaying to each other); true if it worked. */
function allocates(port: number, username: string, credential: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('turnutils_uclient', ['-y', '-c', '-n', '2', '-u', username, '-w', credential, '-p', String(port), '127.0.0.1'], { timeout: 15_000 }, (err, stdout, stderr) =>
      resolve(!err && !/Cannot complete Allocation/.test(stdout + stderr)),
    );
  });
}

async function welcomeIce(gw: Gateway): Promise<IceServer[]> {
  const c = await wsMailboxClient(gw.url);
  const welcome = c.frames[0]!['welcome'] as Record<string, unknown>;
  c.close();
  return welcome[ICE_WELCOME_KEY] as IceServer[];
}

describe('TURN credentials from the gateway, with Debian coturn', () => {
  let turn: Coturn;
  let port: number;
  const gateways: Gateway[] = [];
  const gateway = async (ttlSeconds: number): Promise<Gateway> => {
    const gw = await startGateway({
      port: 0,
      transitPort: null,
      stunUrls: [`stun:127.0.0.1:${port}`],
      turn: { urls: [`turn:127.0.0.1:${port}`], secret: SECRET, ttlSeconds },
    });
    gateways.push(gw);
    return gw;
  };

  beforeAll(async () => {
    assertPrivateNetwork();
    turn = await startCoturn({ secret: SECRET });
    port = turn.port;
  });

  afterAll(async () => {
    for (const gw of gateways) await gw.close();
    await turn?.stop();
  });

  it('each welcome carries STUN and a fresh TURN credential that coturn accepts', async () => {
    const gw = await gateway(600);
    const [stun, relay] = await welcomeIce(gw);
    expect(stun).toEqual({ urls: [`stun:127.0.0.1:${port}`] });
    expect(relay).toMatchObject({ urls: [`turn:127.0.0.1:${port}`], username: expect.stringMatching(/^\d+:burrow$/) as unknown });
    const expiry = Number(relay!.username!.split(':')[0]);
    expect(expiry * 1000).toBeGreaterThan(Date.now() + 590_000);
    expect(await allocates(port, relay!.username!, relay!.credential!)).toBe(true);
    // The long-term secret is never in the welcome.
    expect(JSON.stringify(await welcomeIce(gw))).not.toContain(SECRET);
  });

  it('coturn refuses a credential that expired, and one with a wrong secret', async () => {
    const expired = (await welcomeIce(await gateway(-60)))[1]!;
    expect(await allocates(port, expired.username!, expired.credential!)).toBe(false);
    const fresh = (await welcomeIce(await gateway(600)))[1]!;
    expect(await allocates(port, fresh.username!, `x${fresh.credential!.slice(1)}`)).toBe(false);
  });
});
