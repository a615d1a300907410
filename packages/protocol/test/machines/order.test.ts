/** Order machine unit tests: fed one event at a time, with the exact effects it must produce (after magic-wormhole's test_machines.py). */
import { describe, expect, it } from 'vitest';
import { orderMachine } from '../../src/machines/order.js';
import { to } from '../../src/machines/types.js';
import { SIDE_B, drive } from './support.js';

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
