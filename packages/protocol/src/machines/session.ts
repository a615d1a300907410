/**
 * Session: the ten machines wired together. Read this file top to bottom to
 * see one wormhole: inputs come from the driver (server frames, connection
 * changes, timers, API calls), are routed as events between machines until
 * the queue is empty, and what leaves is a list of I/O effects for the driver.
 *
 *   Rendezvous ─online─▶ Code ─code─▶ Nameplate ─mailbox─▶ Mailbox ─▶ Order ─▶ Key ─key─▶ Receive ─▶ Boss
 *                                                            ▲                                   │
 *                                                            └────── Send ◀── verified key ◀─────┘
 *   Boss ─close─▶ Terminator ─▶ Nameplate/Mailbox ─done─▶ Terminator ─▶ Rendezvous(stop)
 */
import { bossMachine, initialBossCtx } from './boss.js';
import { codeMachine } from './code.js';
import { keyMachine } from './key.js';
import { initialMailboxCtx, mailboxMachine } from './mailbox.js';
import { nameplateMachine } from './nameplate.js';
import { orderMachine } from './order.js';
import { receiveMachine } from './receive.js';
import { initialRendezvousCtx, rendezvousMachine } from './rendezvous.js';
import { sendMachine } from './send.js';
import { terminatorMachine } from './terminator.js';
import type { Machine, MachineState } from './machine.js';
import type { IoEffect, MachineEvents, MachineName, Routed, SessionEnv } from './types.js';
import type { ServerMessage } from '../messages.js';
import { WormholeError } from '../errors.js';

/** Inputs from the driver. */
export type SessionInput =
  | { type: 'start' }
  | { type: 'connection_made' }
  | { type: 'connection_lost' }
  | { type: 'timer' }
  | { type: 'server_message'; message: ServerMessage }
  | { type: 'allocate_code'; words: number }
  | { type: 'set_code'; code: string }
  | { type: 'send'; plaintext: Uint8Array }
  | { type: 'close' }
  | { type: 'error'; error: WormholeError }
  | { type: 'abort'; error: WormholeError };

// Every machine's table, by name; `any` only at this one erasure point.
type AnyMachine = Machine<string, any, string, any, Routed, SessionEnv>;

export const MACHINES: { readonly [K in MachineName]: AnyMachine } = {
  rendezvous: rendezvousMachine,
  code: codeMachine,
  nameplate: nameplateMachine,
  mailbox: mailboxMachine,
  order: orderMachine,
  key: keyMachine,
  receive: receiveMachine,
  send: sendMachine,
  boss: bossMachine,
  terminator: terminatorMachine,
};

const INITIAL_CTX: { readonly [K in MachineName]: unknown } = {
  rendezvous: initialRendezvousCtx,
  code: {},
  nameplate: {},
  mailbox: initialMailboxCtx,
  order: { queue: [] },
  key: {},
  receive: {},
  send: { queue: [] },
  boss: initialBossCtx,
  terminator: {},
};

/** One trace line per handled or ignored event; for debugging and tests. */
export interface TraceEntry {
  readonly machine: MachineName;
  readonly from: string;
  readonly event: string;
  readonly to: string;
  readonly handled: boolean;
}

/** Upper bound on routed events for one input: a loop in the wiring is a bug, not a hang. */
const MAX_STEPS_PER_INPUT = 10_000;

export class Session {
  readonly #env: SessionEnv;
  readonly #states: { [K in MachineName]: MachineState<string, unknown> };
  readonly #trace: ((entry: TraceEntry) => void) | undefined;

  constructor(env: SessionEnv, options: { trace?: (entry: TraceEntry) => void } = {}) {
    this.#env = env;
    this.#trace = options.trace;
    const states = {} as { [K in MachineName]: MachineState<string, unknown> };
    for (const name of Object.keys(MACHINES) as MachineName[]) {
      states[name] = { name: MACHINES[name].initial, ctx: INITIAL_CTX[name] };
    }
    this.#states = states;
  }

  /** Current state name of each machine (a snapshot, for status and tests). */
  snapshot(): { readonly [K in MachineName]: string } {
    const out = {} as { [K in MachineName]: string };
    for (const name of Object.keys(this.#states) as MachineName[]) out[name] = this.#states[name].name;
    return out;
  }

  /** Feed one input; returns the I/O effects to perform, in order. */
  handle(input: SessionInput): IoEffect[] {
    const queue: Routed[] = [...route(input)];
    const out: IoEffect[] = [];
    for (let steps = 0; queue.length > 0; steps++) {
      if (steps > MAX_STEPS_PER_INPUT) throw new Error('session machines did not settle (wiring loop)');
      const item = queue.shift()!;
      if (item.to === 'io') {
        out.push(item.effect);
        continue;
      }
      const machine = MACHINES[item.to];
      const before = this.#states[item.to];
      const result = machine.step(before, item.event, this.#env);
      this.#states[item.to] = result.state;
      this.#trace?.({ machine: item.to, from: before.name, event: item.event.type, to: result.state.name, handled: result.handled });
      queue.push(...result.effects);
    }
    return out;
  }
}

const ev = <K extends MachineName>(machine: K, event: MachineEvents[K]): Routed => ({ to: machine, event }) as Routed;

/** Translate a driver input into the first machine events. */
function route(input: SessionInput): Routed[] {
  switch (input.type) {
    case 'start':
      return [ev('rendezvous', { type: 'start' })];
    case 'connection_made':
      return [ev('rendezvous', { type: 'connection_made' })];
    case 'connection_lost':
      return [ev('rendezvous', { type: 'connection_lost' })];
    case 'timer':
      return [ev('rendezvous', { type: 'timer' })];
    case 'allocate_code':
      return [ev('code', { type: 'allocate', words: input.words })];
    case 'set_code':
      return [ev('code', { type: 'set_code', code: input.code })];
    case 'send':
      return [ev('boss', { type: 'send', plaintext: input.plaintext })];
    case 'close':
      return [ev('boss', { type: 'close' })];
    case 'error':
      return [ev('boss', { type: 'error', error: input.error })];
    case 'abort':
      return [ev('boss', { type: 'abort', error: input.error })];
    case 'server_message':
      return routeServerMessage(input.message);
  }
}

function routeServerMessage(m: ServerMessage): Routed[] {
  switch (m.type) {
    case 'welcome':
      return m.welcome.error !== undefined
        ? [ev('boss', { type: 'rx_unwelcome', error: new WormholeError('Welcome', `mailbox server refused us: ${m.welcome.error}`) })]
        : [ev('boss', { type: 'rx_welcome', welcome: m.welcome })];
    case 'allocated':
      return [ev('code', { type: 'rx_allocated', nameplate: m.nameplate })];
    case 'claimed':
      return [ev('nameplate', { type: 'rx_claimed', mailbox: m.mailbox })];
    case 'released':
      return [ev('nameplate', { type: 'rx_released' })];
    case 'message':
      return [ev('mailbox', { type: 'rx_message', side: m.side, phase: m.phase, body: m.body })];
    case 'closed':
      return [ev('mailbox', { type: 'rx_closed' })];
    case 'error': {
      const crowded = /crowded/i.test(m.error);
      const error = new WormholeError(crowded ? 'Crowded' : 'ServerError', crowded ? 'this code is already in use by two other sides (crowded)' : `mailbox server error: ${m.error}`);
      return [ev('boss', { type: 'rx_error', error })];
    }
    case 'ack':
    case 'pong':
    case 'nameplates':
    case 'unknown':
      return [];
  }
}
