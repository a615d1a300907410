/**
 * Boss: the session's own lifecycle. Empty until a code exists, lonely until
 * the peer proves the key, happy until close; closing waits for Terminator.
 * It numbers outbound application phases, releases inbound ones in order,
 * and decides the close mood and the final result.
 */
import { defineMachine } from './machine.js';
import { io, to, type BossEvent, type Routed, type SessionEnv } from './types.js';
import { WormholeError } from '../errors.js';
import { fromUtf8 } from '../bytes.js';
import { parseJsonObject } from '../json.js';

/** A version phase larger than a mailbox frame could not have arrived. */
const MAX_VERSION_TEXT = 1 << 20;
import type { Mood } from '../messages.js';

export type BossStateName = 'empty' | 'lonely' | 'happy' | 'closing' | 'closed';

export interface BossCtx {
  readonly nextTxPhase: number;
  readonly nextRxPhase: number;
  /** Peer phases that arrived ahead of a gap, waiting their turn. */
  readonly rxPhases: ReadonlyMap<number, Uint8Array>;
  readonly result?: 'happy' | WormholeError;
}

export const initialBossCtx: BossCtx = { nextTxPhase: 0, nextRxPhase: 0, rxPhases: new Map() };

/** Numbered phases above this are refused: a peer cannot make us buffer without bound. */
export const MAX_PHASE_GAP = 1000;

type Out =
  | 'send' | 'gotCode' | 'welcome' | 'versions' | 'received' | 'skip'
  | 'closeHappy' | 'closeLonely' | 'closeScared' | 'closeError' | 'closeAborted' | 'closeAfterError' | 'finished';

const PHASE_RE = /^\d{1,15}$/;

export const bossMachine = defineMachine<BossStateName, BossEvent, Out, BossCtx, Routed, SessionEnv>({
  name: 'Boss',
  initial: 'empty',
  refine: (_ctx, ev) => {
    if (ev.type !== 'got_message') return ev;
    if (ev.phase === 'version') return { type: 'got_version', plaintext: ev.plaintext };
    if (PHASE_RE.test(ev.phase)) return { type: 'got_phase', phase: Number(ev.phase), plaintext: ev.plaintext };
    return { type: 'got_unknown_phase' };
  },
  transitions: [
    { from: ['empty', 'lonely', 'happy'], on: 'send', do: ['send'] },
    { from: ['empty', 'lonely', 'happy', 'closing', 'closed'], on: ['rx_welcome'], do: ['welcome'] },
    { from: 'empty', on: 'got_code', to: 'lonely', do: ['gotCode'] },
    { from: ['lonely', 'happy'], on: 'got_key' },
    { from: 'lonely', on: 'happy', to: 'happy' },
    { from: ['empty', 'lonely'], on: 'close', to: 'closing', do: ['closeLonely'] },
    { from: 'happy', on: 'close', to: 'closing', do: ['closeHappy'] },
    { from: ['lonely', 'happy'], on: 'scared', to: 'closing', do: ['closeScared'] },
    { from: ['empty', 'lonely', 'happy'], on: ['rx_error', 'rx_unwelcome'], to: 'closing', do: ['closeError'] },
    { from: ['empty', 'lonely', 'happy'], on: 'abort', to: 'closing', do: ['closeAborted'] },
    { from: ['empty', 'lonely', 'happy'], on: 'error', to: 'closed', do: ['closeAfterError'] },
    { from: 'happy', on: 'got_version', do: ['versions'] },
    { from: 'happy', on: 'got_phase', do: ['received'] },
    { from: 'happy', on: 'got_unknown_phase', do: ['skip'] },
    {
      from: 'closing',
      on: ['send', 'close', 'abort', 'scared', 'happy', 'got_key', 'got_version', 'got_phase', 'got_unknown_phase', 'rx_error', 'rx_unwelcome'],
    },
    { from: 'closing', on: 'closed', to: 'closed', do: ['finished'] },
    { from: 'closing', on: 'error', to: 'closed', do: ['closeAfterError'] },
    { from: 'closed', on: ['send', 'close', 'abort', 'scared', 'happy', 'got_version', 'got_phase', 'got_unknown_phase', 'rx_error', 'rx_unwelcome', 'error', 'closed'] },
  ],
  outputs: {
    send: (ctx, ev) => {
      if (ev.type !== 'send') return;
      return {
        ctx: { ...ctx, nextTxPhase: ctx.nextTxPhase + 1 },
        effects: [to('send', { type: 'send', phase: String(ctx.nextTxPhase), plaintext: ev.plaintext })],
      };
    },
    gotCode: (_ctx, ev) => (ev.type === 'got_code' ? { effects: [io({ type: 'code', code: ev.code })] } : undefined),
    welcome: (_ctx, ev) => (ev.type === 'rx_welcome' ? { effects: [io({ type: 'welcome', welcome: ev.welcome })] } : undefined),
    versions: (_ctx, ev) => {
      if (ev.type !== 'got_version') return;
      let versions: Record<string, unknown> = {};
      try {
        versions = parseJsonObject(fromUtf8(ev.plaintext), { maxLength: MAX_VERSION_TEXT });
      } catch {
        // A peer whose version phase decrypts but does not parse is odd but
        // proved the key; treat it as advertising nothing.
      }
      return { effects: [io({ type: 'versions', versions })] };
    },
    received: (ctx, ev) => {
      if (ev.type !== 'got_phase') return;
      if (ev.phase < ctx.nextRxPhase || ctx.rxPhases.has(ev.phase)) return;
      if (ev.phase - ctx.nextRxPhase > MAX_PHASE_GAP) {
        return { effects: [to('boss', { type: 'scared', error: new WormholeError('RemoteProtocol', `peer skipped to phase ${ev.phase}`) })] };
      }
      const rx = new Map(ctx.rxPhases);
      rx.set(ev.phase, ev.plaintext);
      let next = ctx.nextRxPhase;
      const effects: Routed[] = [];
      for (let p = rx.get(next); p !== undefined; p = rx.get(next)) {
        effects.push(io({ type: 'message', plaintext: p }));
        rx.delete(next);
        next += 1;
      }
      return { ctx: { ...ctx, nextRxPhase: next, rxPhases: rx }, effects };
    },
    skip: () => undefined,
    closeHappy: (ctx) => close(ctx, 'happy', 'happy'),
    closeLonely: (ctx) =>
      close(ctx, new WormholeError('Lonely', 'the wormhole was closed before the peer connected', { blame: 'caller' }), 'lonely'),
    closeScared: (ctx, ev) =>
      close(
        ctx,
        ev.type === 'scared' && ev.error
          ? ev.error
          : new WormholeError('WrongPassword', 'the peer used a different code (key confirmation failed)'),
        'scary',
      ),
    closeError: (ctx, ev) => (ev.type === 'rx_error' || ev.type === 'rx_unwelcome' ? close(ctx, ev.error, ev.type === 'rx_error' ? 'errory' : 'unwelcome') : undefined),
    closeAborted: (ctx, ev) => (ev.type === 'abort' ? close(ctx, ev.error, 'errory') : undefined),
    closeAfterError: (ctx, ev) =>
      ev.type === 'error'
        ? { ctx: { ...ctx, result: ev.error }, effects: [to('rendezvous', { type: 'stop' }), io({ type: 'closed', result: ev.error })] }
        : undefined,
    finished: (ctx) => ({ effects: [io({ type: 'closed', result: ctx.result ?? 'happy' })] }),
  },
});

function close(ctx: BossCtx, result: 'happy' | WormholeError, mood: Mood) {
  return { ctx: { ...ctx, result }, effects: [io({ type: 'closing', result }), to('terminator', { type: 'close', mood })] };
}
