/** Terminator machine unit tests: fed one event at a time, with the exact effects it must produce (after magic-wormhole's test_machines.py). */
import { describe, expect, it } from 'vitest';
import { terminatorMachine } from '../../src/machines/terminator.js';
import { to, type Routed, type TerminatorEvent } from '../../src/machines/types.js';
import { drive } from './support.js';

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
