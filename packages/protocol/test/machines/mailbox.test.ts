/** Mailbox machine unit tests: fed one event at a time, with the exact effects it must produce (after magic-wormhole's test_machines.py). */
import { describe, expect, it } from 'vitest';
import { initialMailboxCtx, mailboxMachine } from '../../src/machines/mailbox.js';
import { to } from '../../src/machines/types.js';
import { SIDE_A, SIDE_B, drive, tx } from './support.js';

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
