/**
 * The relay / direct fallback: Transit (the gateway relay over WebSocket
 * from a browser, TCP relays and direct TCP from Node) carrying mux-v1.
 * Signalling (`{"mux-v1": BODY}`): each side sends exactly one
 * `{"transit": HINTS}` (the `transit` message body of the file-transfer
 * protocol) and reads the peer's. The Transit key is
 * derive_key(key, "burrow/mux-v1/transit-key"); the leader takes the
 * Transit sender role.
 */
import { parseTransitHints, transitKey, WormholeError } from '@burrow/protocol';
import { TransitConnector, type TransitOptions } from '../transit/connector.js';
import { MUX_V1 } from './advertise.js';
import { MuxConnection } from './mux.js';
import type { ConnectorContext, ConnectorFactory } from './types.js';

export { MUX_V1 };
export const MUX_TRANSIT_PURPOSE = 'burrow/mux-v1/transit-key';

export type RelayOptions = TransitOptions;

export const transitMuxConnector: ConnectorFactory<RelayOptions> = (options) => ({
  name: MUX_V1,
  async connect(ctx) {
    ctx.signal?.throwIfAborted();
    const transit = await exchangeTransitHints(ctx, { ...options, purpose: MUX_TRANSIT_PURPOSE, namespace: MUX_V1 });
    try {
      const t = await transit.connect(ctx.signal ? { signal: ctx.signal } : {});
      return new MuxConnection({ pipe: t, role: ctx.role, kind: t.kind, path: t.description });
    } catch (err) {
      transit.close();
      throw err;
    }
  },
});

export interface HintExchange extends TransitOptions {
  /** derive_key purpose of the Transit key. */
  purpose: string;
  /** For errors: whose hints were expected (`mux-v1`, `direct-v1`). */
  namespace: string;
  /** Drop relays on both sides: our proposals and the peer's (direct-v1). */
  directOnly?: boolean;
}

/**
 * What mux-v1 and direct-v1 both start with: our Transit connector (the
 * leader is Transit's sender), our `{"transit": HINTS}` sent, the peer's
 * read and added. The connector is closed if anything fails.
 */
export async function exchangeTransitHints(ctx: ConnectorContext, init: HintExchange): Promise<TransitConnector> {
  const { purpose, namespace, directOnly, ...options } = init;
  const signal = ctx.signal ? { signal: ctx.signal } : {};
  const key = transitKey(await ctx.deriveKey(purpose, 32));
  const transit = await TransitConnector.create({ ...options, ...(directOnly ? { relays: [] } : {}), role: ctx.role === 'leader' ? 'sender' : 'receiver', key }, signal);
  try {
    ctx.signalling.send({ transit: transit.message });
    const body = await ctx.signalling.next(signal);
    if (typeof body['transit'] !== 'object' || body['transit'] === null) throw new WormholeError('RemoteProtocol', `${namespace}: expected the peer's transit hints`);
    const hints = parseTransitHints(body['transit']);
    transit.addPeerHints(directOnly ? { ...hints, relays: [] } : hints);
    return transit;
  } catch (err) {
    transit.close();
    throw err;
  }
}
