/**
 * Shared helpers of the machine unit tests: drive one machine event by event,
 * read its effects, and a session key both sides agree on. Randomness is a
 * seeded generator, so every byte is reproducible.
 */
import { expect } from 'vitest';
import { toHex, utf8 } from '../../src/bytes.js';
import { WormholeError } from '../../src/errors.js';
import type { SessionKey } from '../../src/keys.js';
import type { ClientMessage } from '../../src/messages.js';
import { encryptPhaseMessage } from '../../src/secretbox.js';
import { keyMachine } from '../../src/machines/key.js';
import { type Machine, type MachineState } from '../../src/machines/machine.js';
import { io, to, type IoEffect, type Routed, type SessionEnv } from '../../src/machines/types.js';
import { seededRandom } from '@burrow/testkit';

export const SIDE_A = 'aaaaaaaaaa';
export const SIDE_B = 'bbbbbbbbbb';
export const APPID = 'example.com/burrow-test';
export const CODE = '4-purple-sausages';

export function envFor(side: string, seed: number, extra: Partial<SessionEnv> = {}): SessionEnv {
  return { side, appid: APPID, random: seededRandom(seed), appVersions: { burrow: 'test' }, ...extra };
}

/** Feed one machine events and read back its state and effects. */
export function drive<S extends string, Ev extends { type: string }, O extends string, C>(
  machine: Machine<S, Ev, O, C, Routed, SessionEnv>,
  ctx: C,
  env: SessionEnv = envFor(SIDE_A, 1),
) {
  let state: MachineState<S, C> = { name: machine.initial, ctx };
  let handled = true;
  return {
    /** Step one event; returns its effects. */
    send(event: Ev): Routed[] {
      const result = machine.step(state, event, env);
      state = result.state;
      handled = result.handled;
      return result.effects;
    },
    get state(): S {
      return state.name;
    },
    get ctx(): C {
      return state.ctx;
    },
    /** Whether the last event matched a row. */
    get handled(): boolean {
      return handled;
    },
  };
}

export const tx = (message: ClientMessage): Routed => io({ type: 'transmit', message });

export function ioEffects(effects: Routed[]): IoEffect[] {
  return effects.flatMap((e) => (e.to === 'io' ? [e.effect] : []));
}

/** The one `scared` event Boss got, with its error. */
export function scaredError(effects: Routed[]): WormholeError | undefined {
  expect(effects).toHaveLength(1);
  const e = effects[0]!;
  if (e.to !== 'boss' || e.event.type !== 'scared') throw new Error(`expected boss.scared, got ${JSON.stringify(e)}`);
  return e.event.error;
}

/** Run two Key machines with `codeA`/`codeB` to completion; returns each side's effects. */
export function keyPair(codeA: string, codeB: string) {
  const a = drive(keyMachine, {}, envFor(SIDE_A, 11));
  const b = drive(keyMachine, {}, envFor(SIDE_B, 22));
  const [pakeA] = a.send({ type: 'got_code', code: codeA });
  const [pakeB] = b.send({ type: 'got_code', code: codeB });
  const bodyOf = (r: Routed | undefined) => {
    if (r?.to !== 'mailbox' || r.event.type !== 'add') throw new Error('expected mailbox.add');
    return r.event.body;
  };
  const doneA = a.send({ type: 'got_pake', body: bodyOf(pakeB) });
  const doneB = b.send({ type: 'got_pake', body: bodyOf(pakeA) });
  return { a, b, pakeA: bodyOf(pakeA), pakeB: bodyOf(pakeB), doneA, doneB };
}

export function keyOf(effects: Routed[]): SessionKey {
  for (const e of effects) if (e.to === 'boss' && e.event.type === 'got_key') return e.event.key;
  throw new Error('no got_key effect');
}

/** A session key both sides agree on, for Receive/Send tests. */
export const KEY = keyOf(keyPair(CODE, CODE).doneA);

export function box(side: string, phase: string, text: string, seed = 5): string {
  return toHex(encryptPhaseMessage(KEY, side, phase, utf8(text), seededRandom(seed)));
}
