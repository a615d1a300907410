/** Receive machine unit tests: fed one event at a time, with the exact effects it must produce (after magic-wormhole's test_machines.py). */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/bytes.js';
import { receiveMachine } from '../../src/machines/receive.js';
import { to } from '../../src/machines/types.js';
import { SIDE_A, SIDE_B, drive, KEY, box } from './support.js';

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
