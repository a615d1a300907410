/**
 * Machine unit tests: each machine alone, fed one event at a time, with the
 * exact effects it must produce (after magic-wormhole's test_machines.py).
 * Randomness is a seeded generator, so every byte is reproducible.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, fromUtf8, toHex, utf8 } from '../src/bytes.js';
import { WormholeError } from '../src/errors.js';
import { deriveVerifier } from '../src/kdf.js';
import type { SessionKey } from '../src/keys.js';
import type { ClientMessage } from '../src/messages.js';
import { decryptPhaseMessage, encryptPhaseMessage } from '../src/secretbox.js';
import { bossMachine, initialBossCtx, MAX_PHASE_GAP } from '../src/machines/boss.js';
import { codeMachine } from '../src/machines/code.js';
import { decodePakeBody, encodePakeBody, keyMachine } from '../src/machines/key.js';
import { defineMachine, type Machine, type MachineState } from '../src/machines/machine.js';
import { initialMailboxCtx, mailboxMachine } from '../src/machines/mailbox.js';
import { nameplateMachine } from '../src/machines/nameplate.js';
import { orderMachine } from '../src/machines/order.js';
import { receiveMachine } from '../src/machines/receive.js';
import { DEFAULT_RECONNECT, initialRendezvousCtx, rendezvousMachine } from '../src/machines/rendezvous.js';
import { sendMachine } from '../src/machines/send.js';
import { MACHINES } from '../src/machines/session.js';
import { terminatorMachine } from '../src/machines/terminator.js';
import { io, to, type IoEffect, type Routed, type SessionEnv, type TerminatorEvent } from '../src/machines/types.js';
import { seededRandom } from '../../testkit/src/random.js';

// ---------------------------------------------------------------- helpers

const SIDE_A = 'aaaaaaaaaa';
const SIDE_B = 'bbbbbbbbbb';
const APPID = 'example.com/burrow-test';
const CODE = '4-purple-sausages';


function envFor(side: string, seed: number, extra: Partial<SessionEnv> = {}): SessionEnv {
  return { side, appid: APPID, random: seededRandom(seed), appVersions: { burrow: 'test' }, ...extra };
}

/** Feed one machine events and read back its state and effects. */
function drive<S extends string, Ev extends { type: string }, O extends string, C>(
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

const tx = (message: ClientMessage): Routed => io({ type: 'transmit', message });

function ioEffects(effects: Routed[]): IoEffect[] {
  return effects.flatMap((e) => (e.to === 'io' ? [e.effect] : []));
}

/** The one `scared` event Boss got, with its error. */
function scaredError(effects: Routed[]): WormholeError | undefined {
  expect(effects).toHaveLength(1);
  const e = effects[0]!;
  if (e.to !== 'boss' || e.event.type !== 'scared') throw new Error(`expected boss.scared, got ${JSON.stringify(e)}`);
  return e.event.error;
}

/** Run two Key machines with `codeA`/`codeB` to completion; returns each side's effects. */
function keyPair(codeA: string, codeB: string) {
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

function keyOf(effects: Routed[]): SessionKey {
  for (const e of effects) if (e.to === 'boss' && e.event.type === 'got_key') return e.event.key;
  throw new Error('no got_key effect');
}

/** A session key both sides agree on, for Receive/Send tests. */
const KEY = keyOf(keyPair(CODE, CODE).doneA);

function box(side: string, phase: string, text: string, seed = 5): string {
  return toHex(encryptPhaseMessage(KEY, side, phase, utf8(text), seededRandom(seed)));
}

// ---------------------------------------------------------------- toolkit

describe('defineMachine', () => {
  it('refuses a table with two rows for the same (state, event)', () => {
    expect(() =>
      defineMachine<'a' | 'b', { type: 'x' }, never, object, never, object>({
        name: 'Dup',
        initial: 'a',
        transitions: [
          { from: 'a', on: 'x', to: 'b' },
          { from: ['b', 'a'], on: 'x' },
        ],
        outputs: {},
      }),
    ).toThrow(/Dup: duplicate transition a --x-->/);
  });

  it('reports an event no row matches as unhandled and changes nothing', () => {
    const n = drive(nameplateMachine, {});
    expect(n.send({ type: 'rx_released' })).toEqual([]);
    expect(n.handled).toBe(false);
    expect(n.state).toBe('idle.offline');
  });
});

describe('every transition table', () => {
  for (const [key, machine] of Object.entries(MACHINES)) {
    it(`${machine.name} (${key}): every state is reachable from the initial state`, () => {
      const edges = new Map<string, Set<string>>();
      for (const t of machine.transitions) {
        for (const from of typeof t.from === 'string' ? [t.from] : t.from) {
          const set = edges.get(from) ?? new Set<string>();
          set.add(t.to ?? from);
          edges.set(from, set);
        }
      }
      const seen = new Set<string>([machine.initial]);
      const todo = [machine.initial];
      for (let s = todo.pop(); s !== undefined; s = todo.pop()) {
        for (const next of edges.get(s) ?? []) {
          if (!seen.has(next)) {
            seen.add(next);
            todo.push(next);
          }
        }
      }
      expect([...machine.states].filter((s) => !seen.has(s))).toEqual([]);
    });

    it(`${machine.name} (${key}): every output a row names exists, and every output is used`, () => {
      const used = new Set(machine.transitions.flatMap((t) => [...(t.do ?? [])]));
      const defined = new Set(Object.keys(machine.outputs));
      expect([...used].filter((o) => !defined.has(o))).toEqual([]);
      expect([...defined].filter((o) => !used.has(o))).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------- Nameplate

describe('Nameplate', () => {
  const claim = tx({ type: 'claim', nameplate: '4' });
  const release = tx({ type: 'release', nameplate: '4' });
  const done = to('terminator', { type: 'nameplate_done' });

  it('set_nameplate while offline, then connected: exactly one claim', () => {
    const n = drive(nameplateMachine, {});
    expect(n.send({ type: 'set_nameplate', nameplate: '4' })).toEqual([]);
    expect(n.state).toBe('known.offline');
    expect(n.send({ type: 'connected' })).toEqual([claim]);
    expect(n.state).toBe('claiming.online');
  });

  it('connected first, then set_nameplate: claims at once', () => {
    const n = drive(nameplateMachine, {});
    expect(n.send({ type: 'connected' })).toEqual([]);
    expect(n.send({ type: 'set_nameplate', nameplate: '4' })).toEqual([claim]);
  });

  it('lost while claiming, then connected: claims again', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    expect(n.send({ type: 'lost' })).toEqual([]);
    expect(n.state).toBe('claiming.offline');
    expect(n.send({ type: 'connected' })).toEqual([claim]);
  });

  it('rx_claimed hands the mailbox to Mailbox; a reconnect after that does not claim again', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    expect(n.send({ type: 'rx_claimed', mailbox: 'mb1' })).toEqual([to('mailbox', { type: 'got_mailbox', mailbox: 'mb1' })]);
    expect(n.state).toBe('claimed.online');
    expect(n.send({ type: 'lost' })).toEqual([]);
    expect(n.send({ type: 'connected' })).toEqual([]);
    expect(n.state).toBe('claimed.online');
  });

  it('release transmits release; repeats are ignored; rx_released finishes it', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    n.send({ type: 'rx_claimed', mailbox: 'mb1' });
    expect(n.send({ type: 'release' })).toEqual([release]);
    expect(n.state).toBe('releasing.online');
    expect(n.send({ type: 'release' })).toEqual([]);
    expect(n.send({ type: 'rx_claimed', mailbox: 'mb1' })).toEqual([]);
    expect(n.send({ type: 'rx_released' })).toEqual([done]);
    expect(n.state).toBe('released.online');
    expect(n.send({ type: 'release' })).toEqual([]);
    expect(n.send({ type: 'close' })).toEqual([]);
    expect(n.send({ type: 'lost' })).toEqual([]);
    expect(n.send({ type: 'connected' })).toEqual([]);
  });

  it('lost while releasing: the release is sent again on reconnect', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    n.send({ type: 'rx_claimed', mailbox: 'mb1' });
    n.send({ type: 'release' });
    expect(n.send({ type: 'lost' })).toEqual([]);
    expect(n.send({ type: 'close' })).toEqual([]);
    expect(n.send({ type: 'connected' })).toEqual([release]);
    expect(n.send({ type: 'rx_released' })).toEqual([done]);
  });

  it('release while claimed but offline waits for the connection', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    n.send({ type: 'rx_claimed', mailbox: 'mb1' });
    n.send({ type: 'lost' });
    expect(n.send({ type: 'release' })).toEqual([]);
    expect(n.state).toBe('releasing.offline');
    expect(n.send({ type: 'connected' })).toEqual([release]);
  });

  it('close before any nameplate is done at once, online or not', () => {
    const offline = drive(nameplateMachine, {});
    expect(offline.send({ type: 'close' })).toEqual([done]);
    expect(offline.state).toBe('released.offline');
    const online = drive(nameplateMachine, {});
    online.send({ type: 'connected' });
    expect(online.send({ type: 'close' })).toEqual([done]);
    expect(online.state).toBe('released.online');
    const known = drive(nameplateMachine, {});
    known.send({ type: 'set_nameplate', nameplate: '4' });
    expect(known.send({ type: 'close' })).toEqual([done]);
  });

  it('close while claiming releases; a late rx_claimed is ignored', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    expect(n.send({ type: 'close' })).toEqual([release]);
    expect(n.send({ type: 'rx_claimed', mailbox: 'mb1' })).toEqual([]);
    expect(n.send({ type: 'rx_released' })).toEqual([done]);
  });

  it('close while claiming but offline releases on reconnect (no claim)', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    n.send({ type: 'lost' });
    expect(n.send({ type: 'close' })).toEqual([]);
    expect(n.send({ type: 'connected' })).toEqual([release]);
  });

  it('close while claimed releases', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    n.send({ type: 'rx_claimed', mailbox: 'mb1' });
    expect(n.send({ type: 'close' })).toEqual([release]);
  });
});

// ---------------------------------------------------------------- Mailbox

describe('Mailbox', () => {
  const open = tx({ type: 'open', mailbox: 'mb1' });
  const add = (phase: string, body: string) => tx({ type: 'add', phase, body });
  const ours = (phase: string, body = 'x') => ({ type: 'rx_message', side: SIDE_A, phase, body }) as const;
  const theirs = (phase: string, body: string) => ({ type: 'rx_message', side: SIDE_B, phase, body }) as const;

  it('adds queued while offline are drained, in order, right after open', () => {
    const m = drive(mailboxMachine, initialMailboxCtx);
    expect(m.send({ type: 'add', phase: 'pake', body: 'p' })).toEqual([]);
    expect(m.send({ type: 'got_mailbox', mailbox: 'mb1' })).toEqual([]);
    expect(m.send({ type: 'add', phase: 'version', body: 'v' })).toEqual([]);
    expect(m.state).toBe('known.offline');
    expect(m.send({ type: 'connected' })).toEqual([open, add('pake', 'p'), add('version', 'v')]);
    expect(m.state).toBe('open.online');
  });

  it('connected first: got_mailbox opens and drains at once', () => {
    const m = drive(mailboxMachine, initialMailboxCtx);
    m.send({ type: 'add', phase: 'pake', body: 'p' });
    expect(m.send({ type: 'connected' })).toEqual([]);
    expect(m.send({ type: 'got_mailbox', mailbox: 'mb1' })).toEqual([open, add('pake', 'p')]);
  });

  it('an add while open goes out at once; its echo dequeues it', () => {
    const m = drive(mailboxMachine, initialMailboxCtx);
    m.send({ type: 'connected' });
    m.send({ type: 'got_mailbox', mailbox: 'mb1' });
    expect(m.send({ type: 'add', phase: '0', body: 'zero' })).toEqual([add('0', 'zero')]);
    expect(m.ctx.pending).toEqual([['0', 'zero']]);
    expect(m.send(ours('0', 'zero'))).toEqual([]);
    expect(m.ctx.pending).toEqual([]);
  });

  it('a reconnection re-opens and resends only the adds not echoed yet', () => {
    const m = drive(mailboxMachine, initialMailboxCtx);
    m.send({ type: 'connected' });
    m.send({ type: 'got_mailbox', mailbox: 'mb1' });
    m.send({ type: 'add', phase: 'pake', body: 'p' });
    m.send({ type: 'add', phase: 'version', body: 'v' });
    m.send(ours('pake'));
    expect(m.send({ type: 'lost' })).toEqual([]);
    expect(m.send({ type: 'add', phase: '0', body: 'zero' })).toEqual([]);
    expect(m.send({ type: 'connected' })).toEqual([open, add('version', 'v'), add('0', 'zero')]);
    m.send(ours('version'));
    m.send(ours('0'));
    m.send({ type: 'lost' });
    expect(m.send({ type: 'connected' })).toEqual([open]);
  });

  it("the peer's phases reach Order once; every one of them asks Nameplate to release", () => {
    const m = drive(mailboxMachine, initialMailboxCtx);
    m.send({ type: 'connected' });
    m.send({ type: 'got_mailbox', mailbox: 'mb1' });
    const release = to('nameplate', { type: 'release' });
    expect(m.send(theirs('pake', 'P'))).toEqual([release, to('order', { type: 'got_message', side: SIDE_B, phase: 'pake', body: 'P' })]);
    expect(m.send(theirs('pake', 'P'))).toEqual([release]);
    // a replay after reconnecting is deduplicated too
    m.send({ type: 'lost' });
    m.send({ type: 'connected' });
    expect(m.send(theirs('pake', 'P'))).toEqual([release]);
    expect(m.send(theirs('0', 'Z'))).toEqual([release, to('order', { type: 'got_message', side: SIDE_B, phase: '0', body: 'Z' })]);
  });

  it('close while open sends close with the mood; rx_closed finishes; everything after is ignored', () => {
    const m = drive(mailboxMachine, initialMailboxCtx);
    m.send({ type: 'connected' });
    m.send({ type: 'got_mailbox', mailbox: 'mb1' });
    expect(m.send({ type: 'close', mood: 'happy' })).toEqual([tx({ type: 'close', mailbox: 'mb1', mood: 'happy' })]);
    expect(m.state).toBe('closing.online');
    expect(m.send({ type: 'add', phase: 'late', body: 'l' })).toEqual([]);
    expect(m.send(theirs('1', 'late'))).toEqual([]);
    expect(m.send({ type: 'close', mood: 'happy' })).toEqual([]);
    // bouncing the connection resends the close
    m.send({ type: 'lost' });
    expect(m.send({ type: 'connected' })).toEqual([tx({ type: 'close', mailbox: 'mb1', mood: 'happy' })]);
    expect(m.send({ type: 'rx_closed' })).toEqual([to('terminator', { type: 'mailbox_done' })]);
    expect(m.state).toBe('closed.online');
    for (const ev of [{ type: 'add', phase: 'x', body: 'y' }, theirs('2', 'z'), { type: 'close', mood: 'happy' }, { type: 'lost' }, { type: 'connected' }] as const) {
      expect(m.send(ev)).toEqual([]);
    }
  });

  it('close while open but offline: the close (with its mood) goes out on reconnect', () => {
    const m = drive(mailboxMachine, initialMailboxCtx);
    m.send({ type: 'connected' });
    m.send({ type: 'got_mailbox', mailbox: 'mb1' });
    m.send({ type: 'lost' });
    expect(m.send({ type: 'close', mood: 'scary' })).toEqual([]);
    expect(m.send({ type: 'connected' })).toEqual([tx({ type: 'close', mailbox: 'mb1', mood: 'scary' })]);
  });

  it('close before a mailbox is known is done at once, without transmitting', () => {
    for (const setup of [[], [{ type: 'connected' }], [{ type: 'got_mailbox', mailbox: 'mb1' }]] as const) {
      const m = drive(mailboxMachine, initialMailboxCtx);
      for (const ev of setup) m.send(ev);
      expect(m.send({ type: 'close', mood: 'lonely' })).toEqual([to('terminator', { type: 'mailbox_done' })]);
    }
  });
});

// ---------------------------------------------------------------- Order

describe('Order', () => {
  it('holds messages that overtake the pake, then releases them after it', () => {
    const o = drive(orderMachine, { queue: [] });
    expect(o.send({ type: 'got_message', side: SIDE_B, phase: 'version', body: 'v' })).toEqual([]);
    expect(o.send({ type: 'got_message', side: SIDE_B, phase: '0', body: 'z' })).toEqual([]);
    expect(o.send({ type: 'got_message', side: SIDE_B, phase: 'pake', body: 'p' })).toEqual([
      to('key', { type: 'got_pake', body: 'p' }),
      to('receive', { type: 'got_message', side: SIDE_B, phase: 'version', body: 'v' }),
      to('receive', { type: 'got_message', side: SIDE_B, phase: '0', body: 'z' }),
    ]);
    expect(o.state).toBe('have-pake');
    expect(o.send({ type: 'got_message', side: SIDE_B, phase: '1', body: 'o' })).toEqual([
      to('receive', { type: 'got_message', side: SIDE_B, phase: '1', body: 'o' }),
    ]);
  });

  it('pake first: later messages pass straight through', () => {
    const o = drive(orderMachine, { queue: [] });
    expect(o.send({ type: 'got_message', side: SIDE_B, phase: 'pake', body: 'p' })).toEqual([to('key', { type: 'got_pake', body: 'p' })]);
    expect(o.send({ type: 'got_message', side: SIDE_B, phase: 'version', body: 'v' })).toEqual([
      to('receive', { type: 'got_message', side: SIDE_B, phase: 'version', body: 'v' }),
    ]);
  });
});

// ---------------------------------------------------------------- Key

describe('Key', () => {
  it('code first: sends our pake, deterministic for a given random source', () => {
    const k1 = drive(keyMachine, {}, envFor(SIDE_A, 7));
    const k2 = drive(keyMachine, {}, envFor(SIDE_A, 7));
    const e1 = k1.send({ type: 'got_code', code: CODE });
    const e2 = k2.send({ type: 'got_code', code: CODE });
    expect(e1).toHaveLength(1);
    expect(e1).toEqual(e2);
    const first = e1[0]!;
    if (first.to !== 'mailbox' || first.event.type !== 'add') throw new Error('expected mailbox.add');
    expect(first.event.phase).toBe('pake');
    const message = decodePakeBody(first.event.body);
    expect(message).toHaveLength(33);
    expect(message[0]).toBe(0x53);
    expect(JSON.parse(fromUtf8(fromHex(first.event.body)))).toEqual({ pake_v1: toHex(message) });
    expect(k1.state).toBe('have-code');
  });

  it("the peer's pake completes the key: got_key, key+verifier, our version, Receive's key — in that order", () => {
    const { a, b, doneA, doneB } = keyPair(CODE, CODE);
    const keyA = keyOf(doneA);
    const keyB = keyOf(doneB);
    expect(toHex(keyA)).toBe(toHex(keyB));
    expect(a.state).toBe('done');
    expect(b.state).toBe('done');
    expect(doneA.map((e) => (e.to === 'io' ? `io.${e.effect.type}` : `${e.to}.${e.event.type}`))).toEqual([
      'boss.got_key',
      'io.key',
      'mailbox.add',
      'receive.got_key',
    ]);
    const keyEffect = ioEffects(doneA)[0]!;
    if (keyEffect.type !== 'key') throw new Error('expected io.key');
    expect(toHex(keyEffect.verifier)).toBe(toHex(deriveVerifier(keyB)));
    const version = doneA[2]!;
    if (version.to !== 'mailbox' || version.event.type !== 'add') throw new Error('expected mailbox.add');
    expect(version.event.phase).toBe('version');
    const plaintext = decryptPhaseMessage(keyB, SIDE_A, 'version', fromHex(version.event.body));
    expect(plaintext && JSON.parse(fromUtf8(plaintext))).toEqual({ app_versions: { burrow: 'test' } });
  });

  it('pake before code: stashed, then the key is computed when the code arrives', () => {
    const peer = drive(keyMachine, {}, envFor(SIDE_B, 22));
    const [peerPake] = peer.send({ type: 'got_code', code: CODE });
    if (peerPake?.to !== 'mailbox' || peerPake.event.type !== 'add') throw new Error('expected mailbox.add');
    const k = drive(keyMachine, {}, envFor(SIDE_A, 11));
    expect(k.send({ type: 'got_pake', body: peerPake.event.body })).toEqual([]);
    expect(k.state).toBe('have-pake');
    const effects = k.send({ type: 'got_code', code: CODE });
    expect(effects.map((e) => (e.to === 'io' ? `io.${e.effect.type}` : `${e.to}.${e.event.type}`))).toEqual([
      'mailbox.add',
      'boss.got_key',
      'io.key',
      'mailbox.add',
      'receive.got_key',
    ]);
    const ours = effects[0]!;
    if (ours.to !== 'mailbox' || ours.event.type !== 'add') throw new Error('expected mailbox.add');
    const peerDone = peer.send({ type: 'got_pake', body: ours.event.body });
    expect(toHex(keyOf(effects))).toBe(toHex(keyOf(peerDone)));
  });

  it('different codes give different keys (detected later, by Receive)', () => {
    const { doneA, doneB } = keyPair(CODE, '4-purple-sausage');
    expect(toHex(keyOf(doneA))).not.toBe(toHex(keyOf(doneB)));
  });

  const pakeHex = (json: string) => toHex(utf8(json));
  const badPakes: [string, string][] = [
    ['not hex', 'zz-not-hex'],
    ['hex of something that is not JSON', pakeHex('not json')],
    ['JSON without pake_v1', pakeHex('{"pake_v2": "00"}')],
    ['JSON that is not an object', pakeHex('"53"')],
    ['pake_v1 that is not hex', pakeHex('{"pake_v1": "xyz"}')],
    ['a point that is not on the curve', pakeHex(JSON.stringify({ pake_v1: '53' + '02' + '00'.repeat(31) }))],
    ['the identity point', pakeHex(JSON.stringify({ pake_v1: '53' + '01' + '00'.repeat(31) }))],
    ['a point outside the prime-order subgroup', pakeHex(JSON.stringify({ pake_v1: '53' + '03' + '00'.repeat(31) }))],
    ['a message of the wrong length', pakeHex(JSON.stringify({ pake_v1: '53' + '00'.repeat(31) }))],
    ['a non-symmetric side byte', pakeHex(JSON.stringify({ pake_v1: '41' + '58'.repeat(32) }))],
    ['a body over the size bound', pakeHex(JSON.stringify({ pake_v1: '53' + '00'.repeat(600) }))],
  ];
  for (const [what, body] of badPakes) {
    it(`a pake that is ${what}: scared with RemoteProtocol, no key`, () => {
      const k = drive(keyMachine, {}, envFor(SIDE_A, 11));
      k.send({ type: 'got_code', code: CODE });
      const error = scaredError(k.send({ type: 'got_pake', body }));
      expect(error).toBeInstanceOf(WormholeError);
      expect(error?.code).toBe('RemoteProtocol');
      expect(error?.blame).toBe('peer');
    });
  }

  it('a reflected pake (our own message back) is refused', () => {
    const k = drive(keyMachine, {}, envFor(SIDE_A, 11));
    const [ours] = k.send({ type: 'got_code', code: CODE });
    if (ours?.to !== 'mailbox' || ours.event.type !== 'add') throw new Error('expected mailbox.add');
    expect(scaredError(k.send({ type: 'got_pake', body: ours.event.body }))?.code).toBe('RemoteProtocol');
  });

  it('encodePakeBody / decodePakeBody round-trip', () => {
    const message = new Uint8Array(33).fill(7);
    expect(decodePakeBody(encodePakeBody(message))).toEqual(message);
  });
});

// ---------------------------------------------------------------- Receive

describe('Receive', () => {
  const got = (phase: string, body: string) => ({ type: 'got_message', side: SIDE_B, phase, body }) as const;

  it('a good first message: happy, the verified key to Send, then the message to Boss', () => {
    const r = drive(receiveMachine, {});
    expect(r.send({ type: 'got_key', key: KEY })).toEqual([]);
    expect(r.state).toBe('unverified');
    expect(r.send(got('version', box(SIDE_B, 'version', '{}')))).toEqual([
      to('boss', { type: 'happy' }),
      to('send', { type: 'got_verified_key', key: KEY }),
      to('boss', { type: 'got_message', phase: 'version', plaintext: utf8('{}') }),
    ]);
    expect(r.state).toBe('verified');
    expect(r.send(got('0', box(SIDE_B, '0', 'zero')))).toEqual([to('boss', { type: 'got_message', phase: '0', plaintext: utf8('zero') })]);
  });

  it('a bad first message: scared; after that nothing is delivered', () => {
    const r = drive(receiveMachine, {});
    r.send({ type: 'got_key', key: KEY });
    // encrypted under the wrong (side, phase) key
    expect(r.send(got('version', box(SIDE_A, 'version', '{}')))).toEqual([to('boss', { type: 'scared' })]);
    expect(r.state).toBe('scared');
    expect(r.send(got('0', box(SIDE_B, '0', 'zero')))).toEqual([]);
    expect(r.handled).toBe(true);
    expect(r.send(got('1', 'garbage'))).toEqual([]);
  });

  it('a bad message after a good one: scared', () => {
    const r = drive(receiveMachine, {});
    r.send({ type: 'got_key', key: KEY });
    r.send(got('version', box(SIDE_B, 'version', '{}')));
    expect(r.send(got('0', box(SIDE_B, '1', 'wrong phase')))).toEqual([to('boss', { type: 'scared' })]);
    expect(r.send(got('1', box(SIDE_B, '1', 'ok')))).toEqual([]);
  });

  for (const [what, body] of [
    ['not hex', 'not-hex!'],
    ['odd-length hex', 'abc'],
    ['too short to be a box', '00'.repeat(39)],
    ['over the size bound', '00'.repeat(512 * 1024 + 1)],
  ] as const) {
    it(`a body that is ${what}: scared, never a throw`, () => {
      const r = drive(receiveMachine, {});
      r.send({ type: 'got_key', key: KEY });
      expect(r.send(got('version', body))).toEqual([to('boss', { type: 'scared' })]);
    });
  }
});

// ---------------------------------------------------------------- Send

describe('Send', () => {
  it('queues until the key is verified, then encrypts each phase in order with our side', () => {
    const s = drive(sendMachine, { queue: [] }, envFor(SIDE_A, 3));
    expect(s.send({ type: 'send', phase: '0', plaintext: utf8('zero') })).toEqual([]);
    expect(s.send({ type: 'send', phase: '1', plaintext: utf8('one') })).toEqual([]);
    const flushed = s.send({ type: 'got_verified_key', key: KEY });
    expect(flushed.map((e) => (e.to === 'mailbox' && e.event.type === 'add' ? e.event.phase : '?'))).toEqual(['0', '1']);
    const later = s.send({ type: 'send', phase: '2', plaintext: utf8('two') });
    const texts = [...flushed, ...later].map((e) => {
      if (e.to !== 'mailbox' || e.event.type !== 'add') throw new Error('expected mailbox.add');
      const pt = decryptPhaseMessage(KEY, SIDE_A, e.event.phase, fromHex(e.event.body));
      return pt && fromUtf8(pt);
    });
    expect(texts).toEqual(['zero', 'one', 'two']);
  });

  it('is deterministic for a given random source', () => {
    const run = () => {
      const s = drive(sendMachine, { queue: [] }, envFor(SIDE_A, 3));
      s.send({ type: 'got_verified_key', key: KEY });
      return s.send({ type: 'send', phase: '0', plaintext: utf8('zero') });
    };
    expect(run()).toEqual(run());
  });
});

// ---------------------------------------------------------------- Code

describe('Code', () => {
  const announced = (effects: Routed[]) => {
    expect(effects.map((e) => (e.to === 'io' ? 'io' : `${e.to}.${e.event.type}`))).toEqual(['boss.got_code', 'nameplate.set_nameplate', 'key.got_code']);
    const e = effects[0]!;
    if (e.to !== 'boss' || e.event.type !== 'got_code') throw new Error('expected boss.got_code');
    return e.event.code;
  };

  it('allocate while offline waits; lost while allocating asks again; the code uses the random words', () => {
    const c = drive(codeMachine, {}, envFor(SIDE_A, 9));
    expect(c.send({ type: 'allocate', words: 3 })).toEqual([]);
    expect(c.send({ type: 'connected' })).toEqual([tx({ type: 'allocate' })]);
    expect(c.send({ type: 'lost' })).toEqual([]);
    expect(c.send({ type: 'connected' })).toEqual([tx({ type: 'allocate' })]);
    const effects = c.send({ type: 'rx_allocated', nameplate: '17' });
    const code = announced(effects);
    expect(code).toMatch(/^17-[a-z]+-[a-z]+-[a-z]+$/);
    expect(effects[1]).toEqual(to('nameplate', { type: 'set_nameplate', nameplate: '17' }));
    expect(effects[2]).toEqual(to('key', { type: 'got_code', code }));
    expect(c.state).toBe('known');
    // same seed, same code
    const again = drive(codeMachine, {}, envFor(SIDE_A, 9));
    again.send({ type: 'connected' });
    again.send({ type: 'allocate', words: 3 });
    expect(announced(again.send({ type: 'rx_allocated', nameplate: '17' }))).toBe(code);
    // a stray second allocation answer changes nothing
    expect(c.send({ type: 'rx_allocated', nameplate: '18' })).toEqual([]);
  });

  it('set_code announces at once, offline or not; a later allocate is not accepted', () => {
    const c = drive(codeMachine, {});
    expect(announced(c.send({ type: 'set_code', code: CODE }))).toBe(CODE);
    expect(c.send({ type: 'allocate', words: 2 })).toEqual([]);
    expect(c.handled).toBe(false);
  });
});

// ---------------------------------------------------------------- Boss

describe('Boss', () => {
  const msg = (phase: string, text: string) => ({ type: 'got_message', phase, plaintext: utf8(text) }) as const;
  const delivered = (effects: Routed[]) =>
    ioEffects(effects).map((e) => {
      if (e.type !== 'message') throw new Error(`expected io.message, got ${e.type}`);
      return fromUtf8(e.plaintext);
    });
  const happyBoss = () => {
    const b = drive(bossMachine, initialBossCtx);
    b.send({ type: 'got_code', code: CODE });
    b.send({ type: 'happy' });
    expect(b.state).toBe('happy');
    return b;
  };

  it('got_code tells the driver; sends are numbered from 0 whatever the state', () => {
    const b = drive(bossMachine, initialBossCtx);
    expect(b.send({ type: 'send', plaintext: utf8('a') })).toEqual([to('send', { type: 'send', phase: '0', plaintext: utf8('a') })]);
    expect(b.send({ type: 'got_code', code: CODE })).toEqual([io({ type: 'code', code: CODE })]);
    expect(b.state).toBe('lonely');
    expect(b.send({ type: 'send', plaintext: utf8('b') })).toEqual([to('send', { type: 'send', phase: '1', plaintext: utf8('b') })]);
    b.send({ type: 'happy' });
    expect(b.send({ type: 'send', plaintext: utf8('c') })).toEqual([to('send', { type: 'send', phase: '2', plaintext: utf8('c') })]);
  });

  it('the version phase becomes the versions effect (an unparsable one advertises nothing)', () => {
    const b = happyBoss();
    expect(b.send(msg('version', '{"app_versions":{"x":1}}'))).toEqual([io({ type: 'versions', versions: { app_versions: { x: 1 } } })]);
    expect(b.send(msg('version', 'not json'))).toEqual([io({ type: 'versions', versions: {} })]);
    expect(b.send(msg('version', '[1]'))).toEqual([io({ type: 'versions', versions: {} })]);
  });

  it('delivers phases in order across gaps and drops duplicates', () => {
    const b = happyBoss();
    expect(delivered(b.send(msg('1', 'one')))).toEqual([]);
    expect(delivered(b.send(msg('0', 'zero')))).toEqual(['zero', 'one']);
    expect(delivered(b.send(msg('3', 'three')))).toEqual([]);
    expect(delivered(b.send(msg('3', 'three again')))).toEqual([]);
    expect(delivered(b.send(msg('1', 'one again')))).toEqual([]);
    expect(delivered(b.send(msg('2', 'two')))).toEqual(['two', 'three']);
    expect(delivered(b.send(msg('4', 'four')))).toEqual(['four']);
    expect(b.ctx.rxPhases.size).toBe(0);
  });

  it('unknown phases are ignored (forward compatibility)', () => {
    const b = happyBoss();
    for (const phase of ['dilate-0', 'hello', '-1', '1.5', '0x1', '']) {
      expect(b.send(msg(phase, 'x'))).toEqual([]);
      expect(b.handled).toBe(true);
    }
    expect(delivered(b.send(msg('0', 'zero')))).toEqual(['zero']);
  });

  it(`a phase more than ${MAX_PHASE_GAP} ahead: scared with RemoteProtocol (nothing buffered)`, () => {
    const b = happyBoss();
    expect(b.send(msg(String(MAX_PHASE_GAP), 'ok, at the bound'))).toEqual([]);
    const error = scaredError(b.send(msg(String(MAX_PHASE_GAP + 1), 'too far')));
    expect(error?.code).toBe('RemoteProtocol');
    expect(b.ctx.rxPhases.size).toBe(1);
    expect(b.send({ type: 'scared', ...(error ? { error } : {}) })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'scary' })]);
    expect(b.send({ type: 'closed' })).toEqual([io({ type: 'closed', result: error! })]);
  });

  it('a 15-digit phase is a gap, not a crash', () => {
    const b = happyBoss();
    expect(scaredError(b.send(msg('999999999999999', 'x')))?.code).toBe('RemoteProtocol');
  });

  it('close while lonely: mood lonely, result Lonely', () => {
    const b = drive(bossMachine, initialBossCtx);
    b.send({ type: 'got_code', code: CODE });
    expect(b.send({ type: 'close' })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'lonely' })]);
    expect(b.state).toBe('closing');
    const [closed] = ioEffects(b.send({ type: 'closed' }));
    expect(closed).toMatchObject({ type: 'closed', result: { code: 'Lonely', blame: 'caller' } });
    expect(b.state).toBe('closed');
  });

  it('close before a code: lonely too', () => {
    const b = drive(bossMachine, initialBossCtx);
    expect(b.send({ type: 'close' })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'lonely' })]);
  });

  it('close while happy: mood happy, result happy; everything after is ignored', () => {
    const b = happyBoss();
    expect(b.send({ type: 'close' })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'happy' })]);
    for (const ev of [{ type: 'send', plaintext: utf8('x') }, { type: 'close' }, { type: 'scared' }, msg('0', 'x'), msg('version', '{}')] as const) {
      expect(b.send(ev)).toEqual([]);
      expect(b.handled).toBe(true);
    }
    expect(b.send({ type: 'closed' })).toEqual([io({ type: 'closed', result: 'happy' })]);
    expect(b.send({ type: 'closed' })).toEqual([]);
  });

  it('scared (a message failed to decrypt): mood scary, result WrongPassword', () => {
    for (const setup of [[], [{ type: 'happy' }]] as const) {
      const b = drive(bossMachine, initialBossCtx);
      b.send({ type: 'got_code', code: CODE });
      for (const ev of setup) b.send(ev);
      expect(b.send({ type: 'scared' })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'scary' })]);
      expect(ioEffects(b.send({ type: 'closed' }))[0]).toMatchObject({ result: { code: 'WrongPassword', blame: 'peer' } });
    }
  });

  it('rx_error: mood errory; rx_unwelcome: mood unwelcome; the result is their error', () => {
    const serverError = new WormholeError('ServerError', 'mailbox server error: nope');
    const a = drive(bossMachine, initialBossCtx);
    expect(a.send({ type: 'rx_error', error: serverError })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'errory' })]);
    expect(ioEffects(a.send({ type: 'closed' }))).toEqual([{ type: 'closed', result: serverError }]);

    const welcome = new WormholeError('Welcome', 'go away');
    const b = happyBoss();
    expect(b.send({ type: 'rx_unwelcome', error: welcome })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'unwelcome' })]);
    expect(b.send({ type: 'rx_error', error: serverError })).toEqual([]);
    expect(ioEffects(b.send({ type: 'closed' }))).toEqual([{ type: 'closed', result: welcome }]);
  });

  it('error (local failure): closed at once, stopping the connection', () => {
    for (const setup of [[], [{ type: 'got_code', code: CODE }], [{ type: 'got_code', code: CODE }, { type: 'happy' }], [{ type: 'close' }]] as const) {
      const b = drive(bossMachine, initialBossCtx);
      for (const ev of setup) b.send(ev);
      const error = new WormholeError('ServerProtocol', 'bad frame');
      expect(b.send({ type: 'error', error })).toEqual([to('rendezvous', { type: 'stop' }), io({ type: 'closed', result: error })]);
      expect(b.state).toBe('closed');
      expect(b.send({ type: 'error', error })).toEqual([]);
      expect(b.send({ type: 'closed' })).toEqual([]);
    }
  });

  it('the welcome goes to the driver in every state', () => {
    const b = drive(bossMachine, initialBossCtx);
    const welcome = { motd: 'hi' };
    expect(b.send({ type: 'rx_welcome', welcome })).toEqual([io({ type: 'welcome', welcome })]);
    b.send({ type: 'close' });
    expect(b.send({ type: 'rx_welcome', welcome })).toEqual([io({ type: 'welcome', welcome })]);
  });
});

// ---------------------------------------------------------------- Terminator

describe('Terminator', () => {
  const closeNameplate = to('nameplate', { type: 'close' });
  const closeMailbox = to('mailbox', { type: 'close', mood: 'happy' });
  const stop = to('rendezvous', { type: 'stop' });
  type Step = 'close' | 'nameplate_done' | 'mailbox_done';
  const orders: Step[][] = [
    ['close', 'nameplate_done', 'mailbox_done'],
    ['close', 'mailbox_done', 'nameplate_done'],
    ['nameplate_done', 'close', 'mailbox_done'],
    ['mailbox_done', 'close', 'nameplate_done'],
    ['nameplate_done', 'mailbox_done', 'close'],
    ['mailbox_done', 'nameplate_done', 'close'],
  ];
  for (const order of orders) {
    it(`${order.join(' → ')}: closes what is open, stops the connection last, then tells Boss`, () => {
      const t = drive(terminatorMachine, {});
      const effects: Routed[] = [];
      let stoppedAt = -1;
      order.forEach((step, i) => {
        const ev: TerminatorEvent = step === 'close' ? { type: 'close', mood: 'happy' } : { type: step };
        const out = t.send(ev);
        expect(t.handled).toBe(true);
        if (out.some((e) => e.to === 'rendezvous')) stoppedAt = i;
        effects.push(...out);
      });
      const closeIdx = order.indexOf('close');
      const expected = [
        ...(order.indexOf('nameplate_done') > closeIdx ? [closeNameplate] : []),
        ...(order.indexOf('mailbox_done') > closeIdx ? [closeMailbox] : []),
        stop,
      ];
      expect(effects).toEqual(expected);
      expect(stoppedAt).toBe(2);
      expect(t.state).toBe('stopping');
      expect(t.send({ type: 'stopped' })).toEqual([to('boss', { type: 'closed' })]);
      expect(t.state).toBe('stopped');
    });
  }

  it('passes the mood to Mailbox', () => {
    const t = drive(terminatorMachine, {});
    expect(t.send({ type: 'close', mood: 'scary' })).toEqual([closeNameplate, to('mailbox', { type: 'close', mood: 'scary' })]);
  });
});

// ---------------------------------------------------------------- Rendezvous

describe('Rendezvous', () => {
  const online = (['nameplate', 'mailbox', 'code'] as const).map((m) => to(m, { type: 'connected' }));
  const offline = (['nameplate', 'mailbox', 'code'] as const).map((m) => to(m, { type: 'lost' }));
  const bind = tx({ type: 'bind', appid: APPID, side: SIDE_A, client_version: ['burrow', '0.1.0'] });
  const zeros = (n: number) => new Uint8Array(n);
  const timers = (effects: Routed[]) => ioEffects(effects).flatMap((e) => (e.type === 'set_timer' ? [e.ms] : []));

  it('start connects; connection_made binds first, then tells the machines', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    expect(r.send({ type: 'start' })).toEqual([io({ type: 'connect' })]);
    expect(r.send({ type: 'connection_made' })).toEqual([bind, ...online]);
    expect(r.state).toBe('connected');
  });

  it('a first connection that fails is an error, with no retry', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    r.send({ type: 'start' });
    const effects = r.send({ type: 'connection_lost' });
    expect(effects).toHaveLength(1);
    const e = effects[0]!;
    if (e.to !== 'boss' || e.event.type !== 'error') throw new Error('expected boss.error');
    expect(e.event.error.code).toBe('Connection');
    expect(r.state).toBe('stopped');
    expect(r.send({ type: 'timer' })).toEqual([]);
  });

  it('after a loss: offline, then a backoff that grows by the factor and stops at the cap', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    r.send({ type: 'start' });
    r.send({ type: 'connection_made' });
    expect(r.send({ type: 'connection_lost' })).toEqual([...offline, io({ type: 'set_timer', ms: 1000 })]);
    expect(r.state).toBe('waiting');
    const delays: number[] = [1000];
    for (let i = 0; i < 14; i++) {
      expect(r.send({ type: 'timer' })).toEqual([io({ type: 'connect' })]);
      delays.push(...timers(r.send({ type: 'connection_lost' })));
    }
    expect(delays.slice(0, 5)).toEqual([1000, 1500, 2250, 3375, 5063]);
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThanOrEqual(delays[i - 1]!);
    expect(delays.at(-1)).toBe(DEFAULT_RECONNECT.maxMs);
    expect(Math.max(...delays)).toBe(DEFAULT_RECONNECT.maxMs);
    // a successful reconnection resets the backoff
    r.send({ type: 'timer' });
    expect(r.send({ type: 'connection_made' })).toEqual([bind, ...online]);
    expect(timers(r.send({ type: 'connection_lost' }))).toEqual([1000]);
  });

  it('jitter adds at most 10%, from the injected randomness', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: (n) => new Uint8Array(n).fill(255) }));
    r.send({ type: 'start' });
    r.send({ type: 'connection_made' });
    expect(timers(r.send({ type: 'connection_lost' }))).toEqual([1100]);
  });

  it('follows a custom policy', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros, reconnect: { initialMs: 10, maxMs: 35, factor: 2 } }));
    r.send({ type: 'start' });
    r.send({ type: 'connection_made' });
    const delays = timers(r.send({ type: 'connection_lost' }));
    for (let i = 0; i < 3; i++) {
      r.send({ type: 'timer' });
      delays.push(...timers(r.send({ type: 'connection_lost' })));
    }
    expect(delays).toEqual([10, 20, 35, 35]);
  });

  it('stop while connected disconnects and reports stopped once the connection is gone', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    r.send({ type: 'start' });
    r.send({ type: 'connection_made' });
    expect(r.send({ type: 'stop' })).toEqual([io({ type: 'disconnect' })]);
    expect(r.send({ type: 'connection_lost' })).toEqual([to('terminator', { type: 'stopped' })]);
    expect(r.state).toBe('stopped');
    expect(r.send({ type: 'stop' })).toEqual([]);
  });

  it('stop while waiting cancels the timer and is stopped at once', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    r.send({ type: 'start' });
    r.send({ type: 'connection_made' });
    r.send({ type: 'connection_lost' });
    expect(r.send({ type: 'stop' })).toEqual([io({ type: 'cancel_timer' }), to('terminator', { type: 'stopped' })]);
  });

  it('stop while connecting: a connection that opens anyway is closed again', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    r.send({ type: 'start' });
    expect(r.send({ type: 'stop' })).toEqual([io({ type: 'disconnect' })]);
    expect(r.send({ type: 'connection_made' })).toEqual([io({ type: 'disconnect' })]);
    expect(r.send({ type: 'connection_lost' })).toEqual([to('terminator', { type: 'stopped' })]);
  });

  it('stop before start is stopped at once', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx);
    expect(r.send({ type: 'stop' })).toEqual([to('terminator', { type: 'stopped' })]);
  });
});
