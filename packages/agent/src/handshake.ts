/**
 * The agent's side of the agent-v1 handshake (messages, proofs and keys:
 * `@burrow/protocol/agent` agent-v1) on an accepted WebSocket: hello →
 * challenge → proof → ready, each step checked against the store, every
 * refusal sent to the client, logged and published. An authenticated socket
 * becomes a local session: mux-v1 over encrypted records.
 */
import { MuxConnection } from '@burrow/client';
import { WormholeError, type RandomSource, type WormholeErrorCode } from '@burrow/protocol';
import {
  AGENT_PROTOCOL_VERSION,
  CLOSE_CODES,
  encodeControl,
  encodeHandshake,
  newNonce,
  parseHandshake,
  proof,
  sessionKeys,
  verifyProof,
  type HandshakeParams,
  type SessionKeys,
} from '@burrow/protocol/agent';
import type { PairingInfo, Pairings } from '@burrow/store';
import type { AgentReporter } from './events.js';
import type { Refusal } from './policy.js';
import type { Session } from './sessions.js';
import type { Slot } from './slots.js';
import { AgentSocket, type SessionPipe } from './socket.js';

export interface HandshakeContext {
  readonly id: string;
  readonly store: Pairings;
  readonly reporter: AgentReporter;
  readonly random: RandomSource;
  /** Bound on the whole handshake, in ms. */
  readonly timeoutMs: number;
  /** Take an authenticated session. */
  addSession(session: Session): void;
}

/**
 * The refusal when a pairing is used from the wrong place: a pairing made
 * with an origin is good from that origin only; one made without (a local
 * app) only from a socket without an Origin, never from a browser.
 */
export function checkPairingOrigin(pairing: PairingInfo, origin: string | undefined): Refusal | undefined {
  if (pairing.origin === origin) return undefined;
  if (pairing.origin === undefined) return { reason: 'origin', message: `this pairing was made by a local app (no origin): it cannot be used from '${origin}'` };
  return { reason: 'origin', message: `this pairing belongs to origin '${pairing.origin}', not '${origin ?? '(none)'}'` };
}

/** Authenticate the client on `socket` (its Origin already allowlisted, or absent) and add its session, or refuse it. */
export async function acceptClient(ctx: HandshakeContext, socket: AgentSocket, origin: string | undefined, slot: Slot): Promise<void> {
  const signal = AbortSignal.timeout(ctx.timeoutMs);
  const refuse = (code: WormholeErrorCode, refusal: Refusal, pairingId?: string) => refuseSocket(ctx.reporter, socket, code, refusal, pairingId);
  let secret: Uint8Array | undefined;
  try {
    const hello = parseHandshake(await socket.next(signal));
    slot.heard();
    if (hello.type !== 'hello') return refuse('RemoteProtocol', { reason: 'protocol', message: `expected hello, got ${hello.type}` });
    if (hello.v !== AGENT_PROTOCOL_VERSION) return refuse('RemoteProtocol', { reason: 'protocol', message: `unsupported agent protocol version ${hello.v}` });
    const pairing = await ctx.store.get(hello.id);
    if (!pairing || pairing.peerRole !== 'client') {
      return refuse('Unpaired', { reason: 'unpaired', message: 'this key is not paired with the agent: pair with a code first' }, hello.id);
    }
    const revoked: Refusal = { reason: 'revoked', message: `the pairing '${pairing.name}' was revoked` };
    if (pairing.revokedAt !== undefined) return refuse('Revoked', revoked, hello.id);
    const wrongOrigin = checkPairingOrigin(pairing, origin);
    if (wrongOrigin) return refuse('NotAllowed', wrongOrigin, hello.id);
    secret = await ctx.store.secret(hello.id);
    if (!secret) return refuse('Revoked', revoked, hello.id);
    const agentNonce = newNonce(ctx.random);
    const params: HandshakeParams = { clientId: hello.id, agentId: ctx.id, clientNonce: hello.nonce, agentNonce };
    socket.sendText(encodeHandshake({ type: 'challenge', id: ctx.id, nonce: agentNonce, proof: proof(secret, 'agent', params) }));
    const answer = parseHandshake(await socket.next(signal));
    if (answer.type !== 'proof' || !verifyProof(secret, 'client', params, answer.proof)) {
      return refuse('Unpaired', { reason: 'proof', message: 'the client could not prove the pairing key' }, hello.id);
    }
    // Revoked while we were talking? Check once more, then go.
    if (!(await ctx.store.secret(hello.id))) return refuse('Revoked', revoked, hello.id);
    const full = slot.promote();
    if (full) return refuse('NotAllowed', full, hello.id);
    socket.sendText(encodeHandshake({ type: 'ready' }));
    ctx.addSession(localSession(socket, pairing, origin ?? '', sessionKeys(secret, params)));
  } catch (err) {
    const timedOut = signal.aborted;
    refuse(timedOut ? 'Timeout' : 'RemoteProtocol', {
      reason: 'protocol',
      message: timedOut ? 'the handshake took too long' : err instanceof Error ? err.message : 'bad handshake',
    });
  } finally {
    secret?.fill(0);
  }
}

/** Refuse a client: report it, tell it why, close with the matching code. */
export function refuseSocket(reporter: AgentReporter, socket: AgentSocket, code: WormholeErrorCode, refusal: Refusal, pairingId?: string): void {
  reporter.refuse(refusal, pairingId);
  socket.sendText(encodeHandshake({ type: 'error', code, message: refusal.message }));
  socket.close(CLOSE_CODES[code] ?? 4002, refusal.reason);
}

/** The session of an authenticated socket: mux-v1 (the agent follows) over the session records. */
function localSession(socket: AgentSocket, pairing: PairingInfo, origin: string, keys: SessionKeys): Session {
  const pipe: SessionPipe = socket.records(keys.agentToClient, keys.clientToAgent, () => {
    /* clients send no control message the agent acts on */
  });
  const mux = new MuxConnection({ pipe, role: 'follower', kind: 'direct', path: `agent:${origin}` });
  return {
    pairing,
    origin,
    since: Date.now(),
    via: 'local',
    connection: mux,
    forwards: new Set(),
    abort: new AbortController(),
    live: () => !mux.isClosed && socket.isOpen,
    revoke: (code, message) => {
      try {
        pipe.sendControl(encodeControl({ type: 'revoked', message }));
      } catch {
        // the socket is already gone
      }
      socket.close(CLOSE_CODES[code], 'revoked');
      mux.fail(new WormholeError(code, message));
    },
    end: () => socket.close(),
  };
}
