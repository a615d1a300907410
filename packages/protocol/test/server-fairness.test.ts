// Fair shares in the mailbox server, sans I/O: budgets keyed by address and
// prefix (IPv4 /24, IPv6 /64 and /48) on an injected clock, stored
// characters per address and prefix, abandoned allocations and old
// mailboxes expiring, and the usage records (Python's moods).
import { describe, expect, it } from 'vitest';
import { addressScopes, CountBudget, MAX_CLIENT_FRAME_CONTAINERS, parseClientFrame, RateBudget, type UsageRecord } from '../src/server/index.js';
import { turnCredential } from '../src/server/turn.js';
import { APPID, errors, harness, openMailbox } from './support/mailbox-harness.js';

describe('address scopes', () => {
  it('IPv4: the address and its /24; IPv6: the /64 and the /48; anything else: itself', () => {
    expect(addressScopes('192.0.2.77')).toEqual(['192.0.2.77', '192.0.2.0/24']);
    expect(addressScopes('2001:db8:1:2:3:4:5:6')).toEqual(['2001:db8:1:2::/64', '2001:db8:1::/48']);
    expect(addressScopes('2001:db8::1')).toEqual(['2001:db8:0:0::/64', '2001:db8:0::/48']);
    expect(addressScopes('::1')).toEqual(['0:0:0:0::/64', '0:0:0::/48']);
    expect(addressScopes('2001:DB8:0:7::ffff:10.0.0.1%eth0')).toEqual(['2001:db8:0:7::/64', '2001:db8:0::/48']);
    for (const odd of ['memory-3', '1:2:3', '::1::2', 'unknown']) expect(addressScopes(odd)).toEqual([odd]);
  });
});

describe('CountBudget and RateBudget', () => {
  it('charges an address and its prefix, refuses by the scope that is full, releases', () => {
    const b = new CountBudget({ perAddress: 2, perPrefix: 3 });
    expect(b.charge('10.0.0.1')).toBeUndefined();
    expect(b.charge('10.0.0.1')).toBeUndefined();
    expect(b.charge('10.0.0.1')).toBe('address');
    expect(b.charge('10.0.0.2')).toBeUndefined();
    expect(b.charge('10.0.0.3')).toBe('prefix');
    expect(b.charge('10.0.1.3')).toBeUndefined();
    expect(b.charge('10.0.0.2', 5)).toBe('address');
    b.release('10.0.0.1');
    expect(b.charge('10.0.0.3')).toBeUndefined();
    expect(b.held('10.0.0.1')).toBe(1);
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.1.3']) b.release(a);
    expect(b.keys).toBe(0);
  });

  it('token buckets per address and prefix refill with the clock and are forgotten when full', () => {
    const r = new RateBudget({ perAddress: 10, perPrefix: 15, burstSeconds: 1 });
    let now = 1_000;
    for (let i = 0; i < 10; i++) expect(r.take('10.0.0.1', now)).toBeUndefined();
    expect(r.take('10.0.0.1', now)).toBe('address');
    for (let i = 0; i < 5; i++) expect(r.take('10.0.0.2', now)).toBeUndefined();
    expect(r.take('10.0.0.3', now)).toBe('prefix');
    expect(r.take('10.0.1.1', now)).toBeUndefined();
    now += 100; // one more token per address, 1.5 per prefix
    expect(r.take('10.0.0.1', now)).toBeUndefined();
    expect(r.take('10.0.0.1', now)).toBe('address');
    r.sweep(now);
    expect(r.size).toBeGreaterThan(0);
    r.sweep(now + 1_000);
    expect(r.size).toBe(0);
  });
});

describe('mailbox: fair limits', () => {
  it('caps stored characters per address and per prefix, and gives them back when the mailbox goes', () => {
    const h = harness({ limits: { maxCharsPerAddress: 100, maxCharsPerPrefix: 150 } });
    const add = (address: string, mailbox: string, chars: number): string[] => {
      const c = h.connect(address);
      c.bind(APPID, `side-${address}-${mailbox}`);
      c.send({ type: 'open', mailbox });
      return errors(c.send({ type: 'add', phase: 'p', body: 'x'.repeat(chars - 1) }));
    };
    expect(add('10.0.0.1', 'm1', 60)).toEqual([]);
    expect(add('10.0.0.1', 'm2', 60)).toEqual(['too much stored from your address, try again later']);
    expect(add('10.0.0.2', 'm3', 60)).toEqual([]);
    expect(add('10.0.0.3', 'm4', 60)).toEqual(['too much stored from your network, try again later']);
    expect(add('10.0.1.3', 'm5', 60)).toEqual([]);
    expect(h.logs.filter((l) => l.event === 'mailbox.limit').map((l) => l.fields['limit'])).toEqual(['stored.address', 'stored.prefix']);
    expect(h.core.stats().chars).toBe(180);
    // Closing m1 gives 10.0.0.1 its share back.
    const closer = h.connect('10.0.0.1');
    closer.bind(APPID, 'side-10.0.0.1-m1');
    closer.send({ type: 'close', mailbox: 'm1', mood: 'happy' });
    expect(add('10.0.0.1', 'm6', 60)).toEqual([]);
  });

  it('caps allocations per prefix as well as per address', () => {
    const h = harness({ limits: { maxAllocationsPerAddress: 2, maxAllocationsPerPrefix: 3 } });
    const alloc = (address: string, side: string): string[] => {
      const c = h.connect(address);
      c.bind(APPID, side);
      return errors(c.send({ type: 'allocate' }));
    };
    expect(alloc('2001:db8:0:1::1', 's1')).toEqual([]);
    expect(alloc('2001:db8:0:1::2', 's2')).toEqual([]);
    expect(alloc('2001:db8:0:1::3', 's3')).toEqual(['too many nameplates and mailboxes from your address']);
    expect(alloc('2001:db8:0:2::1', 's4')).toEqual([]);
    expect(alloc('2001:db8:0:3::1', 's5')).toEqual(['too many nameplates and mailboxes from your network']);
    expect(alloc('2001:db8:1:3::1', 's6')).toEqual([]);
  });

  it('expires an allocation nobody listens to after unclaimedExpiryMs, keeps a subscribed one', () => {
    const h = harness({ limits: { unclaimedExpiryMs: 60_000 } });
    const idle = h.connect();
    idle.bind(APPID, 'idle');
    idle.send({ type: 'allocate' });
    idle.disconnect();
    const waiting = openMailbox(h); // allocated, claimed, opened: subscribed
    h.now += 61_000;
    h.core.prune(h.now, 11 * 60_000);
    expect(h.core.stats()).toMatchObject({ nameplates: 1, mailboxes: 1 });
    waiting.a.disconnect();
    h.now += 61_000;
    h.core.prune(h.now, 11 * 60_000);
    expect(h.core.stats()).toMatchObject({ nameplates: 0, mailboxes: 0 });
    expect(h.core.takeUsage().map((u) => `${u.kind}:${u.mood}`)).toEqual(['nameplate:pruney', 'mailbox:pruney', 'nameplate:pruney', 'mailbox:pruney']);
  });

  it('expires a mailbox by age even while subscribed', () => {
    const h = harness({ limits: { maxMailboxAgeMs: 60 * 60_000 } });
    openMailbox(h);
    h.now += 59 * 60_000;
    h.core.prune(h.now, 11 * 60_000);
    expect(h.core.stats().mailboxes).toBe(1);
    h.now += 2 * 60_000;
    h.core.prune(h.now, 11 * 60_000);
    expect(h.core.stats()).toMatchObject({ mailboxes: 0, nameplates: 0, listeners: 0 });
  });
});

describe('client frames: parse cost bounded', () => {
  it('refuses a frame with more objects and arrays than a client ever sends, before parsing it', () => {
    const many = `{"type":"ping","ping":[${Array(MAX_CLIENT_FRAME_CONTAINERS).fill('[]').join(',')}]}`;
    expect(parseClientFrame(many, 1 << 20)).toEqual({ ok: false, reason: 'too-deep' });
    const bind = '{"type":"bind","appid":"a","side":"s","client_version":["python","0.12.0"],"id":"x"}';
    expect(parseClientFrame(bind, 1 << 20)).toMatchObject({ ok: true });
  });
});

describe('TURN credentials (coturn use-auth-secret)', () => {
  it('username EXPIRY:LABEL, password base64(HMAC-SHA1(secret, username)) — as openssl computes it', () => {
    expect(turnCredential('s3cret', 1_700_000_000_500, 600)).toEqual({
      username: '1700000600:burrow',
      credential: '7qyWQH89n358UgO+yJA2RahXaEE=',
      expires: 1_700_000_600_000,
    });
  });
});

describe('mailbox: usage records', () => {
  it('records each nameplate and mailbox with times and mood, and nothing secret', () => {
    const h = harness();
    const { a, nameplate, mailbox } = openMailbox(h);
    h.now += 2_000;
    const b = h.connect();
    b.bind(APPID, 'bbbb');
    b.send({ type: 'claim', nameplate });
    b.send({ type: 'open', mailbox });
    const c = h.connect();
    c.bind(APPID, 'cccc');
    expect(errors(c.send({ type: 'claim', nameplate }))).toEqual(['crowded']);
    a.send({ type: 'add', phase: 'pake', body: 'secretbody' });
    h.now += 3_000;
    a.send({ type: 'release', nameplate });
    b.send({ type: 'release', nameplate });
    a.send({ type: 'close', mailbox, mood: 'happy' });
    b.send({ type: 'close', mailbox, mood: 'scary' });
    const records: UsageRecord[] = h.core.takeUsage();
    expect(records).toEqual([
      { kind: 'nameplate', app: APPID, started: h.now / 1000 - 5, waitingTime: 2, totalTime: 5, mood: 'crowded' },
      { kind: 'mailbox', app: APPID, forNameplate: true, started: h.now / 1000 - 5, waitingTime: 2, totalTime: 5, mood: 'scary' },
    ]);
    const text = JSON.stringify(records);
    for (const secret of ['secretbody', 'aaaa', 'bbbb', 'cccc', mailbox]) expect(text).not.toContain(secret);
  });
});
