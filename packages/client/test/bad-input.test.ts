/**
 * Bad input from the "server" and from the "peer", against the real client.
 * Each case ends in a typed WormholeError (through `w.closed` and any pending
 * call) or is ignored as the protocol says. Nothing may throw out of a
 * transport callback, hang, or leave an unhandled rejection: every wait here
 * is bounded and every rejection is observed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decodePakeBody, encodePakeBody, encryptPhaseMessage, fromUtf8, startSpake2, toHex, utf8, MAX_SERVER_FRAME, type SessionKey } from '@burrow/protocol';
import { seededRandom } from '@burrow/testkit';
import { MemoryMailbox, type MemoryConnection } from '../src/testing.js';
import { createWormhole, DEFAULT_APPID, WormholeError, type Wormhole, type WormholeErrorCode } from '../src/index.js';
import { bounded, rejection } from './bounded.js';

const T = 10_000;
const CODE = '4-purple-sausages';
const PEER = 'feedfacefe';

const opened: Wormhole[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((w) => w.close()));
});


async function open(server: MemoryMailbox, seed = 1): Promise<Wormhole> {
  const w = await createWormhole({
    mailbox: server.url,
    transport: server.transport,
    random: seededRandom(seed),
    reconnect: { initialMs: 1, maxMs: 10, factor: 2 },
  });
  opened.push(w);
  return w;
}

/** One wormhole with CODE set and its mailbox open on the server. */
async function lone(server = new MemoryMailbox()) {
  const w = await open(server);
  w.setCode(CODE);
  const conn = await server.waitFor(() => {
    const c = server.connectionOf(w.side);
    return c?.received.some((m) => m.type === 'open') ? c : undefined;
  }, 'the mailbox to be opened');
  const mailbox = server.mailboxOf('4')!;
  return { server, w, conn, mailbox };
}

/** Expect the wormhole to end with `code`, through `closed` and a call that was pending. */
async function expectEnds(w: Wormhole, pending: Promise<WormholeError>, code: WormholeErrorCode): Promise<WormholeError> {
  const err = await rejection(w.closed);
  expect(err).toBeInstanceOf(WormholeError);
  expect(err.code).toBe(code);
  expect((await pending).code).toBe(code);
  expect(w.status).toBe('closed');
  return err;
}

/**
 * A peer played by hand with the protocol primitives, so it can send what a
 * real client never would.
 */
class ScriptedPeer {
  readonly #spake = startSpake2({ password: utf8(CODE), id: utf8(DEFAULT_APPID), random: seededRandom(99) });
  readonly #random = seededRandom(98);
  key: SessionKey | undefined;

  constructor(
    readonly server: MemoryMailbox,
    readonly mailbox: string,
    readonly w: Wormhole,
  ) {}

  add(phase: string, body: string): void {
    this.server.addMessage(this.mailbox, { side: PEER, phase, body });
  }

  /** Send our pake, finish with theirs. */
  async handshake(): Promise<SessionKey> {
    this.add('pake', encodePakeBody(this.#spake.message));
    const theirs = await this.server.waitFor(
      () => this.server.mailboxes.get(this.mailbox)?.messages.find((m) => m.side === this.w.side && m.phase === 'pake'),
      'their pake',
    );
    this.key = this.#spake.finish(decodePakeBody(theirs.body));
    return this.key;
  }

  encrypted(phase: string, plaintext: Uint8Array | string): void {
    const bytes = typeof plaintext === 'string' ? utf8(plaintext) : plaintext;
    this.add(phase, toHex(encryptPhaseMessage(this.key!, PEER, phase, bytes, this.#random)));
  }
}

// ---------------------------------------------------------------- the server misbehaves

describe('bad frames from the mailbox server end the wormhole with ServerProtocol', () => {
  const frames: [string, string | Uint8Array][] = [
    ['malformed JSON', '{"type": "message", '],
    ['a JSON array', '[]'],
    ['a JSON string', '"hello"'],
    ['an object without a type', '{"hello": 1}'],
    ['a known type without its fields', '{"type": "claimed"}'],
    ['a message without a body', JSON.stringify({ type: 'message', side: PEER, phase: 'pake' })],
    ['an oversized frame', JSON.stringify({ type: 'ack', pad: 'x'.repeat(MAX_SERVER_FRAME) })],
    ['a binary frame', new Uint8Array([0x7b, 0x7d])],
    ['an empty binary frame', new Uint8Array(0)],
  ];
  for (const [what, frame] of frames) {
    it(
      what,
      async () => {
        const { w, conn } = await lone();
        const pending = rejection(w.nextMessage());
        conn.inject(frame);
        const err = await expectEnds(w, pending, 'ServerProtocol');
        expect(err.blame).toBe('server');
      },
      T,
    );
  }

  it(
    'a bad frame before a code was set: closed and the code promise reject',
    async () => {
      const server = new MemoryMailbox();
      const w = await open(server);
      const code = rejection(w.code);
      const conn = await server.waitFor(() => server.connectionOf(w.side), 'bind');
      conn.inject('not json');
      expect((await code).code).toBe('ServerProtocol');
      expect((await rejection(w.closed)).code).toBe('ServerProtocol');
      expect(() => w.setCode(CODE)).toThrow(expect.objectContaining({ code: 'ServerProtocol' }) as Error);
      expect(() => w.sendMessage(utf8('x'))).toThrow(expect.objectContaining({ code: 'ServerProtocol' }) as Error);
    },
    T,
  );

  it(
    'a bad frame delivered synchronously inside a send does not throw out of the transport',
    async () => {
      const { w, conn } = await lone();
      const pending = rejection(w.nextMessage());
      expect(() => conn.inject('{{{', { sync: true })).not.toThrow();
      await expectEnds(w, pending, 'ServerProtocol');
    },
    T,
  );
});

describe('server errors', () => {
  it(
    'an error message: ServerError (mood errory), nameplate and mailbox still closed',
    async () => {
      const { server, w, conn } = await lone();
      const pending = rejection(w.nextMessage());
      conn.send({ type: 'error', error: 'something went wrong', orig: { type: 'add' } });
      const err = await expectEnds(w, pending, 'ServerError');
      expect(err.message).toContain('something went wrong');
      expect(server.closes.map((c) => c.mood)).toEqual(['errory']);
    },
    T,
  );

  it(
    'crowded: a third side claiming the nameplate gets Crowded',
    async () => {
      const server = new MemoryMailbox();
      const a = await open(server, 1);
      const b = await open(server, 2);
      const c = await open(server, 3);
      // keep A holding the nameplate: B's adds never reach A, so A never releases it
      const holdB = server.intercept((m, conn) => (m.type === 'add' && conn.side === b.side ? null : undefined));
      const code = await a.allocateCode();
      b.setCode(code);
      await server.waitFor(() => server.messages('release', b.side).length > 0, 'B to release the nameplate');
      expect(server.nameplates.get(code.split('-')[0]!)?.claimed).toEqual(new Set([a.side]));
      const pending = rejection(c.nextMessage());
      c.setCode(code);
      await expectEnds(c, pending, 'Crowded');
      // the two legitimate sides are unaffected
      // B's swallowed adds go out again when its connection comes back
      holdB();
      server.connectionOf(b.side)!.drop();
      a.sendMessage(utf8('still fine'));
      b.sendMessage(utf8('and you?'));
      expect(fromUtf8(await bounded(b.nextMessage()))).toBe('still fine');
      expect(fromUtf8(await bounded(a.nextMessage()))).toBe('and you?');
    },
    T,
  );

  it(
    'crowded as a plain server error message is Crowded too',
    async () => {
      const { w, conn } = await lone();
      const pending = rejection(w.nextMessage());
      conn.send({ type: 'error', error: 'crowded', orig: { type: 'claim', nameplate: '4' } });
      await expectEnds(w, pending, 'Crowded');
    },
    T,
  );

  it(
    'a welcome with an error: Welcome, and allocateCode rejects too',
    async () => {
      const server = new MemoryMailbox({ welcome: { error: 'this client is too old' } });
      const w = await createWormhole({ mailbox: server.url, transport: server.transport, random: seededRandom(1) });
      opened.push(w);
      const code = rejection(w.allocateCode());
      const err = await rejection(w.closed);
      expect(err.code).toBe('Welcome');
      expect(err.message).toContain('this client is too old');
      expect((await code).code).toBe('Welcome');
      expect((await rejection(w.welcome)).code).toBe('Welcome');
    },
    T,
  );
});

describe('input the protocol says to ignore', () => {
  it(
    'unknown message types, unknown keys and stray answers do not disturb an exchange',
    async () => {
      const server = new MemoryMailbox();
      const a = await open(server, 1);
      const b = await open(server, 2);
      const junk = (conn: MemoryConnection) => {
        conn.send({ type: 'future-feature', payload: { x: 1 } });
        conn.send({ type: 'ack', id: 'zzzz', extra: [1, 2, 3] });
        conn.send({ type: 'pong', pong: 'whatever' });
        conn.send({ type: 'nameplates', nameplates: [{ id: '99' }] });
        conn.send({ type: 'welcome', welcome: { motd: 'second welcome' } });
        conn.send({ type: 'allocated', nameplate: '12345' });
        conn.send({ type: 'closed' });
      };
      for (const w of [a, b]) junk(await server.waitFor(() => server.connectionOf(w.side), 'bind'));
      const code = await a.allocateCode();
      b.setCode(code);
      for (const w of [a, b]) junk(server.connectionOf(w.side)!);
      a.sendMessage(utf8('through the noise'));
      expect(fromUtf8(await bounded(b.nextMessage()))).toBe('through the noise');
      for (const w of [a, b]) junk(server.connectionOf(w.side)!);
      b.sendMessage(utf8('and back'));
      expect(fromUtf8(await bounded(a.nextMessage()))).toBe('and back');
      expect(await a.welcome).toEqual({ motd: 'in-memory mailbox for tests' });
      await bounded(Promise.all([a.close(), b.close()]));
      expect(server.closes.map((c) => c.mood)).toEqual(['happy', 'happy']);
    },
    T,
  );
});

// ---------------------------------------------------------------- the peer misbehaves

describe('bad pake messages end the wormhole with RemoteProtocol (mood scary)', () => {
  const pakeHex = (json: string) => toHex(utf8(json));
  const pakes: [string, string][] = [
    ['a body that is not hex', 'this is not hex'],
    ['a pake that is not JSON', pakeHex('definitely { not json')],
    ['a pake without pake_v1', pakeHex('{"pake_v2": "53"}')],
    ['an invalid SPAKE2 point', pakeHex(JSON.stringify({ pake_v1: '53' + '02' + '00'.repeat(31) }))],
    ['the identity element', pakeHex(JSON.stringify({ pake_v1: '53' + '01' + '00'.repeat(31) }))],
    ['a point of small order', pakeHex(JSON.stringify({ pake_v1: '53' + 'ec' + 'ff'.repeat(30) + '7f' }))],
    ['a SPAKE2 message of the wrong length', pakeHex(JSON.stringify({ pake_v1: '53' + '00'.repeat(8) }))],
    ['an oversized pake body', 'ab'.repeat(100_000)],
  ];
  for (const [what, body] of pakes) {
    it(
      what,
      async () => {
        const { server, w, mailbox } = await lone();
        const pending = rejection(w.nextMessage());
        server.addMessage(mailbox, { side: PEER, phase: 'pake', body });
        const err = await expectEnds(w, pending, 'RemoteProtocol');
        expect(err.blame).toBe('peer');
        expect(server.closes.map((c) => c.mood)).toEqual(['scary']);
        expect(server.nameplates.size).toBe(0);
      },
      T,
    );
  }

  it(
    'our own pake reflected back under another side is refused',
    async () => {
      const { server, w, mailbox } = await lone();
      const pending = rejection(w.nextMessage());
      const ours = await server.waitFor(() => server.mailboxes.get(mailbox)?.messages.find((m) => m.phase === 'pake'), 'our pake');
      server.addMessage(mailbox, { side: PEER, phase: 'pake', body: ours.body });
      await expectEnds(w, pending, 'RemoteProtocol');
    },
    T,
  );
});

describe('a peer that proves the key and then misbehaves', () => {
  it(
    'phases out of order and repeated: delivered in order, once',
    async () => {
      const { server, w, mailbox } = await lone();
      const peer = new ScriptedPeer(server, mailbox, w);
      await peer.handshake();
      peer.encrypted('version', '{"app_versions": {"scripted": true}}');
      peer.encrypted('2', 'two');
      peer.encrypted('0', 'zero');
      peer.encrypted('0', 'zero again');
      peer.encrypted('1', 'one');
      peer.encrypted('2', 'two again');
      const got: string[] = [];
      for (let i = 0; i < 3; i++) got.push(fromUtf8(await bounded(w.nextMessage())));
      expect(got).toEqual(['zero', 'one', 'two']);
      expect(await w.peerVersions).toEqual({ app_versions: { scripted: true } });
      peer.encrypted('3', 'three');
      expect(fromUtf8(await bounded(w.nextMessage()))).toBe('three');
    },
    T,
  );

  it(
    'unknown phases are ignored; a version that is not JSON advertises nothing',
    async () => {
      const { server, w, mailbox } = await lone();
      const peer = new ScriptedPeer(server, mailbox, w);
      await peer.handshake();
      peer.encrypted('version', 'not json at all');
      peer.encrypted('dilate-0', 'future');
      peer.encrypted('0', 'zero');
      expect(fromUtf8(await bounded(w.nextMessage()))).toBe('zero');
      expect(await w.peerVersions).toEqual({});
      expect(w.status).toBe('connected');
    },
    T,
  );

  it(
    'a huge phase gap: RemoteProtocol',
    async () => {
      const { server, w, mailbox } = await lone();
      const peer = new ScriptedPeer(server, mailbox, w);
      await peer.handshake();
      peer.encrypted('version', '{}');
      const pending = rejection(w.nextMessage());
      peer.encrypted('5000000', 'far ahead');
      await expectEnds(w, pending, 'RemoteProtocol');
      expect(server.closes.map((c) => c.mood)).toEqual(['scary']);
    },
    T,
  );

  it(
    'a version that does not decrypt: WrongPassword',
    async () => {
      const { server, w, mailbox } = await lone();
      const peer = new ScriptedPeer(server, mailbox, w);
      await peer.handshake();
      const pending = rejection(w.nextMessage());
      peer.add('version', toHex(new Uint8Array(64)));
      await expectEnds(w, pending, 'WrongPassword');
    },
    T,
  );

  it(
    'a numbered phase that does not decrypt after a good version: WrongPassword, nothing more delivered',
    async () => {
      const { server, w, mailbox } = await lone();
      const peer = new ScriptedPeer(server, mailbox, w);
      await peer.handshake();
      peer.encrypted('version', '{}');
      peer.encrypted('0', 'good');
      expect(fromUtf8(await bounded(w.nextMessage()))).toBe('good');
      const pending = rejection(w.nextMessage());
      peer.add('1', 'f00d'.repeat(20));
      peer.encrypted('2', 'after the forgery');
      await expectEnds(w, pending, 'WrongPassword');
    },
    T,
  );

  it(
    'a body that is not hex in a numbered phase ends the wormhole (never a throw)',
    async () => {
      const { server, w, mailbox } = await lone();
      const peer = new ScriptedPeer(server, mailbox, w);
      await peer.handshake();
      peer.encrypted('version', '{}');
      await bounded(w.peerVersions);
      const pending = rejection(w.nextMessage());
      peer.add('0', 'zz not hex zz');
      const err = await rejection(w.closed);
      expect(['WrongPassword', 'RemoteProtocol']).toContain(err.code);
      expect((await pending).code).toBe(err.code);
    },
    T,
  );

  it(
    'a real peer whose adds the server corrupts: the receiver fails closed',
    async () => {
      const server = new MemoryMailbox();
      const a = await open(server, 1);
      const b = await open(server, 2);
      server.intercept((m, conn) => (m.type === 'add' && m.phase === 'version' && conn.side === a.side ? { ...m, body: 'not-hex' } : undefined));
      const code = await a.allocateCode();
      b.setCode(code);
      const pending = rejection(b.nextMessage());
      const err = await rejection(b.closed);
      expect(['WrongPassword', 'RemoteProtocol']).toContain(err.code);
      expect((await pending).code).toBe(err.code);
    },
    T,
  );
});
