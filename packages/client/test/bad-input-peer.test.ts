/**
 * Bad input from the "peer" (the other client misbehaves), against the real client.
 * Each case ends in a typed WormholeError (through `w.closed` and any pending
 * call) or is ignored as the protocol says. Nothing may throw out of a
 * transport callback, hang, or leave an unhandled rejection: every wait here
 * is bounded and every rejection is observed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fromUtf8, toHex, utf8 } from '@burrow/protocol';
import { MemoryMailbox } from '../src/testing.js';
import { bounded, rejection } from './bounded.js';
import { closeOpened, expectEnds, lone, open, PEER, ScriptedPeer, T } from './support/bad-input.js';

afterEach(closeOpened);

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
