/**
 * Send: application phases wait until the peer has proven the key (its first
 * message decrypted), then go out encrypted with the key for (our side, phase).
 */
import { defineMachine } from './machine.js';
import { to, type Routed, type SendEvent, type SessionEnv } from './types.js';
import type { SessionKey } from '../keys.js';
import { encryptPhaseMessage } from '../secretbox.js';
import { toHex } from '../bytes.js';

export type SendStateName = 'no-key' | 'verified';

export interface SendCtx {
  readonly key?: SessionKey;
  readonly queue: readonly { phase: string; plaintext: Uint8Array }[];
}

type Out = 'queue' | 'record' | 'flush' | 'encrypt';

export const sendMachine = defineMachine<SendStateName, SendEvent, Out, SendCtx, Routed, SessionEnv>({
  name: 'Send',
  initial: 'no-key',
  transitions: [
    { from: 'no-key', on: 'send', do: ['queue'] },
    { from: 'no-key', on: 'got_verified_key', to: 'verified', do: ['record', 'flush'] },
    { from: 'verified', on: 'send', do: ['encrypt'] },
  ],
  outputs: {
    queue: (ctx, ev) => (ev.type === 'send' ? { ctx: { ...ctx, queue: [...ctx.queue, { phase: ev.phase, plaintext: ev.plaintext }] } } : undefined),
    record: (ctx, ev) => (ev.type === 'got_verified_key' ? { ctx: { ...ctx, key: ev.key } } : undefined),
    flush: (ctx, _ev, env) => ({
      ctx: { ...ctx, queue: [] },
      effects: ctx.queue.map((m) => add(ctx.key!, env, m.phase, m.plaintext)),
    }),
    encrypt: (ctx, ev, env) => (ev.type === 'send' && ctx.key ? { effects: [add(ctx.key, env, ev.phase, ev.plaintext)] } : undefined),
  },
});

function add(key: SessionKey, env: SessionEnv, phase: string, plaintext: Uint8Array): Routed {
  const box = encryptPhaseMessage(key, env.side, phase, plaintext, env.random);
  return to('mailbox', { type: 'add', phase, body: toHex(box) });
}
