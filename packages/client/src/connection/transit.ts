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
import type { ConnectorFactory } from './types.js';

export { MUX_V1 };
export const MUX_TRANSIT_PURPOSE = 'burrow/mux-v1/transit-key';

export type RelayOptions = TransitOptions;

export const transitMuxConnector: ConnectorFactory<RelayOptions> = (options) => ({
  name: MUX_V1,
  async connect(ctx) {
    ctx.signal?.throwIfAborted();
    const signal = ctx.signal ? { signal: ctx.signal } : {};
    const key = transitKey(await ctx.deriveKey(MUX_TRANSIT_PURPOSE, 32));
    const transit = await TransitConnector.create({ ...options, role: ctx.role === 'leader' ? 'sender' : 'receiver', key }, signal);
    try {
      ctx.signalling.send({ transit: transit.message });
      const body = await ctx.signalling.next(signal);
      if (typeof body['transit'] !== 'object' || body['transit'] === null) throw new WormholeError('RemoteProtocol', 'mux-v1: expected the peer\'s transit hints');
      transit.addPeerHints(parseTransitHints(body['transit']));
      const t = await transit.connect(signal);
      return new MuxConnection({ pipe: t, role: ctx.role, kind: t.kind, path: t.description });
    } catch (err) {
      transit.close();
      throw err;
    }
  },
});
