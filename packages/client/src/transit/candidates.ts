/**
 * What the Transit connector races: our hints for the peer (the `transit`
 * message body) and the list of outbound attempts from both sides' hints —
 * direct TCP to the peer's listeners first, then every relay endpoint we can
 * dial (delayed when there are direct hints, as `transit.py` does).
 */
import { TRANSIT_ABILITIES, encodeTransitHints, mergeRelays, type RelayHint, type TcpHint, type TransitHints } from '@burrow/protocol';
import type { TransitKind } from './connection.js';
import type { ByteChannel, TransitDialers, TransitListener } from './types.js';

/** One way to reach the peer, not yet tried. */
export interface Attempt {
  /** For logs and getStats, e.g. `->tcp:10.0.0.1:4001` or `->relay:ws://…/relay`. */
  readonly description: string;
  readonly kind: TransitKind;
  /** Wait this long before dialing (relays, when the peer gave direct hints). */
  readonly delayMs: number;
  readonly open: (signal: AbortSignal) => Promise<ByteChannel>;
}

/** The body of our `transit` message: our listener's addresses and the relays we propose. */
export function ourTransitMessage(listener: TransitListener | undefined, relays: readonly RelayHint[]): Record<string, unknown> {
  const direct: TcpHint[] = (listener?.hints ?? []).map((h) => ({ hostname: h.hostname, port: h.port, priority: 0 }));
  return encodeTransitHints({ abilities: TRANSIT_ABILITIES, direct, relays: [...relays] });
}

/** Every outbound attempt for these hints with these dialers, in the order to start them. */
export function outboundAttempts(peer: TransitHints, ourRelays: readonly RelayHint[], dialers: TransitDialers, relayDelayMs: number): Attempt[] {
  const { tcp, websocket: ws, webtransport: wt } = dialers;
  const attempts: Attempt[] = [];
  let relayDelay = 0;
  if (tcp) {
    for (const h of peer.direct) {
      relayDelay = relayDelayMs;
      attempts.push({ description: `->tcp:${h.hostname}:${h.port}`, kind: 'direct', delayMs: 0, open: (signal) => tcp(h.hostname, h.port, { signal }) });
    }
  }
  // Our relays and theirs, highest priority first; one endpoint per relay kind we can dial.
  const seen = new Set<string>();
  const relay = (description: string, open: Attempt['open']) => {
    if (seen.has(description)) return;
    seen.add(description);
    attempts.push({ description, kind: 'relay', delayMs: relayDelay, open });
  };
  for (const r of mergeRelays([...ourRelays, ...peer.relays])) {
    if (tcp) for (const t of [...r.tcp].sort((a, b) => b.priority - a.priority)) relay(`->relay:tcp:${t.hostname}:${t.port}`, (signal) => tcp(t.hostname, t.port, { signal }));
    if (ws) for (const url of r.websocket) relay(`->relay:${url}`, (signal) => ws(url, { signal }));
    if (wt) for (const url of r.webtransport ?? []) relay(`->relay:${url}`, (signal) => wt(url, { signal }));
  }
  return attempts;
}
