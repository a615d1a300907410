/**
 * remote-v1 on the client (rendezvous and code: `@burrow/protocol/agent`
 * remote-v1): meet the agent at this window's rendezvous, derived from the
 * pairing secret, run the wormhole with the derived code (the SPAKE2 proves
 * the pairing both ways), connect, then open the control stream on which the
 * agent accepts us and would announce a revocation.
 */
import type { Connection } from '@burrow/client';
import { WormholeError, anySignal } from '@burrow/protocol';
import { REMOTE_APPID, encodeHeader, parseResponse, rendezvous, rendezvousWindow } from '@burrow/protocol/agent';
import type { PairingInfo, Pairings } from '@burrow/store';
import { readHeader, writeAll } from '../rpc.js';
import { abandon, openWormhole } from '../wormhole.js';
import { AgentSession } from './agent-session.js';
import type { ConnectAgentOptions, RemoteConnectOptions } from './connect.js';
import { bestEffort, informational } from '../ignore.js';

/** Reconnect through the mailbox; rejects as {@link connectAgent} documents. */
export async function connectRemote(options: ConnectAgentOptions, remote: RemoteConnectOptions, pairings: Pairings, selfId: string, pairing: PairingInfo): Promise<AgentSession> {
  const deadline = AbortSignal.timeout(remote.timeoutMs ?? 30_000);
  const signal = anySignal(options.signal, deadline)!;
  const secret = await pairings.secret(pairing.id);
  if (!secret) throw new WormholeError('Revoked', `the pairing with ${pairing.name} was revoked`);
  let code: string;
  try {
    const window = rendezvousWindow((remote.now ?? Date.now)(), remote);
    code = rendezvous(secret, { agentId: pairing.id, clientId: selfId, window }).code;
  } finally {
    secret.fill(0);
  }
  const w = await openWormhole({ mailbox: remote.mailbox, appid: REMOTE_APPID, WebSocket: remote.WebSocket, transport: remote.transport, RTCPeerConnection: remote.RTCPeerConnection }, signal);
  let connection: Connection | undefined;
  try {
    w.setCode(code);
    connection = await w.connect({ ...remote.connect, signal });
    await w.close().catch(bestEffort);
    const control = await connection.openStream({ signal });
    await writeAll(control.writable, encodeHeader({ method: 'control', params: {} }));
    const { header, rest } = await readHeader(control.readable);
    const accepted = parseResponse(header);
    if (!accepted.ok) throw new WormholeError(accepted.error.code, accepted.error.message, { blame: 'peer' });
    await pairings.touch(pairing.id).catch(informational);
    const conn = connection;
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
    const closed = Promise.all([conn.closed.then(() => undefined, (e: unknown) => e), revoked]).then(([failure, notice]) => {
      if (notice) throw notice;
      if (failure !== undefined) throw failure;
    });
    void revoked.then((notice) => notice && conn.close('revoked').catch(bestEffort));
    return new AgentSession(pairing, conn, closed);
  } catch (err) {
    await abandon(w, err, 'remote reconnect failed');
    await connection?.close('failed').catch(bestEffort);
    if (err instanceof WormholeError && err.code === 'WrongPassword') {
      throw new WormholeError('Unpaired', `whoever answered at the rendezvous could not prove the pairing with ${pairing.name}: not the agent you paired with`, { cause: err, blame: 'peer' });
    }
    if (deadline.aborted && !options.signal?.aborted) {
      throw new WormholeError('Timeout', `${pairing.name} did not answer at the remote rendezvous: it is offline, not listening remotely, or has revoked this pairing`, { cause: err });
    }
    throw err;
  }
}
