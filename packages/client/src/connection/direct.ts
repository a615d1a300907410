/**
 * direct-v1: before WebRTC, two native peers (both advertise `direct-v1`)
 * try a direct TCP Transit connection carrying mux-v1 for a short head
 * start. On one machine or a LAN it connects in milliseconds and moves
 * bytes several times faster than a data channel; across NATs it fails and
 * WebRTC goes on as before.
 *
 *   both:     {"direct-v1": {"transit": HINTS}}   (direct hints only, no relays)
 *   leader:   {"direct-v1": {"giveup": REASON}}   (only when it gave up)
 *
 * The Transit key is derive_key(key, "burrow/direct-v1/transit-key") (not
 * mux-v1's: the fallback may open a second Transit connection). The leader
 * is Transit's sender, so it alone commits (Transit's "go"): the follower
 * is connected only once the leader is, and falls through only on the
 * leader's give-up — both sides always agree.
 */
import { WormholeError, type Logger } from '@burrow/protocol';
import { DIRECT_V1 } from '@burrow/protocol/webrtc';
import type { TransitConnector } from '../transit/connector.js';
import { exchangeTransitHints } from './transit.js';
import type { DirectTcp } from './advertise.js';
import { MuxConnection } from './mux.js';
import type { Connection, ConnectorContext } from './types.js';

export { DIRECT_V1 };
export const DIRECT_TRANSIT_PURPOSE = 'burrow/direct-v1/transit-key';
/** How long the leader tries before WebRTC (a LAN connects in milliseconds; Python gives direct hints 2 s before relays). */
export const DIRECT_HEAD_START_MS = 1000;
const GAVE_UP = 'connect: direct TCP not reached; on to WebRTC';
/** Longest give-up reason read from the peer. */
const MAX_REASON = 512;

/**
 * Run direct-v1: the connection, or `undefined` when the leader gave up
 * (both sides then go on to WebRTC). Fails only on abort or a peer that
 * breaks the protocol. Give it to `createWormhole({ directTcp })` (Node;
 * `@burrow/client/node` exports it): connect() calls it.
 */
export const directTcp: DirectTcp = async (ctx, options) => {
  ctx.signal?.throwIfAborted();
  // The leader's head start before WebRTC.
  const { headStartMs = DIRECT_HEAD_START_MS, ...transitOptions } = options;
  const leader = ctx.role === 'leader';
  const transit = await exchangeTransitHints(ctx, {
    ...transitOptions,
    purpose: DIRECT_TRANSIT_PURPOSE,
    namespace: DIRECT_V1,
    directOnly: true,
    // The follower waits for the leader's verdict, not for its own clock.
    timeoutMs: leader ? headStartMs : headStartMs + 60_000,
  });
  return leader ? lead(ctx, transit, transitOptions.logger) : follow(ctx, transit, transitOptions.logger);
};

async function lead(ctx: ConnectorContext, transit: TransitConnector, logger: Logger | undefined): Promise<Connection | undefined> {
  try {
    const t = await transit.connect(ctx.signal ? { signal: ctx.signal } : {});
    transit.close(); // the listener and the losers; the winner stays
    return new MuxConnection({ pipe: t, role: ctx.role, kind: t.kind, path: t.description });
  } catch (err) {
    transit.close();
    if (ctx.signal?.aborted) throw err;
    const reason = (err instanceof Error ? err.message : String(err)).slice(0, MAX_REASON);
    ctx.signalling.send({ giveup: reason });
    logger?.debug?.(GAVE_UP, { reason });
    return undefined;
  }
}

async function follow(ctx: ConnectorContext, transit: TransitConnector, logger: Logger | undefined): Promise<Connection | undefined> {
  // The leader's verdict arrives as a message, or as Transit's "go" on a connection.
  const stop = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
  const verdict = ctx.signalling.next({ signal }).then(
    (body) => ({ body }),
    (error: unknown) => ({ error }),
  );
  const connected = transit.connect({ signal }).then(
    (t) => ({ t }),
    // Our own attempt ended (nothing to try, or closed): the leader's verdict still decides.
    () => verdict,
  );
  try {
    const first = await Promise.race([connected, verdict]);
    if ('t' in first) return new MuxConnection({ pipe: first.t, role: ctx.role, kind: first.t.kind, path: first.t.description });
    if ('error' in first) throw first.error;
    const reason = first.body['giveup'];
    if (typeof reason !== 'string') throw new WormholeError('RemoteProtocol', 'direct-v1: expected the leader\'s give-up or a connection');
    logger?.debug?.(GAVE_UP, { reason: reason.slice(0, MAX_REASON) });
    return undefined;
  } finally {
    stop.abort();
    transit.close();
  }
}
