/**
 * The shared set-up of the transfer interop tests: Burrow peers wired the
 * way the CLI wires them (`ws` for the mailbox, Node TCP for transit), and a
 * rig that starts the Debian mailbox server (and, if asked, the Debian
 * transit relay) with a scratch folder before the suite and removes it all
 * after.
 *
 *   const rig = useTransferRig('file', { relay: true, setup: (dir) => randomFile(join(dir, 'f'), 1e6) });
 *   it('…', async () => { const w = await burrow(rig.mailbox.url); … });
 */
import { afterAll, beforeAll } from 'vitest';
import { createWormhole, type Wormhole, type WebSocketConstructor } from '@burrow/client';
import { NodeWebSocket } from '@burrow/client/node';
import {
  assertPrivateNetwork,
  cleanup,
  makeTempDir,
  removeDir,
  startMailboxServer,
  startTransitRelay,
  type MailboxServer,
  type TransitRelay,
} from '@burrow/testkit';

/** A Burrow wormhole on `mailbox`, through `ws`. */
export async function burrow(mailbox: string, signal?: AbortSignal): Promise<Wormhole> {
  return createWormhole({ mailbox, WebSocket: NodeWebSocket as unknown as WebSocketConstructor, ...(signal ? { signal } : {}) });
}

export interface TransferRig {
  readonly mailbox: MailboxServer;
  /** The Debian transit relay (only with `relay: true`). */
  readonly relay: TransitRelay;
  /** A scratch folder for the whole suite. */
  readonly dir: string;
}

export interface TransferRigOptions {
  /** Also start the Debian transit relay. */
  relay?: boolean;
  /** Fill the scratch folder (fixture files) once the servers are up. */
  setup?: (dir: string) => void | Promise<void>;
  /** Bound of the set-up (default 60 s; large fixtures want more). */
  setupTimeoutMs?: number;
}

/**
 * Register `beforeAll`/`afterAll` hooks for one suite and return the rig;
 * its fields are readable inside tests (not at collection time).
 */
export function useTransferRig(name: string, options: TransferRigOptions = {}): TransferRig {
  let state: { mailbox: MailboxServer; relay: TransitRelay | undefined; dir: string } | undefined;
  const ready = () => {
    if (!state) throw new Error('the transfer rig is used before its beforeAll ran');
    return state;
  };
  beforeAll(async () => {
    assertPrivateNetwork();
    const [mailbox, relay] = await Promise.all([startMailboxServer(), options.relay ? startTransitRelay() : undefined]);
    state = { mailbox, relay, dir: makeTempDir(`burrow-xfer-${name}-`) };
    await options.setup?.(state.dir);
  }, options.setupTimeoutMs ?? 60_000);
  afterAll(async () => {
    await cleanup();
    if (state) removeDir(state.dir);
  });
  return {
    get mailbox() {
      return ready().mailbox;
    },
    get relay() {
      const relay = ready().relay;
      if (!relay) throw new Error('this rig was started without a relay');
      return relay;
    },
    get dir() {
      return ready().dir;
    },
  };
}
