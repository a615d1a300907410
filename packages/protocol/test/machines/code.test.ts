/** Code machine unit tests: fed one event at a time, with the exact effects it must produce (after magic-wormhole's test_machines.py). */
import { describe, expect, it } from 'vitest';
import { codeMachine } from '../../src/machines/code.js';
import { io, to, type Routed } from '../../src/machines/types.js';
import { SIDE_A, CODE, envFor, drive, tx } from './support.js';

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
