/**
 * remote-v1 on the client (rendezvous and code: `@burrow/protocol/agent`
 * remote-v1): meet the agent at this window's rendezvous, derived from the
 * pairing secret, trying the window's candidates in order and moving on
 * when one is `Crowded` (squatted); run the wormhole with the derived code
 * (the SPAKE2 proves the pairing both ways), connect, then open the control
 * stream on which the agent accepts us and would announce a revocation.
 * Beside it, wait at the revocation notice rendezvous: meeting the agent
 * there means this pairing was revoked (forgotten here too, then `Revoked`).
 */
import type { Connection, Wormhole } from '@burrow/client';
import { WormholeError, anySignal } from '@burrow/protocol';
import {
  REMOTE_APPID,
  REMOTE_CANDIDATES,
  encodeHeader,
  noticeRendezvous,
  parseResponse,
  parseRevocationNotice,
  rendezvous,
  rendezvousWindow,
  revocationNoticeKey,
} from '@burrow/protocol/agent';
import type { PairingInfo, Pairings } from '@burrow/store';
import { readHeader, writeAll } from '../rpc.js';
import { abandon, openWormhole } from '../wormhole.js';
import { AgentSession } from './agent-session.js';
import type { ConnectAgentOptions, RemoteConnectOptions } from './connect.js';
import { bestEffort, informational } from '../ignore.js';

/** Reconnect through the mailbox; rejects as {@link connectAgent} documents. */
export async function connectRemote(options: ConnectAgentOptions, remote: RemoteConnectOptions, pairings: Pairings, selfId: string, pairing: PairingInfo): Promise<AgentSession> {
  const deadline = AbortSignal.timeout(remote.timeoutMs ?? 30_000);
  const stop = new AbortController();
  const signal = anySignal(options.signal, deadline, stop.signal)!;
  const secret = await pairings.secret(pairing.id);
  if (!secret) throw new WormholeError('Revoked', `the pairing with ${pairing.name} was revoked`);
  const where = { agentId: pairing.id, clientId: selfId, window: rendezvousWindow((remote.now ?? Date.now)(), remote) };
  let codes: string[];
  let noticeCode: string;
  try {
    codes = [...Array(REMOTE_CANDIDATES).keys()].map((candidate) => rendezvous(secret, { ...where, candidate }).code);
    const key = revocationNoticeKey(secret);
    noticeCode = noticeRendezvous(key, where).code;
    key.fill(0);
  } finally {
    secret.fill(0);
  }
  const notice = waitForNotice(remote, noticeCode, signal);
  const meeting = meetAgent(remote, codes, pairing, signal);
  let session: AgentSession | undefined;
  try {
    const first = await Promise.race([meeting.then((m) => ({ m })), notice.then((revokedAt) => ({ revokedAt }))]);
    if ('revokedAt' in first) {
      await pairings.revoke(pairing.id).catch(informational);
      throw new WormholeError('Revoked', `${pairing.name} revoked this pairing (${new Date(first.revokedAt).toISOString()}): pair again with a code`, { blame: 'peer' });
    }
    session = await accepted(first.m, pairings, pairing, signal);
    return session;
  } catch (err) {
    if (deadline.aborted && !options.signal?.aborted && !(err instanceof WormholeError && err.code === 'Revoked')) {
      throw new WormholeError('Timeout', `${pairing.name} did not answer at the remote rendezvous: it is offline, not listening remotely, or has revoked this pairing`, { cause: err });
    }
    throw err;
  } finally {
    stop.abort(new WormholeError('Aborted', 'remote reconnect settled'));
    // A meeting that lost the race (or was refused) is closed; the one we return is the session's.
    void meeting.then((m) => (session ? m.wormholeClosed : m.connection.close('abandoned'))).catch(bestEffort);
  }
}

/** Try the window's candidates in order until one meets the agent (a `Crowded` one is squatted: next). */
async function meetAgent(remote: RemoteConnectOptions, codes: readonly string[], pairing: PairingInfo, signal: AbortSignal): Promise<{ connection: Connection; wormholeClosed: Promise<void> }> {
  for (let i = 0; ; i++) {
    const w = await openWormhole({ mailbox: remote.mailbox, appid: REMOTE_APPID, WebSocket: remote.WebSocket, transport: remote.transport, RTCPeerConnection: remote.RTCPeerConnection }, signal);
    try {
      w.setCode(codes[i]!);
      const connection = await w.connect({ ...remote.connect, signal });
      return { connection, wormholeClosed: w.close().catch(bestEffort) };
    } catch (err) {
      await abandon(w, err, 'remote reconnect failed');
      if (err instanceof WormholeError && err.code === 'Crowded' && i + 1 < codes.length && !signal.aborted) continue;
      if (err instanceof WormholeError && err.code === 'WrongPassword') {
        throw new WormholeError('Unpaired', `whoever answered at the rendezvous could not prove the pairing with ${pairing.name}: not the agent you paired with`, { cause: err, blame: 'peer' });
      }
      throw err;
    }
  }
}

/** Wait at the revocation notice rendezvous: resolves with when we were revoked; never settles otherwise (until `signal`). */
function waitForNotice(remote: RemoteConnectOptions, code: string, signal: AbortSignal): Promise<number> {
  return new Promise<number>((resolve) => {
    void (async () => {
      let w: Wormhole | undefined;
      try {
        w = await openWormhole({ mailbox: remote.mailbox, appid: REMOTE_APPID, WebSocket: remote.WebSocket, transport: remote.transport, RTCPeerConnection: null }, signal);
        w.setCode(code);
        const said = parseRevocationNotice(await w.nextMessage({ signal }));
        await w.close().catch(bestEffort);
        if (said) resolve(said.revokedAt);
      } catch (err) {
        // Nobody there (the usual case), or someone who cannot prove the key: no notice.
        if (w) await abandon(w, err, 'no revocation notice');
      }
    })();
  });
}

/** Open the control stream on which the agent accepts us, and would later announce a revocation. */
async function accepted(met: { connection: Connection }, pairings: Pairings, pairing: PairingInfo, signal: AbortSignal): Promise<AgentSession> {
  const connection = met.connection;
  try {
    const control = await connection.openStream({ signal });
    await writeAll(control.writable, encodeHeader({ method: 'control', params: {} }));
    const { header, rest } = await readHeader(control.readable);
    const answer = parseResponse(header);
    if (!answer.ok) throw new WormholeError(answer.error.code, answer.error.message, { blame: 'peer' });
    await pairings.touch(pairing.id).catch(informational);
    // The agent answers on the control stream a second time only to say we were revoked.
    const revoked = (async () => {
      try {
        const { header: notice } = await readHeader(rest);
        const r = parseResponse(notice);
        return r.ok ? undefined : new WormholeError(r.error.code, r.error.message, { blame: 'peer' });
      } catch {
        return undefined;
      }
    })();
    const closed = Promise.all([connection.closed.then(() => undefined, (e: unknown) => e), revoked]).then(([failure, notice]) => {
      if (notice) throw notice;
      if (failure !== undefined) throw failure;
    });
    void revoked.then((notice) => notice && connection.close('revoked').catch(bestEffort));
    return new AgentSession(pairing, connection, closed);
  } catch (err) {
    await connection.close('failed').catch(bestEffort);
    throw err;
  }
}
