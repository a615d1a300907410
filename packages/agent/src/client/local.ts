/**
 * The client's side of the agent-v1 handshake (messages, proofs and keys:
 * `@burrow/protocol/agent` agent-v1) over the agent's local WebSocket:
 * hello → challenge (the agent proves first) → proof → ready, then mux-v1
 * over the encrypted records.
 */
import { MuxConnection, systemRandom } from '@burrow/client';
import { WormholeError } from '@burrow/protocol';
import { AGENT_PROTOCOL_VERSION, CLOSE_CODES, encodeHandshake, newNonce, parseHandshake, proof, sessionKeys, verifyProof, type HandshakeParams } from '@burrow/protocol/agent';
import type { PairingInfo, Pairings } from '@burrow/store';
import { AgentSocket, type SocketLike } from '../socket.js';
import { AgentSession } from './agent-session.js';
import type { AgentWebSocketConstructor, ConnectAgentOptions } from './connect.js';
import { informational } from '../ignore.js';

/** Authenticate to the agent at its local endpoint; rejects as {@link connectAgent} documents. */
export async function connectLocal(options: ConnectAgentOptions, pairings: Pairings, selfId: string, pairing: PairingInfo): Promise<AgentSession> {
  const { signal } = options;
  const url = options.url ?? pairing.endpoint;
  if (!url) throw new WormholeError('Usage', 'the agent did not say where it listens: pass options.url');
  const secret = await pairings.secret(pairing.id);
  if (!secret) throw new WormholeError('Revoked', `the pairing with ${pairing.name} was revoked`);
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: AgentWebSocketConstructor }).WebSocket;
  if (!Ctor) throw new WormholeError('Usage', 'no WebSocket implementation: pass options.WebSocket');
  const random = options.random ?? systemRandom;
  const deadline = AbortSignal.timeout(options.handshakeTimeoutMs ?? 10_000);
  const handshakeSignal = signal ? AbortSignal.any([signal, deadline]) : deadline;

  let ws: SocketLike;
  try {
    ws = new Ctor(url);
  } catch (cause) {
    secret.fill(0);
    throw new WormholeError('Usage', `cannot open a WebSocket to ${url}`, { cause });
  }
  const socket = new AgentSocket(ws);
  try {
    await opened(socket, url, handshakeSignal);
    const clientNonce = newNonce(random);
    socket.sendText(encodeHandshake({ type: 'hello', v: AGENT_PROTOCOL_VERSION, id: selfId, nonce: clientNonce }));
    const challenge = parseHandshake(await socket.next(handshakeSignal));
    if (challenge.type === 'error') throw new WormholeError(challenge.code, challenge.message);
    if (challenge.type !== 'challenge') throw new WormholeError('RemoteProtocol', `agent-v1: expected a challenge, got ${challenge.type}`);
    const params: HandshakeParams = { clientId: selfId, agentId: pairing.id, clientNonce, agentNonce: challenge.nonce };
    if (challenge.id !== pairing.id || !verifyProof(secret, 'agent', params, challenge.proof)) {
      socket.close(CLOSE_CODES['Unpaired'], 'agent proof failed');
      throw new WormholeError('Unpaired', `whatever listens at ${url} could not prove the pairing with ${pairing.name}: not the agent you paired with`, { blame: 'peer' });
    }
    socket.sendText(encodeHandshake({ type: 'proof', proof: proof(secret, 'client', params) }));
    const ready = parseHandshake(await socket.next(handshakeSignal));
    if (ready.type === 'error') throw new WormholeError(ready.code, ready.message);
    if (ready.type !== 'ready') throw new WormholeError('RemoteProtocol', `agent-v1: expected ready, got ${ready.type}`);
    const keys = sessionKeys(secret, params);
    let mux: MuxConnection | undefined;
    const pipe = socket.records(keys.clientToAgent, keys.agentToClient, (control) => {
      if (control.type === 'revoked') {
        mux?.fail(new WormholeError('Revoked', control.message));
        socket.close();
      }
    });
    mux = new MuxConnection({ pipe, role: 'leader', kind: 'direct', path: url });
    await pairings.touch(pairing.id).catch(informational);
    return new AgentSession(pairing, mux);
  } catch (err) {
    socket.close();
    throw err instanceof WormholeError ? err : new WormholeError('Connection', `agent handshake with ${url} failed`, { cause: err });
  } finally {
    secret.fill(0);
  }
}

function opened(socket: AgentSocket, url: string, signal: AbortSignal): Promise<void> {
  if (socket.isOpen) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const ws = socket.socket;
    const cleanup = () => {
      ws.removeEventListener('open', onOpen);
      signal.removeEventListener('abort', onAbort);
    };
    const onOpen = () => {
      cleanup();
      resolve();
    };
    const onAbort = () => {
      cleanup();
      reject(new WormholeError('Timeout', `no answer from the agent at ${url}`, { cause: signal.reason }));
    };
    ws.addEventListener('open', onOpen);
    signal.addEventListener('abort', onAbort, { once: true });
    void socket.closed.then(() => {
      cleanup();
      reject(
        new WormholeError(
          'Connection',
          `could not open the agent connection at ${url}: the agent is not running there, or it refused this origin or Host (its log says which)`,
        ),
      );
    });
  });
}
