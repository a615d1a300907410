/** Key machine unit tests: fed one event at a time, with the exact effects it must produce (after magic-wormhole's test_machines.py). */
import { describe, expect, it } from 'vitest';
import { fromHex, fromUtf8, toHex, utf8 } from '../../src/bytes.js';
import { WormholeError } from '../../src/errors.js';
import { deriveVerifier } from '../../src/kdf.js';
import { decryptPhaseMessage } from '../../src/secretbox.js';
import { decodePakeBody, encodePakeBody, keyMachine } from '../../src/machines/key.js';
import { io, to } from '../../src/machines/types.js';
import { SIDE_A, SIDE_B, CODE, envFor, drive, ioEffects, scaredError, keyPair, keyOf } from './support.js';

describe('Key', () => {
  it('code first: sends our pake, deterministic for a given random source', () => {
    const k1 = drive(keyMachine, {}, envFor(SIDE_A, 7));
    const k2 = drive(keyMachine, {}, envFor(SIDE_A, 7));
    const e1 = k1.send({ type: 'got_code', code: CODE });
    const e2 = k2.send({ type: 'got_code', code: CODE });
    expect(e1).toHaveLength(1);
    expect(e1).toEqual(e2);
    const first = e1[0]!;
    if (first.to !== 'mailbox' || first.event.type !== 'add') throw new Error('expected mailbox.add');
    expect(first.event.phase).toBe('pake');
    const message = decodePakeBody(first.event.body);
    expect(message).toHaveLength(33);
    expect(message[0]).toBe(0x53);
    expect(JSON.parse(fromUtf8(fromHex(first.event.body)))).toEqual({ pake_v1: toHex(message) });
    expect(k1.state).toBe('have-code');
  });

  it("the peer's pake completes the key: got_key, key+verifier, our version, Receive's key — in that order", () => {
    const { a, b, doneA, doneB } = keyPair(CODE, CODE);
    const keyA = keyOf(doneA);
    const keyB = keyOf(doneB);
    expect(toHex(keyA)).toBe(toHex(keyB));
    expect(a.state).toBe('done');
    expect(b.state).toBe('done');
    expect(doneA.map((e) => (e.to === 'io' ? `io.${e.effect.type}` : `${e.to}.${e.event.type}`))).toEqual([
      'boss.got_key',
      'io.key',
      'mailbox.add',
      'receive.got_key',
    ]);
    const keyEffect = ioEffects(doneA)[0]!;
    if (keyEffect.type !== 'key') throw new Error('expected io.key');
    expect(toHex(keyEffect.verifier)).toBe(toHex(deriveVerifier(keyB)));
    const version = doneA[2]!;
    if (version.to !== 'mailbox' || version.event.type !== 'add') throw new Error('expected mailbox.add');
    expect(version.event.phase).toBe('version');
    const plaintext = decryptPhaseMessage(keyB, SIDE_A, 'version', fromHex(version.event.body));
    expect(plaintext && JSON.parse(fromUtf8(plaintext))).toEqual({ app_versions: { burrow: 'test' } });
  });

  it('pake before code: stashed, then the key is computed when the code arrives', () => {
    const peer = drive(keyMachine, {}, envFor(SIDE_B, 22));
    const [peerPake] = peer.send({ type: 'got_code', code: CODE });
    if (peerPake?.to !== 'mailbox' || peerPake.event.type !== 'add') throw new Error('expected mailbox.add');
    const k = drive(keyMachine, {}, envFor(SIDE_A, 11));
    expect(k.send({ type: 'got_pake', body: peerPake.event.body })).toEqual([]);
    expect(k.state).toBe('have-pake');
    const effects = k.send({ type: 'got_code', code: CODE });
    expect(effects.map((e) => (e.to === 'io' ? `io.${e.effect.type}` : `${e.to}.${e.event.type}`))).toEqual([
      'mailbox.add',
      'boss.got_key',
      'io.key',
      'mailbox.add',
      'receive.got_key',
    ]);
    const ours = effects[0]!;
    if (ours.to !== 'mailbox' || ours.event.type !== 'add') throw new Error('expected mailbox.add');
    const peerDone = peer.send({ type: 'got_pake', body: ours.event.body });
    expect(toHex(keyOf(effects))).toBe(toHex(keyOf(peerDone)));
  });

  it('different codes give different keys (detected later, by Receive)', () => {
    const { doneA, doneB } = keyPair(CODE, '4-purple-sausage');
    expect(toHex(keyOf(doneA))).not.toBe(toHex(keyOf(doneB)));
  });

  const pakeHex = (json: string) => toHex(utf8(json));
  const badPakes: [string, string][] = [
    ['not hex', 'zz-not-hex'],
    ['hex of something that is not JSON', pakeHex('not json')],
    ['JSON without pake_v1', pakeHex('{"pake_v2": "00"}')],
    ['JSON that is not an object', pakeHex('"53"')],
    ['pake_v1 that is not hex', pakeHex('{"pake_v1": "xyz"}')],
    ['a point that is not on the curve', pakeHex(JSON.stringify({ pake_v1: '53' + '02' + '00'.repeat(31) }))],
    ['the identity point', pakeHex(JSON.stringify({ pake_v1: '53' + '01' + '00'.repeat(31) }))],
    ['a point outside the prime-order subgroup', pakeHex(JSON.stringify({ pake_v1: '53' + '03' + '00'.repeat(31) }))],
    ['a message of the wrong length', pakeHex(JSON.stringify({ pake_v1: '53' + '00'.repeat(31) }))],
    ['a non-symmetric side byte', pakeHex(JSON.stringify({ pake_v1: '41' + '58'.repeat(32) }))],
    ['a body over the size bound', pakeHex(JSON.stringify({ pake_v1: '53' + '00'.repeat(600) }))],
  ];
  for (const [what, body] of badPakes) {
    it(`a pake that is ${what}: scared with RemoteProtocol, no key`, () => {
      const k = drive(keyMachine, {}, envFor(SIDE_A, 11));
      k.send({ type: 'got_code', code: CODE });
      const error = scaredError(k.send({ type: 'got_pake', body }));
      expect(error).toBeInstanceOf(WormholeError);
      expect(error?.code).toBe('RemoteProtocol');
      expect(error?.blame).toBe('peer');
    });
  }

  it('a reflected pake (our own message back) is refused', () => {
    const k = drive(keyMachine, {}, envFor(SIDE_A, 11));
    const [ours] = k.send({ type: 'got_code', code: CODE });
    if (ours?.to !== 'mailbox' || ours.event.type !== 'add') throw new Error('expected mailbox.add');
    expect(scaredError(k.send({ type: 'got_pake', body: ours.event.body }))?.code).toBe('RemoteProtocol');
  });

  it('encodePakeBody / decodePakeBody round-trip', () => {
    const message = new Uint8Array(33).fill(7);
    expect(decodePakeBody(encodePakeBody(message))).toEqual(message);
  });
});
