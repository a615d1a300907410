/**
 * Receive: decrypt each peer phase with the key for (their side, phase). The
 * first message that decrypts proves the peer knows the code (happy); one
 * that does not means a wrong code (scared), and nothing after it is trusted.
 */
import { defineMachine } from './machine.js';
import { to, type ReceiveEvent, type Routed, type SessionEnv } from './types.js';
import type { SessionKey } from '../keys.js';
import { decryptPhaseMessage } from '../secretbox.js';
import { fromHex } from '../bytes.js';

export type ReceiveStateName = 'no-key' | 'unverified' | 'verified' | 'scared';

export interface ReceiveCtx {
  readonly key?: SessionKey;
}

type Out = 'record' | 'verified' | 'deliver' | 'scared';

/** A phase body larger than this cannot be a wormhole message we handle. */
const MAX_BODY_HEX = 2 * 512 * 1024;

export const receiveMachine = defineMachine<ReceiveStateName, ReceiveEvent, Out, ReceiveCtx, Routed, SessionEnv>({
  name: 'Receive',
  initial: 'no-key',
  refine: (ctx, ev) => {
    if (ev.type !== 'got_message' || !ctx.key) return ev;
    let box: Uint8Array;
    try {
      if (ev.body.length > MAX_BODY_HEX) return { type: 'message_bad' };
      box = fromHex(ev.body);
    } catch {
      return { type: 'message_bad' };
    }
    const plaintext = decryptPhaseMessage(ctx.key, ev.side, ev.phase, box);
    return plaintext ? { type: 'message_good', phase: ev.phase, plaintext } : { type: 'message_bad' };
  },
  transitions: [
    { from: 'no-key', on: 'got_key', to: 'unverified', do: ['record'] },
    { from: 'unverified', on: 'message_good', to: 'verified', do: ['verified', 'deliver'] },
    { from: ['unverified', 'verified'], on: 'message_bad', to: 'scared', do: ['scared'] },
    { from: 'verified', on: 'message_good', do: ['deliver'] },
    { from: 'scared', on: ['message_good', 'message_bad'] },
  ],
  outputs: {
    record: (_ctx, ev) => (ev.type === 'got_key' ? { ctx: { key: ev.key } } : undefined),
    verified: (ctx) => ({
      effects: [to('boss', { type: 'happy' }), ...(ctx.key ? [to('send', { type: 'got_verified_key', key: ctx.key })] : [])],
    }),
    deliver: (_ctx, ev) =>
      ev.type === 'message_good' ? { effects: [to('boss', { type: 'got_message', phase: ev.phase, plaintext: ev.plaintext })] } : undefined,
    scared: () => ({ effects: [to('boss', { type: 'scared' })] }),
  },
});
