/**
 * The real client (createWormhole) against the in-memory mailbox (the real
 * server core over an in-memory transport):
 * two wormholes exchange messages, calls honour AbortSignal, reconnects
 * lose nothing. Every wait is bounded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from '@burrow/protocol';
import { seededRandom, waitFor } from '@burrow/testkit';
import { MemoryMailbox } from '../src/testing.js';
import { createWormhole, WormholeError, type Wormhole, type WormholeOptions } from '../src/index.js';
import { bounded, rejection } from './bounded.js';

const T = 10_000; // per-test bound

/** Wormholes opened by a test, closed afterwards so nothing lingers. */
const opened: Wormhole[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((w) => w.close()));
});

async function open(server: MemoryMailbox, seed: number, extra: Partial<WormholeOptions> = {}): Promise<Wormhole> {
  const w = await createWormhole({ mailbox: server.url, transport: server.transport, random: seededRandom(seed), ...extra });
  opened.push(w);
  return w;
}

/** A allocates, B types the code. */
async function pair(server = new MemoryMailbox(), extra: Partial<WormholeOptions> = {}) {
  const a = await open(server, 1, { appVersions: { who: 'a' }, ...extra });
  const b = await open(server, 2, { appVersions: { who: 'b' }, ...extra });
  const code = await a.allocateCode();
  b.setCode(code);
  return { server, a, b, code };
}

const text = (bytes: Uint8Array) => fromUtf8(bytes);

describe('two clients through the in-memory mailbox', () => {
  it(
    'exchange messages both ways, in order, with the same verifier and derived keys, then close happily',
    async () => {
      const { server, a, b, code } = await pair();
      expect(code).toMatch(/^1-[a-z]+-[a-z]+$/);
      expect(await b.code).toBe(code);
      for (const m of ['one', 'two', 'three']) a.sendMessage(utf8(m));
      b.sendMessage(utf8('reply'));
      expect(text(await b.nextMessage())).toBe('one');
      expect(text(await b.nextMessage())).toBe('two');
      expect(text(await b.nextMessage())).toBe('three');
      expect(text(await a.nextMessage())).toBe('reply');
      expect(Buffer.from(await a.verifier).toString('hex')).toBe(Buffer.from(await b.verifier).toString('hex'));
      expect(await a.deriveKey('app/purpose', 16)).toEqual(await b.deriveKey('app/purpose', 16));
      expect(await a.deriveKey('other')).not.toEqual(await a.deriveKey('app/purpose'));
      // app_versions as given; other top-level keys (abilities) may be added by the client
      expect(await a.peerVersions).toMatchObject({ app_versions: { who: 'b' } });
      expect(await b.peerVersions).toMatchObject({ app_versions: { who: 'a' } });
      expect(await a.welcome).toEqual({ motd: 'in-memory mailbox for tests' });
      expect(a.status).toBe('connected');
      await bounded(Promise.all([a.close(), b.close()]));
      expect(a.status).toBe('closed');
      expect(b.status).toBe('closed');
      expect(server.nameplates.size).toBe(0);
      expect(server.mailboxes.size).toBe(0);
      expect(server.closes.map((c) => c.mood)).toEqual(['happy', 'happy']);
      expect(server.openConnections).toEqual([]);
      // after close: nothing more to read, nothing more to send
      expect((await rejection(b.nextMessage())).code).toBe('Closed');
      expect(() => a.sendMessage(utf8('late'))).toThrow(WormholeError);
    },
    T,
  );

  it(
    'sendText / receiveText interoperate as the CLI protocol',
    async () => {
      const { a, b } = await pair();
      const [, received] = await bounded(Promise.all([a.sendText('hello wormhole'), b.receiveText()]));
      expect(received).toBe('hello wormhole');
    },
    T,
  );

  it(
    'messages sent before the peer even connects are delivered once it does',
    async () => {
      const server = new MemoryMailbox();
      const a = await open(server, 1);
      const code = await a.allocateCode(3);
      expect(code.split('-')).toHaveLength(4);
      a.sendMessage(utf8('early'));
      expect(a.status).toBe('waiting-for-peer');
      const b = await open(server, 2);
      expect(b.status).toBe('waiting-for-code');
      b.setCode(code);
      expect(text(await bounded(b.nextMessage()))).toBe('early');
    },
    T,
  );

  it(
    'a wrong code: WrongPassword on both sides, through closed and pending calls',
    async () => {
      const server = new MemoryMailbox();
      const a = await open(server, 1);
      const b = await open(server, 2);
      const code = await a.allocateCode();
      b.setCode(`${code.split('-')[0]}-not-it`);
      // handlers attached at once: a rejected call nobody awaits yet would be an unhandled rejection
      const pendingA = rejection(a.nextMessage());
      const pendingB = rejection(b.nextMessage());
      a.sendMessage(utf8('secret'));
      for (const p of [rejection(a.closed), rejection(b.closed), pendingA, pendingB]) expect((await p).code).toBe('WrongPassword');
      expect((await rejection(a.close())).code).toBe('WrongPassword');
      expect(server.closes.map((c) => c.mood)).toEqual(['scary', 'scary']);
    },
    T,
  );

  it(
    'close before the peer arrives: Lonely, nameplate released, mailbox closed lonely',
    async () => {
      const server = new MemoryMailbox();
      const a = await open(server, 1);
      const pending = rejection(a.nextMessage());
      await a.allocateCode();
      await server.waitFor(() => server.messages('add', a.side).length > 0, 'our pake in the mailbox');
      const err = await rejection(a.close());
      expect(err.code).toBe('Lonely');
      expect((await pending).code).toBe('Lonely');
      expect(server.nameplates.size).toBe(0);
      expect(server.closes.map((c) => c.mood)).toEqual(['lonely']);
      expect(server.mailboxes.size).toBe(0);
    },
    T,
  );

  it(
    'close while the claim is still in flight: Lonely, the nameplate is released',
    async () => {
      const server = new MemoryMailbox();
      const a = await open(server, 1);
      a.setCode('8-purple-sausages');
      expect((await rejection(a.close())).code).toBe('Lonely');
      expect(server.nameplates.size).toBe(0);
      expect(server.messages('release', a.side)).toEqual([expect.objectContaining({ nameplate: '8' })]);
    },
    T,
  );

  it(
    'a dropped connection is re-established and nothing is lost or duplicated',
    async () => {
      const { server, a, b } = await pair(new MemoryMailbox(), { reconnect: { initialMs: 1, maxMs: 5, factor: 2 } });
      a.sendMessage(utf8('before'));
      expect(text(await bounded(b.nextMessage()))).toBe('before');
      // A's adds vanish with its connection: swallow the next one, then drop
      let swallowed = 0;
      const stop = server.intercept((m, conn) => {
        if (m.type === 'add' && conn.side === a.side && swallowed === 0) {
          swallowed++;
          queueMicrotask(() => conn.drop(new Error('network went away')));
          return null;
        }
        return undefined;
      });
      a.sendMessage(utf8('during'));
      a.sendMessage(utf8('after'));
      expect(text(await bounded(b.nextMessage()))).toBe('during');
      expect(text(await bounded(b.nextMessage()))).toBe('after');
      stop();
      // and the other way, with B dropped while A's reply is in flight
      b.sendMessage(utf8('from b'));
      expect(text(await bounded(a.nextMessage()))).toBe('from b');
      server.connectionOf(b.side)!.drop();
      a.sendMessage(utf8('while b is away'));
      expect(text(await bounded(b.nextMessage()))).toBe('while b is away');
      expect(server.connections.filter((c) => c.side === a.side)).toHaveLength(2);
      expect(server.connections.filter((c) => c.side === b.side)).toHaveLength(2);
      await bounded(Promise.all([a.close(), b.close()]));
      expect(server.closes.map((c) => c.mood)).toEqual(['happy', 'happy']);
      // nothing arrived twice: no message is left over in either inbox
      expect((await rejection(a.nextMessage())).code).toBe('Closed');
      expect((await rejection(b.nextMessage())).code).toBe('Closed');
    },
    T,
  );

  it(
    'a connection that never opens fails createWormhole with Connection (bounded by connectTimeoutMs)',
    async () => {
      const server = new MemoryMailbox();
      server.refuse(1, 'hang');
      const err = await rejection(createWormhole({ mailbox: server.url, transport: server.transport, connectTimeoutMs: 50 }));
      expect(err.code).toBe('Connection');
      // the abandoned attempt was closed
      await server.waitFor(() => server.connections[0]!.isClosed, 'the hung connection to be closed');
    },
    T,
  );

  it(
    'a refused first connection fails createWormhole with Connection',
    async () => {
      const server = new MemoryMailbox();
      server.refuse(1, 'fail');
      const err = await rejection(createWormhole({ mailbox: server.url, transport: server.transport }));
      expect(err.code).toBe('Connection');
    },
    T,
  );
});

describe('AbortSignal and timeouts', () => {
  it(
    'aborting nextMessage rejects it with Aborted; the wormhole carries on',
    async () => {
      const { a, b } = await pair();
      const ac = new AbortController();
      const pending = b.nextMessage({ signal: ac.signal });
      ac.abort();
      expect((await rejection(pending)).code).toBe('Aborted');
      a.sendMessage(utf8('still here'));
      expect(text(await bounded(b.nextMessage()))).toBe('still here');
      expect(b.status).toBe('connected');
    },
    T,
  );

  it(
    'an already-aborted signal rejects with Aborted',
    async () => {
      const { b } = await pair();
      const ac = new AbortController();
      ac.abort(new Error('no thanks'));
      const err = await rejection(b.nextMessage({ signal: ac.signal }));
      expect(err.code).toBe('Aborted');
      expect(err.blame).toBe('caller');
      expect((await rejection(b.deriveKey('x', 32, { signal: ac.signal }))).code).toBe('Aborted');
    },
    T,
  );

  it(
    'AbortSignal.timeout gives Timeout',
    async () => {
      const { b } = await pair();
      const err = await rejection(b.nextMessage({ signal: AbortSignal.timeout(20) }));
      expect(err.code).toBe('Timeout');
      expect(err.cause).toMatchObject({ name: 'TimeoutError' });
    },
    T,
  );

  it(
    'a timeout on allocateCode, and on receiveText, is Timeout',
    async () => {
      const server = new MemoryMailbox();
      server.intercept((m) => (m.type === 'allocate' ? null : undefined)); // the server never answers
      const a = await open(server, 1);
      expect((await rejection(a.allocateCode(2, { signal: AbortSignal.timeout(20) }))).code).toBe('Timeout');
      const { b } = await pair();
      expect((await rejection(b.receiveText({ signal: AbortSignal.timeout(20) }))).code).toBe('Timeout');
    },
    T,
  );

  it(
    'aborting the wormhole signal closes it: closed and pending calls reject with Aborted',
    async () => {
      const ac = new AbortController();
      const { server, b } = await pair(new MemoryMailbox(), { signal: ac.signal });
      await bounded(b.peerVersions);
      const pending = rejection(b.nextMessage());
      ac.abort();
      expect((await pending).code).toBe('Aborted');
      expect((await rejection(b.closed)).code).toBe('Aborted');
      expect(b.status).toBe('closed');
      await server.waitFor(() => server.connectionOf(b.side)!.isClosed, 'the connection to close');
    },
    T,
  );

  it(
    'createWormhole honours an aborted signal',
    async () => {
      const server = new MemoryMailbox();
      const ac = new AbortController();
      ac.abort();
      expect((await rejection(createWormhole({ mailbox: server.url, transport: server.transport }, { signal: ac.signal }))).code).toBe('Aborted');
      expect(server.connections).toHaveLength(0);
      server.refuse(1, 'hang');
      const ac2 = new AbortController();
      const creating = createWormhole({ mailbox: server.url, transport: server.transport, signal: ac2.signal });
      ac2.abort();
      expect((await rejection(creating)).code).toBe('Aborted');
    },
    T,
  );
});

describe('API misuse is the caller’s error', () => {
  it(
    'bad arguments',
    async () => {
      const server = new MemoryMailbox();
      expect((await rejection(createWormhole({ mailbox: 'http//nope', transport: server.transport }))).code).toBe('Usage');
      const w = await open(server, 1);
      expect(() => w.setCode('no-nameplate')).toThrow(expect.objectContaining({ code: 'InvalidCode' }) as Error);
      expect(() => w.setCode('4')).toThrow(expect.objectContaining({ code: 'InvalidCode' }) as Error);
      await expect(w.allocateCode(0)).rejects.toMatchObject({ code: 'Usage' });
      expect(() => w.sendMessage('text' as unknown as Uint8Array)).toThrow(TypeError);
      w.setCode('4-purple-sausages');
      expect(() => w.setCode('4-purple-sausages')).toThrow(expect.objectContaining({ code: 'Usage' }) as Error);
      await expect(w.allocateCode()).rejects.toMatchObject({ code: 'Usage' });
    },
    T,
  );
});

describe('regressions', () => {
  it('an aborted nextMessage does not swallow a message that arrives in the same task', async () => {
    const { a, b } = await pair();
    const ac = new AbortController();
    const aborted = rejection(b.nextMessage({ signal: ac.signal }));
    ac.abort();
    a.sendMessage(utf8('kept'));
    expect((await aborted).code).toBe('Aborted');
    expect(text(await bounded(b.nextMessage()))).toBe('kept');
  });

  it('an already-aborted signal rejects even when a message is waiting', async () => {
    const { a, b } = await pair();
    a.sendMessage(utf8('waiting'));
    expect(text(await bounded(b.nextMessage()))).toBe('waiting');
    a.sendMessage(utf8('second'));
    const ac = new AbortController();
    ac.abort();
    expect((await rejection(b.nextMessage({ signal: ac.signal }))).code).toBe('Aborted');
    expect(text(await bounded(b.nextMessage()))).toBe('second');
  });

  it('aborting the wormhole signal closes the mailbox politely with mood errory', async () => {
    const server = new MemoryMailbox();
    const ac = new AbortController();
    const { a, b } = await pair(server);
    const opens = () => server.log.filter((l) => l.message.type === 'open').length;
    const before = opens();
    const w = await open(server, 3, { signal: ac.signal });
    w.setCode('99-abort-me');
    // Wait until its mailbox is open, so there is something to close.
    await waitFor(() => opens() > before, { message: 'its mailbox to open', intervalMs: 5 });
    const pending = rejection(w.nextMessage());
    ac.abort();
    expect((await pending).code).toBe('Aborted');
    expect((await rejection(w.closed)).code).toBe('Aborted');
    // The nameplate and mailbox were given back: nothing left for the server to expire.
    expect(server.closes.some((c) => c.mood === 'errory')).toBe(true);
    void a;
    void b;
  });

  it('refuses an application message too large for the mailbox, as a caller error', async () => {
    const { a } = await pair();
    let err: unknown;
    try {
      a.sendMessage(new Uint8Array(600 * 1024));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WormholeError);
    expect((err as WormholeError).code).toBe('Usage');
    expect((err as WormholeError).blame).toBe('caller');
  });
});
