/**
 * Offering a pairing by code (pair-v1): allocate a code on the mailbox, show
 * it, and record the client that enters it, if its origin is allowed.
 */
import WebSocket from 'ws';
import type { CallOptions, WebSocketConstructor } from '@burrow/client';
import { WormholeError, anySignal, deferred } from '@burrow/protocol';
import { PAIR_APPID, shortId } from '@burrow/protocol/agent';
import type { PairingInfo, Pairings } from '@burrow/store';
import type { AgentReporter } from './events.js';
import type { AgentOptions, PairingOffer } from './options.js';
import { runPairing } from './pair.js';
import type { Policy } from './policy.js';
import { abandon, openWormhole } from './wormhole.js';

export interface OfferContext {
  readonly id: string;
  readonly name: string;
  /** Where the agent listens, told to the client. */
  readonly url: string;
  readonly options: AgentOptions;
  readonly policy: Policy;
  readonly store: Pairings;
  readonly reporter: AgentReporter;
  running(): boolean;
  /** A new client pairing is stored. */
  paired(pairing: PairingInfo): void;
}

/** Offer one pairing; `abort` ends it early (shutdown). */
export function offerPairing(ctx: OfferContext, abort: AbortController, options: CallOptions & { codeLength?: number } = {}): PairingOffer {
  const mailbox = ctx.options.mailbox;
  const signal = anySignal(options.signal, abort.signal)!;
  const code = deferred<string>();
  const paired = (async () => {
    if (!mailbox) throw new WormholeError('Usage', 'the agent has no mailbox to pair through: pass options.mailbox (--relay-url)');
    if (!ctx.running()) throw new WormholeError('Closed', 'the agent is shut down');
    const w = await openWormhole(
      {
        mailbox,
        appid: PAIR_APPID,
        RTCPeerConnection: null,
        WebSocket: ctx.options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
        transport: ctx.options.transport,
        bindSignal: true,
      },
      signal,
    );
    try {
      code.resolve(await w.allocateCode(options.codeLength ?? 2, { signal }));
      const pairing = await runPairing(w, { role: 'agent', id: ctx.id, name: ctx.name, endpoint: ctx.url }, ctx.store, {
        signal,
        accept: (peer) => (peer.origin !== undefined ? ctx.policy.checkOrigin(peer.origin)?.message : undefined),
      });
      await w.close();
      ctx.reporter.log('info', 'agent.paired', { pairing: shortId(pairing.id), name: pairing.name, ...(pairing.origin ? { origin: pairing.origin } : {}) });
      ctx.reporter.publish({ type: 'paired', pairing });
      ctx.paired(pairing);
      return pairing;
    } catch (err) {
      await abandon(w, err, 'pairing failed');
      ctx.reporter.log('warn', 'agent.pairing-failed', { error: err instanceof WormholeError ? err.code : 'Error' });
      throw err;
    }
  })();
  paired.catch((err: unknown) => code.reject(err));
  return { code: code.promise, paired };
}
