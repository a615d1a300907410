// The Redis engine's sans-I/O half: log entries survive their Redis encoding,
// and replicas fed the same entries agree — same nameplate, same mailbox id,
// same state — while each sends only its own connections' frames.
import { describe, expect, it } from 'vitest';
import type { MailboxEffect } from '@burrow/protocol/server';
import type { EngineOutput } from '../src/mailbox/engine.js';
import { decodeEntry, encodeEntry, Replica, type LogEntry } from '../src/mailbox/replica.js';

const APPID = 'lothar.com/wormhole/text-or-file-xfer';

function replica(proc: string): { replica: Replica; sent: { to: number; frame: Record<string, unknown> }[]; lost: number[] } {
  const sent: { to: number; frame: Record<string, unknown> }[] = [];
  const lost: number[] = [];
  const events = {
    output: (out: EngineOutput) => {
      for (const e of out.effects as MailboxEffect[]) if (e.type === 'send') sent.push({ to: e.to, frame: JSON.parse(e.frame) as Record<string, unknown> });
    },
    crashed: () => {
      throw new Error('unexpected crash');
    },
    lost: (conn: number) => lost.push(conn),
  };
  return { replica: new Replica(proc, { now: 0 }, events), sent, lost };
}

const frame = (proc: string, conn: number, body: Record<string, unknown>, seed = `${proc}${conn}${JSON.stringify(body)}`): LogEntry => ({
  type: 'frame',
  proc,
  conn,
  data: JSON.stringify(body),
  now: 1_000,
  seed,
});

describe('mailbox log entries', () => {
  it('round-trip through stream fields, binary frames included; unknown types are skipped', () => {
    const entries: LogEntry[] = [
      { type: 'connect', proc: 'p1', conn: 7, address: '192.0.2.1', now: 5, seed: 'ab' },
      frame('p1', 7, { type: 'ping', ping: 1 }),
      { type: 'frame', proc: 'p1', conn: 7, data: new Uint8Array([123, 0, 255]), now: 6, seed: 'cd' },
      { type: 'disconnect', proc: 'p1', conn: 7 },
      { type: 'prune', proc: 'p2', now: 9, expiryMs: 660_000 },
      { type: 'gone', proc: 'p3' },
    ];
    for (const e of entries) expect(decodeEntry(encodeEntry(e))).toEqual(e);
    expect(decodeEntry(['t', 'snapshot', 'p', 'p1'])).toBeUndefined();
    expect(decodeEntry(['t', 'frame', 'p', 'p1', 'c', 'x'])).toBeUndefined();
  });
});

describe('Replica', () => {
  it('replicas fed the same log agree, and each sends only to its own connections', () => {
    const one = replica('p1');
    const two = replica('p2');
    const log: LogEntry[] = [
      { type: 'connect', proc: 'p1', conn: 1, address: '192.0.2.1', now: 1_000, seed: 's1' },
      { type: 'connect', proc: 'p2', conn: 1, address: '192.0.2.2', now: 1_000, seed: 's2' },
      frame('p1', 1, { type: 'bind', appid: APPID, side: 'aaaa' }),
      frame('p1', 1, { type: 'allocate' }),
      frame('p2', 1, { type: 'bind', appid: APPID, side: 'bbbb' }),
    ];
    for (const e of log) for (const r of [one, two]) r.replica.apply(e);
    const allocated = one.sent.find((s) => s.frame['type'] === 'allocated')!;
    expect(allocated.to).toBe(1);
    expect(two.sent.some((s) => s.frame['type'] === 'allocated')).toBe(false);
    const nameplate = allocated.frame['nameplate'] as string;
    const more: LogEntry[] = [
      frame('p1', 1, { type: 'claim', nameplate }),
      frame('p2', 1, { type: 'claim', nameplate }),
    ];
    for (const e of more) for (const r of [one, two]) r.replica.apply(e);
    const mailboxOne = one.sent.find((s) => s.frame['type'] === 'claimed')!.frame['mailbox'];
    const mailboxTwo = two.sent.find((s) => s.frame['type'] === 'claimed')!.frame['mailbox'];
    expect(mailboxOne).toBe(mailboxTwo);
    const opens: LogEntry[] = [
      frame('p1', 1, { type: 'open', mailbox: mailboxOne }),
      frame('p2', 1, { type: 'open', mailbox: mailboxOne }),
      frame('p1', 1, { type: 'add', phase: 'pake', body: 'aa01' }),
    ];
    for (const e of opens) for (const r of [one, two]) r.replica.apply(e);
    // The add on p1 reaches the listener on p2 (and the sender's own echo on p1).
    expect(two.sent.filter((s) => s.frame['type'] === 'message').map((s) => s.frame['body'])).toEqual(['aa01']);
    expect(one.sent.filter((s) => s.frame['type'] === 'message').map((s) => s.frame['body'])).toEqual(['aa01']);
    expect(one.replica.core.snapshot()).toEqual(two.replica.core.snapshot());
    expect(one.replica.core.stats()).toEqual(two.replica.core.stats());
  });

  it('gone drops every connection of a process everywhere; the process itself hears it as lost', () => {
    const one = replica('p1');
    const two = replica('p2');
    const log: LogEntry[] = [
      { type: 'connect', proc: 'p1', conn: 1, address: '192.0.2.1', now: 1_000, seed: 's1' },
      { type: 'connect', proc: 'p1', conn: 2, address: '192.0.2.1', now: 1_000, seed: 's2' },
      { type: 'gone', proc: 'p1' },
    ];
    for (const e of log) for (const r of [one, two]) r.replica.apply(e);
    expect(one.lost.sort()).toEqual([1, 2]);
    expect(two.lost).toEqual([]);
    expect(two.replica.core.stats().connections).toBe(0);
    expect(two.replica.otherProcesses()).toEqual([]);
  });
});
