/**
 * Mailbox: open the mailbox once the nameplate claim names it, send every
 * queued `add` on each (re)connection until the server echoes it back, hand
 * each of the peer's phases to Order exactly once, and close with a mood.
 */
import { defineMachine } from './machine.js';
import { io, to, type MailboxEvent, type Routed, type SessionEnv } from './types.js';
import type { Mood } from '../messages.js';

export type MailboxStateName =
  | 'idle.offline' | 'idle.online'
  | 'known.offline'
  | 'open.offline' | 'open.online'
  | 'closing.offline' | 'closing.online'
  | 'closed.offline' | 'closed.online';

export interface MailboxCtx {
  readonly mailbox?: string;
  /** Our adds not yet echoed by the server, in send order: phase → body. */
  readonly pending: readonly (readonly [phase: string, body: string])[];
  /** Peer phases already delivered (dedupe across reconnects and replays). */
  readonly processed: readonly string[];
  readonly mood?: Mood;
}

export const initialMailboxCtx: MailboxCtx = { pending: [], processed: [] };

type Out = 'record' | 'queue' | 'txOpen' | 'drain' | 'txAdd' | 'dequeue' | 'accept' | 'recordMood' | 'txClose' | 'done';

export const mailboxMachine = defineMachine<MailboxStateName, MailboxEvent, Out, MailboxCtx, Routed, SessionEnv>({
  name: 'Mailbox',
  initial: 'idle.offline',
  refine: (_ctx, ev, env) => {
    if (ev.type !== 'rx_message') return ev;
    return ev.side === env.side
      ? { type: 'rx_ours', phase: ev.phase }
      : { type: 'rx_theirs', side: ev.side, phase: ev.phase, body: ev.body };
  },
  transitions: [
    { from: 'idle.offline', on: 'connected', to: 'idle.online' },
    { from: 'idle.online', on: 'lost', to: 'idle.offline' },
    { from: 'idle.offline', on: 'got_mailbox', to: 'known.offline', do: ['record'] },
    { from: 'idle.online', on: 'got_mailbox', to: 'open.online', do: ['record', 'txOpen', 'drain'] },
    { from: ['idle.offline', 'idle.online', 'known.offline', 'open.offline'], on: 'add', do: ['queue'] },
    { from: ['idle.offline', 'known.offline'], on: 'close', to: 'closed.offline', do: ['done'] },
    { from: 'idle.online', on: 'close', to: 'closed.online', do: ['done'] },
    { from: ['known.offline', 'open.offline'], on: 'connected', to: 'open.online', do: ['txOpen', 'drain'] },
    { from: 'open.offline', on: 'close', to: 'closing.offline', do: ['recordMood'] },
    { from: 'open.online', on: 'lost', to: 'open.offline' },
    { from: 'open.online', on: 'add', do: ['queue', 'txAdd'] },
    { from: 'open.online', on: 'rx_theirs', do: ['accept'] },
    { from: 'open.online', on: 'rx_ours', do: ['dequeue'] },
    { from: 'open.online', on: 'close', to: 'closing.online', do: ['recordMood', 'txClose'] },
    { from: 'closing.offline', on: 'connected', to: 'closing.online', do: ['txClose'] },
    { from: 'closing.offline', on: ['add', 'close'] },
    { from: 'closing.online', on: 'lost', to: 'closing.offline' },
    { from: 'closing.online', on: 'rx_closed', to: 'closed.online', do: ['done'] },
    { from: 'closing.online', on: ['add', 'close', 'rx_ours', 'rx_theirs'] },
    { from: 'closed.offline', on: 'connected', to: 'closed.online' },
    { from: 'closed.online', on: 'lost', to: 'closed.offline' },
    { from: ['closed.offline', 'closed.online'], on: ['add', 'close', 'rx_ours', 'rx_theirs', 'rx_closed'] },
  ],
  outputs: {
    record: (ctx, ev) => (ev.type === 'got_mailbox' ? { ctx: { ...ctx, mailbox: ev.mailbox } } : undefined),
    queue: (ctx, ev) => {
      if (ev.type !== 'add') return;
      const pending = ctx.pending.filter(([phase]) => phase !== ev.phase);
      return { ctx: { ...ctx, pending: [...pending, [ev.phase, ev.body]] } };
    },
    txOpen: (ctx) => ({ effects: [io({ type: 'transmit', message: { type: 'open', mailbox: ctx.mailbox ?? '' } })] }),
    drain: (ctx) => ({
      effects: ctx.pending.map(([phase, body]) => io({ type: 'transmit', message: { type: 'add', phase, body } })),
    }),
    txAdd: (_ctx, ev) => (ev.type === 'add' ? { effects: [io({ type: 'transmit', message: { type: 'add', phase: ev.phase, body: ev.body } })] } : undefined),
    dequeue: (ctx, ev) => (ev.type === 'rx_ours' ? { ctx: { ...ctx, pending: ctx.pending.filter(([phase]) => phase !== ev.phase) } } : undefined),
    accept: (ctx, ev) => {
      if (ev.type !== 'rx_theirs') return;
      // The first message from the peer means both sides are in the mailbox:
      // the nameplate is no longer needed (Nameplate ignores repeats).
      const effects: Routed[] = [to('nameplate', { type: 'release' })];
      if (ctx.processed.includes(ev.phase)) return { effects };
      effects.push(to('order', { type: 'got_message', side: ev.side, phase: ev.phase, body: ev.body }));
      return { ctx: { ...ctx, processed: [...ctx.processed, ev.phase] }, effects };
    },
    recordMood: (ctx, ev) => (ev.type === 'close' ? { ctx: { ...ctx, mood: ev.mood } } : undefined),
    txClose: (ctx) => ({
      effects: [io({ type: 'transmit', message: { type: 'close', mailbox: ctx.mailbox ?? '', ...(ctx.mood ? { mood: ctx.mood } : {}) } })],
    }),
    done: () => ({ effects: [to('terminator', { type: 'mailbox_done' })] }),
  },
});
