/**
 * Telling a revoked client it was revoked (`@burrow/protocol/agent`
 * revocation-notice): wait at this window's notice rendezvous, derived from
 * the notice key kept in the revoked record; to whoever proves it holds
 * that key (the SPAKE2), send the notice once, then forget the key.
 */
import { WormholeError, withSignal } from '@burrow/protocol';
import { encodeRevocationNotice, noticeRendezvous, shortId } from '@burrow/protocol/agent';
import { MAX_RETRY_MS, pause, remoteMailbox, type RemoteContext } from './remote-context.js';
import { abandon, openWormhole } from './wormhole.js';

/** Listen for one revoked client at its notice rendezvous for `window`, until told, `signal` fires or the key is gone. */
export async function listenForNotice(ctx: RemoteContext, pairingId: string, window: number, signal: AbortSignal): Promise<void> {
  let delay = ctx.remote.retryMs ?? 1000;
  while (!signal.aborted && ctx.running()) {
    let w: Awaited<ReturnType<typeof openWormhole>> | undefined;
    try {
      const notice = await ctx.store.notice(pairingId);
      if (!notice) return; // told already (or removed): reconcile() forgets this listener
      let code: string;
      try {
        code = noticeRendezvous(notice.key, { agentId: ctx.id, clientId: pairingId, window }).code;
      } finally {
        notice.key.fill(0);
      }
      w = await openWormhole(remoteMailbox(ctx, false), signal);
      w.setCode(code);
      await withSignal(w.peerVersions, signal); // the SPAKE2 and versions: the client holds the key
      w.sendMessage(encodeRevocationNotice(notice.revokedAt));
      await w.close();
      w = undefined;
      await ctx.store.noticeDelivered(pairingId);
      ctx.reporter.log('info', 'agent.revocation-told', { pairing: shortId(pairingId) });
      ctx.reporter.publish({ type: 'revocation-told', pairingId });
      return;
    } catch (err) {
      if (w) await abandon(w, err, 'revocation notice failed');
      if (signal.aborted || !ctx.running()) return;
      const code = err instanceof WormholeError ? err.code : 'Error';
      if (code === 'WrongPassword') ctx.reporter.refuse({ reason: 'proof', message: 'someone at the revocation notice rendezvous could not prove the pairing' }, pairingId);
      else ctx.reporter.log('warn', 'agent.remote-failed', { pairing: shortId(pairingId), error: code, notice: true });
      await pause(delay, signal);
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
}
