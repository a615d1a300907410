/**
 * Bad input from the "server" (the mailbox server misbehaves), against the real client.
 * Each case ends in a typed WormholeError (through `w.closed` and any pending
 * call) or is ignored as the protocol says. Nothing may throw out of a
 * transport callback, hang, or leave an unhandled rejection: every wait here
 * is bounded and every rejection is observed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fromUtf8, utf8, MAX_SERVER_FRAME } from '@burrow/protocol';
import { seededRandom } from '@burrow/testkit';
import { MemoryMailbox, type MemoryConnection } from '../src/testing.js';
import { createWormhole } from '../src/index.js';
import { bounded, rejection } from './bounded.js';
import { closeOpened, CODE, expectEnds, lone, open, opened, PEER, T } from './support/bad-input.js';

afterEach(closeOpened);

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
