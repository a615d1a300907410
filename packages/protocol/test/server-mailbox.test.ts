// The mailbox server's protocol rules, checked against the behaviour of
// wormhole_mailbox_server 0.4.1 (server_websocket.py / server.py).
import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_FRAME_DEPTH } from '../src/server/index.js';
import { APPID, errors, harness, openMailbox, rejoinRestored, type TestClient } from './support/mailbox-harness.js';

/** Two bound clients that claimed and opened the same nameplate. */
function pair(h: ReturnType<typeof harness>): { a: TestClient; b: TestClient; nameplate: string; mailbox: string } {
  const { a, nameplate, mailbox } = openMailbox(h);
  const b = h.connect();
  b.bind(APPID, 'bbbb');
  const [claimedB] = b.send({ type: 'claim', nameplate });
  expect(claimedB).toMatchObject({ type: 'claimed', mailbox });
  b.send({ type: 'open', mailbox });
  return { a, b, nameplate, mailbox };
}

describe('mailbox: connection basics', () => {
  it('welcomes with an empty welcome by default and server_tx in seconds', () => {
    const h = harness();
    const c = h.connect();
    const [welcome] = c.take();
    expect(welcome).toEqual({ type: 'welcome', welcome: {}, server_tx: h.now / 1000 });
  });

  it('puts motd, current_cli_version and error in the welcome', () => {
    const h = harness({ welcome: { motd: 'hi there', currentCliVersion: '0.12.0', error: 'go away' } });
    const [welcome] = h.connect().take();
    expect(welcome!['welcome']).toEqual({ motd: 'hi there', current_cli_version: '0.12.0', error: 'go away' });
  });

  it('acks every message with its id, before anything else, even errors and unknown types', () => {
    const h = harness();
    const c = h.connect();
    c.take();
    expect(c.sendRaw({ type: 'ping', ping: 7, id: 'abcd' })).toEqual([
      { type: 'ack', id: 'abcd', server_tx: h.now / 1000 },
      { type: 'pong', pong: 7, server_tx: h.now / 1000 },
    ]);
    const got = c.sendRaw({ type: 'frobnicate', id: { any: ['json'] } });
    expect(got[0]).toMatchObject({ type: 'ack', id: { any: ['json'] } });
    expect(got[1]).toMatchObject({ type: 'error', error: 'must bind first' });
    // No id: acked with id null, like Python's msg.get("id").
    expect(c.sendRaw({ type: 'ping', ping: 1 })[0]).toMatchObject({ type: 'ack', id: null });
  });

  it("refuses a frame without 'type' without acking it, echoing the original", () => {
    const h = harness();
    const c = h.connect();
    expect(c.sendRaw({ id: 'x1', hello: 1 })).toEqual([
      { type: 'error', error: "missing 'type'", orig: { id: 'x1', hello: 1 }, server_tx: h.now / 1000 },
    ]);
  });

  it('answers ping without bind, and requires its ping key', () => {
    const h = harness();
    const c = h.connect();
    expect(c.send({ type: 'ping', ping: 'anything' })).toMatchObject([{ type: 'pong', pong: 'anything' }]);
    expect(errors(c.send({ type: 'ping' }))).toEqual(["ping requires 'ping'"]);
  });

  it('requires bind first, once, with appid and side', () => {
    const h = harness();
    const c = h.connect();
    for (const type of ['list', 'allocate', 'claim', 'release', 'open', 'add', 'close', 'nonsense']) {
      expect(errors(c.send({ type }))).toEqual(['must bind first']);
    }
    expect(errors(c.send({ type: 'bind', side: 's' }))).toEqual(["bind requires 'appid'"]);
    expect(errors(c.send({ type: 'bind', appid: 'a' }))).toEqual(["bind requires 'side'"]);
    expect(c.send({ type: 'bind', appid: 'a', side: 's' })).toEqual([]);
    expect(errors(c.send({ type: 'bind', appid: 'a', side: 's' }))).toEqual(['already bound']);
    expect(errors(c.send({ type: 'nonsense' }))).toEqual(['unknown type']);
  });

  it('refuses non-string and oversized fields instead of crashing', () => {
    const h = harness({ limits: { maxFieldChars: 16 } });
    const c = h.connect();
    expect(errors(c.send({ type: 'bind', appid: 5, side: 's' }))).toEqual(["'appid' must be a string"]);
    expect(errors(c.send({ type: 'bind', appid: 'a', side: 'x'.repeat(17) }))).toEqual(["'side' is too long"]);
    c.bind('a', 's');
    expect(errors(c.send({ type: 'claim', nameplate: ['1'] }))).toEqual(["'nameplate' must be a string"]);
    expect(errors(c.send({ type: 'open', mailbox: null }))).toEqual(["'mailbox' must be a string"]);
  });

  it('answers malformed frames with an error and keeps the connection', () => {
    const h = harness();
    const c = h.connect();
    expect(errors(c.send('{not json'))).toEqual(['invalid frame (not json)']);
    expect(errors(c.send('[1,2]'))).toEqual(['invalid frame (not object)']);
    expect(errors(c.send(new Uint8Array([0xff, 0xfe])))).toEqual(['invalid frame (not utf8)']);
    expect(errors(c.send('x'.repeat(300_000)))).toEqual(['invalid frame (too large)']);
    // Nesting is bounded: a frame deeper than MAX_CLIENT_FRAME_DEPTH is
    // refused before JSON.parse sees it; one within the bound is echoed.
    const deep = `${'['.repeat(60_000)}${']'.repeat(60_000)}`;
    expect(c.sendRaw(`{"type":"ping","id":${deep},"ping":${deep}}`)).toMatchObject([{ type: 'error', error: 'invalid frame (too deep)', orig: null }]);
    const within = `${'['.repeat(MAX_CLIENT_FRAME_DEPTH - 1)}${']'.repeat(MAX_CLIENT_FRAME_DEPTH - 1)}`;
    expect(c.sendRaw(`{"type":"ping","id":1,"ping":${within}}`)).toMatchObject([{ type: 'ack', id: 1 }, { type: 'pong', pong: JSON.parse(within) }]);
    expect(errors(c.send(`{"type":"bind","x":${within}}`))).toEqual(["bind requires 'appid'"]);
    // Binary frames holding JSON are read like text, as Python does.
    expect(c.send(new TextEncoder().encode('{"type":"ping","ping":2}'))).toMatchObject([{ type: 'pong', pong: 2 }]);
  });
});

describe('mailbox: nameplates', () => {
  it('allocates among 1-9 first, then 10-99, never a taken one, one per connection', () => {
    const h = harness();
    const seen: string[] = [];
    for (let i = 0; i < 12; i++) {
      const c = h.connect();
      c.bind(APPID, `side-${i}`);
      const [allocated] = c.send({ type: 'allocate' });
      expect(allocated!.type).toBe('allocated');
      seen.push(allocated!['nameplate'] as string);
      if (i === 0) expect(errors(c.send({ type: 'allocate' }))).toEqual(["you already allocated one, don't be greedy"]);
    }
    expect(seen.slice(0, 9).sort()).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    for (const n of seen.slice(9)) expect(Number(n)).toBeGreaterThanOrEqual(10);
    expect(new Set(seen).size).toBe(12);
  });

  it('allocation is per appid', () => {
    const h = harness();
    const a = h.connect();
    a.bind('app-one', 's1');
    const b = h.connect();
    b.bind('app-two', 's2');
    a.send({ type: 'allocate' });
    b.send({ type: 'allocate' });
    expect(a.send({ type: 'list' })).toMatchObject([{ type: 'nameplates', nameplates: [expect.any(Object)] }]);
    expect(b.send({ type: 'list' })[0]!['nameplates']).toHaveLength(1);
  });

  it('claim gives both sides the same mailbox id (13 chars of lower base32)', () => {
    const h = harness();
    const { mailbox } = pair(h);
    expect(mailbox).toMatch(/^[a-z2-7]{13}$/);
  });

  it('claim creates an unknown nameplate; one claim per connection', () => {
    const h = harness();
    const c = h.connect();
    c.bind();
    expect(errors(c.send({ type: 'claim' }))).toEqual(["claim requires 'nameplate'"]);
    expect(c.send({ type: 'claim', nameplate: '4321' })).toMatchObject([{ type: 'claimed' }]);
    expect(errors(c.send({ type: 'claim', nameplate: '4321' }))).toEqual(['only one claim per connection']);
    expect(c.send({ type: 'list' })).toMatchObject([{ nameplates: [{ id: '4321' }] }]);
  });

  it('a third side is told "crowded" and leaves no trace', () => {
    const h = harness();
    const { nameplate, mailbox } = pair(h);
    const c = h.connect();
    c.bind(APPID, 'cccc');
    expect(errors(c.send({ type: 'claim', nameplate }))).toEqual(['crowded']);
    const d = h.connect();
    d.bind(APPID, 'dddd');
    expect(errors(d.send({ type: 'open', mailbox }))).toEqual(['crowded']);
    // The two real sides reconnect and claim/open again without trouble
    // (Python would now call them crowded too).
    const a2 = h.connect();
    a2.bind(APPID, 'aaaa');
    expect(a2.send({ type: 'claim', nameplate })).toMatchObject([{ type: 'claimed', mailbox }]);
    expect(errors(a2.send({ type: 'open', mailbox }))).toEqual([]);
    expect(h.logs.some((l) => l.event === 'mailbox.crowded')).toBe(true);
  });

  it('a side that released may not claim again ("reclaimed")', () => {
    const h = harness();
    const { a, nameplate } = pair(h);
    expect(a.send({ type: 'release', nameplate })).toMatchObject([{ type: 'released' }]);
    const a2 = h.connect();
    a2.bind(APPID, 'aaaa');
    expect(errors(a2.send({ type: 'claim', nameplate }))).toEqual(['reclaimed']);
  });

  it('release: errors, once per connection, nameplate gone when both released', () => {
    const h = harness();
    const c = h.connect();
    c.bind();
    expect(errors(c.send({ type: 'release' }))).toEqual(['release without nameplate must follow claim']);
    // Releasing a nameplate nobody claims is fine.
    expect(c.send({ type: 'release', nameplate: '99' })).toMatchObject([{ type: 'released' }]);
    expect(errors(c.send({ type: 'release', nameplate: '99' }))).toEqual(['only one release per connection']);

    const { a, b, nameplate } = pair(h);
    expect(errors(a.send({ type: 'release', nameplate: 'other' }))).toEqual(['release and claim must use same nameplate']);
    expect(a.send({ type: 'release' })).toMatchObject([{ type: 'released' }]);
    expect(a.send({ type: 'list' })[0]!['nameplates']).toEqual([{ id: nameplate }]);
    expect(b.send({ type: 'release', nameplate })).toMatchObject([{ type: 'released' }]);
    expect(a.send({ type: 'list' })[0]!['nameplates']).toEqual([]);
  });

  it('list is sorted, and empty when listing is disallowed', () => {
    const h = harness();
    const c = h.connect();
    c.bind();
    for (const [i, n] of ['30', '4', '100'].entries()) {
      const x = h.connect();
      x.bind(APPID, `s${i}`);
      x.send({ type: 'claim', nameplate: n });
    }
    expect(c.send({ type: 'list' })[0]!['nameplates']).toEqual([{ id: '100' }, { id: '30' }, { id: '4' }]);
    const h2 = harness({ allowList: false });
    const d = h2.connect();
    d.bind();
    d.send({ type: 'claim', nameplate: '5' });
    expect(d.send({ type: 'list' })).toMatchObject([{ type: 'nameplates', nameplates: [] }]);
  });
});

describe('mailbox: mailboxes and messages', () => {
  it('echoes every add to all subscribers, the sender included, with side, phase, body, server_rx and id', () => {
    const h = harness();
    const { a, b } = pair(h);
    h.now += 1500;
    const got = a.send({ type: 'add', phase: 'pake', body: 'abcd', id: 'm1' });
    const expected = { type: 'message', side: 'aaaa', phase: 'pake', body: 'abcd', server_rx: h.now / 1000, id: 'm1', server_tx: h.now / 1000 };
    expect(got).toEqual([expected]);
    expect(b.take()).toEqual([expected]);
  });

  it('sends the messages so far on open, oldest first', () => {
    const h = harness();
    const a = h.connect();
    a.bind(APPID, 'aaaa');
    const [claimed] = a.send({ type: 'claim', nameplate: '7' });
    const mailbox = claimed!['mailbox'] as string;
    a.send({ type: 'open', mailbox });
    a.send({ type: 'add', phase: 'pake', body: '01' });
    a.send({ type: 'add', phase: 'version', body: '02' });
    const b = h.connect();
    b.bind(APPID, 'bbbb');
    b.send({ type: 'claim', nameplate: '7' });
    expect(b.send({ type: 'open', mailbox }).map((m) => m['phase'])).toEqual(['pake', 'version']);
  });

  it('open: requires mailbox, once (until close); add: requires open, phase and body', () => {
    const h = harness();
    const c = h.connect();
    c.bind();
    expect(errors(c.send({ type: 'add', phase: 'p', body: 'b' }))).toEqual(['must open mailbox before adding']);
    expect(errors(c.send({ type: 'open' }))).toEqual(["open requires 'mailbox'"]);
    expect(c.send({ type: 'open', mailbox: 'mb1' })).toEqual([]);
    expect(errors(c.send({ type: 'open', mailbox: 'mb1' }))).toEqual(['only one open per connection']);
    expect(errors(c.send({ type: 'add', body: 'b' }))).toEqual(["missing 'phase'"]);
    expect(errors(c.send({ type: 'add', phase: 'p' }))).toEqual(["missing 'body'"]);
    expect(errors(c.send({ type: 'add', phase: 'p', body: 5 }))).toEqual(["'body' must be a string"]);
  });

  it('close: errors, once per connection, mailbox deleted when both sides closed', () => {
    const h = harness();
    const c = h.connect();
    c.bind();
    expect(errors(c.send({ type: 'close' }))).toEqual(['close without mailbox must follow open']);

    const { a, b, mailbox } = pair(h);
    a.send({ type: 'add', phase: 'pake', body: 'aa' });
    b.take();
    expect(errors(a.send({ type: 'close', mailbox: 'other' }))).toEqual(['open and close must use same mailbox']);
    expect(a.send({ type: 'close', mood: 'happy' })).toMatchObject([{ type: 'closed' }]);
    expect(errors(a.send({ type: 'close', mood: 'happy' }))).toEqual(['only one close per connection']);
    expect(h.core.stats()).toMatchObject({ mailboxes: 1, messages: 1 });
    expect(b.send({ type: 'close', mailbox, mood: 'happy' })).toMatchObject([{ type: 'closed' }]);
    expect(h.core.stats()).toMatchObject({ mailboxes: 0, messages: 0 });
  });

  it('a close re-sent on a new connection (without open) still closes', () => {
    const h = harness();
    const { a, b, mailbox } = pair(h);
    a.send({ type: 'close', mood: 'happy' });
    b.disconnect();
    const b2 = h.connect();
    b2.bind(APPID, 'bbbb');
    expect(b2.send({ type: 'close', mailbox, mood: 'lonely' })).toMatchObject([{ type: 'closed' }]);
    expect(h.core.stats()).toMatchObject({ mailboxes: 0 });
    // And again, after it is gone: Python re-creates it and deletes it again.
    const b3 = h.connect();
    b3.bind(APPID, 'bbbb');
    expect(b3.send({ type: 'close', mailbox, mood: 'lonely' })).toMatchObject([{ type: 'closed' }]);
    expect(h.core.stats()).toMatchObject({ mailboxes: 0 });
  });

  it('a reconnecting side re-opens its mailbox and gets everything', () => {
    const h = harness();
    const { a, b, mailbox } = pair(h);
    a.send({ type: 'add', phase: 'pake', body: 'aa' });
    b.disconnect();
    a.send({ type: 'add', phase: 'version', body: 'bb' });
    const b2 = h.connect();
    b2.bind(APPID, 'bbbb');
    expect(b2.send({ type: 'open', mailbox }).map((m) => m['phase'])).toEqual(['pake', 'version']);
    a.send({ type: 'add', phase: '0', body: 'cc' });
    expect(b2.take().map((m) => m['phase'])).toEqual(['0']);
  });
});

describe('mailbox: expiry and limits', () => {
  it('prunes abandoned nameplates and mailboxes after the expiry, keeps subscribed ones', () => {
    const h = harness();
    const idle = h.connect();
    idle.bind(APPID, 'idle');
    idle.send({ type: 'allocate' });
    idle.disconnect();
    const busy = h.connect();
    busy.bind(APPID, 'busy');
    const [claimed] = busy.send({ type: 'claim', nameplate: '500' });
    busy.send({ type: 'open', mailbox: claimed!['mailbox'] });
    expect(h.core.stats()).toMatchObject({ nameplates: 2, mailboxes: 2 });

    h.now += 10 * 60_000;
    h.core.prune(h.now, 11 * 60_000);
    expect(h.core.stats()).toMatchObject({ nameplates: 2, mailboxes: 2 });
    h.now += 2 * 60_000;
    h.core.prune(h.now, 11 * 60_000);
    expect(h.core.stats()).toMatchObject({ nameplates: 1, mailboxes: 1, apps: 1 });
    busy.disconnect();
    h.now += 12 * 60_000;
    h.core.prune(h.now, 11 * 60_000);
    expect(h.core.stats()).toMatchObject({ nameplates: 0, mailboxes: 0, apps: 0, owners: 0 });
  });

  it('caps nameplates in total and per address', () => {
    const h = harness({ limits: { maxNameplates: 3, maxAllocationsPerAddress: 2 } });
    const alloc = (address: string, side: string): string[] => {
      const c = h.connect(address);
      c.bind(APPID, side);
      return errors(c.send({ type: 'allocate' }));
    };
    expect(alloc('10.0.0.1', 's1')).toEqual([]);
    expect(alloc('10.0.0.1', 's2')).toEqual([]);
    expect(alloc('10.0.0.1', 's3')).toEqual(['too many nameplates and mailboxes from your address']);
    expect(alloc('10.0.0.2', 's4')).toEqual([]);
    expect(alloc('10.0.0.3', 's5')).toEqual(['server is full, try again later']);
    expect(h.logs.filter((l) => l.event === 'mailbox.limit')).toHaveLength(2);
    // Opening random mailbox ids counts too.
    const c = h.connect('10.0.0.1');
    c.bind(APPID, 's6');
    expect(errors(c.send({ type: 'open', mailbox: 'whatever' }))).toEqual(['too many nameplates and mailboxes from your address']);
    expect(h.core.stats()).toMatchObject({ nameplates: 3, mailboxes: 3, apps: 1 });
  });

  it('caps messages and bytes per mailbox', () => {
    const h = harness({ limits: { maxMessagesPerMailbox: 3, maxMailboxChars: 100 } });
    const { a } = pair(h);
    for (let i = 0; i < 3; i++) expect(errors(a.send({ type: 'add', phase: String(i), body: 'ab' }))).toEqual([]);
    expect(errors(a.send({ type: 'add', phase: '3', body: 'ab' }))).toEqual(['mailbox is full']);
    const h2 = harness({ limits: { maxMailboxChars: 100 } });
    const { a: a2 } = pair(h2);
    expect(errors(a2.send({ type: 'add', phase: 'p', body: 'x'.repeat(99) }))).toEqual([]);
    expect(errors(a2.send({ type: 'add', phase: 'p', body: '' }))).toEqual(['mailbox is full']);
  });

  it('caps the characters held by all mailboxes together', () => {
    const h = harness({ limits: { maxTotalChars: 1_000 } });
    const one = pair(h);
    expect(errors(one.a.send({ type: 'add', phase: 'p', body: 'x'.repeat(599) }))).toEqual([]);
    const two = pair(h);
    expect(errors(two.a.send({ type: 'add', phase: 'p', body: 'x'.repeat(400) }))).toEqual(['server is full, try again later']);
    expect(errors(two.a.send({ type: 'add', phase: 'p', body: 'x'.repeat(399) }))).toEqual([]);
    expect(h.core.stats().chars).toBe(1_000);
    // Deleting a mailbox gives its share back.
    one.a.send({ type: 'close', mood: 'happy' });
    one.b.send({ type: 'close', mood: 'happy' });
    expect(h.core.stats().chars).toBe(400);
  });

  it('does not keep state for refused requests from random appids', () => {
    const h = harness({ limits: { maxAllocationsPerAddress: 0 } });
    for (let i = 0; i < 50; i++) {
      const c = h.connect();
      c.bind(`app-${i}`, 's');
      c.send({ type: 'allocate' });
      c.disconnect();
    }
    expect(h.core.stats()).toMatchObject({ apps: 0, nameplates: 0, mailboxes: 0, connections: 0 });
  });
});

describe('mailbox: restore', () => {
  it('resumes from a snapshot: nameplates, sides and messages', () => {
    const h = harness();
    const { a, nameplate, mailbox } = pair(h);
    a.send({ type: 'add', phase: 'pake', body: 'aa' });
    const h2 = harness({ restored: h.core.snapshot() });
    expect(rejoinRestored(h2, nameplate, mailbox)).toMatchObject({
      claimed: [{ type: 'claimed', mailbox }],
      opened: [{ type: 'message', side: 'aaaa', phase: 'pake', body: 'aa' }],
      thirdErrors: ['crowded'],
    });
  });
});
