import { assertPrivateNetwork } from './net.js';
import { startMailboxServer, startTransitRelay, type MailboxServer, type TransitRelay } from './servers.js';

/** Debian's mailbox server and transit relay, side by side on loopback. */
export interface DebianPeers {
  readonly mailbox: MailboxServer;
  readonly relay: TransitRelay;
  /** Stop both (each is also stopped by `cleanup()`). */
  stop(): Promise<void>;
}

/**
 * The set-up of every interop test and benchmark against real peers: check
 * that this runs in a private network namespace (throws synchronously, before
 * anything is started, when not), then start Debian's mailbox server and
 * transit relay together.
 *
 *   const [peers] = await Promise.all([startDebianPeers(), otherSetUp()]);
 */
export function startDebianPeers(): Promise<DebianPeers> {
  assertPrivateNetwork();
  return Promise.all([startMailboxServer(), startTransitRelay()]).then(([mailbox, relay]) => ({
    mailbox,
    relay,
    stop: async () => {
      await Promise.allSettled([mailbox.stop(), relay.stop()]);
    },
  }));
}
