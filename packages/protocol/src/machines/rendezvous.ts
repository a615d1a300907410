/**
 * Rendezvous: the connection to the mailbox server. Connect, `bind` on every
 * connection, tell the other machines when we are online or not, and
 * reconnect with exponential backoff and jitter after a loss. A first
 * connection that never succeeds is an error (like the Python client):
 * retrying a wrong URL forever helps nobody.
 */
import { defineMachine } from './machine.js';
import { io, to, type RendezvousEvent, type Routed, type SessionEnv } from './types.js';
import { WormholeError } from '../errors.js';

export type RendezvousStateName = 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopping' | 'stopped';

export interface RendezvousCtx {
  readonly everConnected: boolean;
  readonly attempt: number;
}

export const initialRendezvousCtx: RendezvousCtx = { everConnected: false, attempt: 0 };

/** Python's ClientService retry policy: 1 s, ×1.5, capped at 60 s. */
export const DEFAULT_RECONNECT = { initialMs: 1000, maxMs: 60_000, factor: 1.5 } as const;

type Out = 'connect' | 'bind' | 'online' | 'offline' | 'schedule' | 'disconnect' | 'cancelTimer' | 'stopped' | 'fail';

export const rendezvousMachine = defineMachine<RendezvousStateName, RendezvousEvent, Out, RendezvousCtx, Routed, SessionEnv>({
  name: 'Rendezvous',
  initial: 'idle',
  refine: (ctx, ev) => (ev.type === 'connection_lost' && !ctx.everConnected ? { type: 'connection_failed' } : ev),
  transitions: [
    { from: 'idle', on: 'start', to: 'connecting', do: ['connect'] },
    { from: 'idle', on: 'stop', to: 'stopped', do: ['stopped'] },
    { from: 'connecting', on: 'connection_made', to: 'connected', do: ['bind', 'online'] },
    { from: 'connecting', on: 'connection_lost', to: 'waiting', do: ['schedule'] },
    { from: 'connecting', on: 'connection_failed', to: 'stopped', do: ['fail'] },
    { from: 'connecting', on: 'stop', to: 'stopping', do: ['disconnect'] },
    { from: 'connected', on: 'connection_lost', to: 'waiting', do: ['offline', 'schedule'] },
    { from: 'connected', on: 'stop', to: 'stopping', do: ['disconnect'] },
    { from: 'waiting', on: 'timer', to: 'connecting', do: ['connect'] },
    { from: 'waiting', on: 'stop', to: 'stopped', do: ['cancelTimer', 'stopped'] },
    { from: 'stopping', on: ['connection_lost', 'connection_failed'], to: 'stopped', do: ['stopped'] },
    { from: 'stopping', on: 'connection_made', do: ['disconnect'] },
    { from: 'stopped', on: ['stop', 'connection_lost', 'connection_failed'] },
  ],
  outputs: {
    connect: () => ({ effects: [io({ type: 'connect' })] }),
    bind: (ctx, _ev, env) => ({
      ctx: { everConnected: true, attempt: 0 },
      effects: [io({ type: 'transmit', message: { type: 'bind', appid: env.appid, side: env.side, client_version: ['burrow', '0.1.0'] } })],
    }),
    online: () => ({ effects: (['nameplate', 'mailbox', 'code'] as const).map((m) => to(m, { type: 'connected' })) }),
    offline: () => ({ effects: (['nameplate', 'mailbox', 'code'] as const).map((m) => to(m, { type: 'lost' })) }),
    schedule: (ctx, _ev, env) => {
      const policy = env.reconnect ?? DEFAULT_RECONNECT;
      const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** ctx.attempt);
      const jitter = (env.random(1)[0]! / 255) * 0.1 * base;
      return { ctx: { ...ctx, attempt: ctx.attempt + 1 }, effects: [io({ type: 'set_timer', ms: Math.round(base + jitter) })] };
    },
    disconnect: () => ({ effects: [io({ type: 'disconnect' })] }),
    cancelTimer: () => ({ effects: [io({ type: 'cancel_timer' })] }),
    stopped: () => ({ effects: [to('terminator', { type: 'stopped' })] }),
    fail: () => ({
      effects: [to('boss', { type: 'error', error: new WormholeError('Connection', 'could not connect to the mailbox server') })],
    }),
  },
});
