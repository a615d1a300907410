/**
 * Order: the peer's `pake` must reach Key before anything else reaches
 * Receive (which needs the key). Messages that overtake the pake wait here.
 */
import { defineMachine } from './machine.js';
import { to, type OrderEvent, type Routed, type SessionEnv } from './types.js';

export type OrderStateName = 'waiting-for-pake' | 'have-pake';

export interface OrderCtx {
  readonly queue: readonly { side: string; phase: string; body: string }[];
}

type Out = 'toKey' | 'queue' | 'drain' | 'toReceive';

export const orderMachine = defineMachine<OrderStateName, OrderEvent, Out, OrderCtx, Routed, SessionEnv>({
  name: 'Order',
  initial: 'waiting-for-pake',
  refine: (_ctx, ev) => {
    if (ev.type !== 'got_message') return ev;
    return ev.phase === 'pake' ? { type: 'got_pake', side: ev.side, body: ev.body } : { type: 'got_other', side: ev.side, phase: ev.phase, body: ev.body };
  },
  transitions: [
    { from: 'waiting-for-pake', on: 'got_pake', to: 'have-pake', do: ['toKey', 'drain'] },
    { from: 'waiting-for-pake', on: 'got_other', do: ['queue'] },
    { from: 'have-pake', on: 'got_other', do: ['toReceive'] },
  ],
  outputs: {
    toKey: (_ctx, ev) => (ev.type === 'got_pake' ? { effects: [to('key', { type: 'got_pake', body: ev.body })] } : undefined),
    queue: (ctx, ev) => (ev.type === 'got_other' ? { ctx: { queue: [...ctx.queue, { side: ev.side, phase: ev.phase, body: ev.body }] } } : undefined),
    drain: (ctx) => ({
      ctx: { queue: [] },
      effects: ctx.queue.map((m) => to('receive', { type: 'got_message', ...m })),
    }),
    toReceive: (_ctx, ev) =>
      ev.type === 'got_other' ? { effects: [to('receive', { type: 'got_message', side: ev.side, phase: ev.phase, body: ev.body })] } : undefined,
  },
});
