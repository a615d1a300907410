/**
 * The set-up every extension test shares: the example extension built into
 * a temp dir, a gateway (mailbox only) and an echo service for forwards.
 */
import { afterAll, beforeAll } from 'vitest';
import { assertPrivateNetwork, cleanup, removeDir, startEcho, type EchoService } from '@burrow/testkit';
import { startGateway, type Gateway } from '@burrow/gateway';
import { buildExtension } from './extension.js';

/** What {@link useExtensionRig} set up; read it inside tests (it is filled in `beforeAll`). */
export interface ExtensionRig {
  readonly extDir: string;
  readonly gateway: Gateway;
  readonly echo: EchoService;
}

/** Register `beforeAll`/`afterAll` hooks in the calling suite that build the extension and start a gateway and an echo service, then stop them. */
export function useExtensionRig(): ExtensionRig {
  const rig = {} as { extDir: string; gateway: Gateway; echo: EchoService };
  beforeAll(async () => {
    assertPrivateNetwork();
    rig.extDir = await buildExtension();
    [rig.gateway, rig.echo] = await Promise.all([startGateway({ port: 0, transitPort: null }), startEcho()]);
  });
  afterAll(async () => {
    await Promise.all([rig.gateway?.close(), rig.echo?.close()]);
    await cleanup();
    if (rig.extDir) removeDir(rig.extDir);
  });
  return rig;
}
