/** The machine toolkit: defineMachine, and checks that hold for every transition table. */
import { describe, expect, it } from 'vitest';
import { defineMachine } from '../../src/machines/machine.js';
import { nameplateMachine } from '../../src/machines/nameplate.js';
import { MACHINES } from '../../src/machines/session.js';
import { to } from '../../src/machines/types.js';
import { drive } from './support.js';

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
