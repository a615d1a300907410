/** Send machine unit tests: fed one event at a time, with the exact effects it must produce (after magic-wormhole's test_machines.py). */
import { describe, expect, it } from 'vitest';
import { fromHex, fromUtf8, utf8 } from '../../src/bytes.js';
import { decryptPhaseMessage } from '../../src/secretbox.js';
import { sendMachine } from '../../src/machines/send.js';
import { to } from '../../src/machines/types.js';
import { SIDE_A, envFor, drive, KEY } from './support.js';

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
