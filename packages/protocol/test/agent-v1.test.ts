import { describe, expect, it } from 'vitest';
import { toHex } from '../src/bytes.js';
import {
  MAX_CONTROL_MESSAGE,
  MAX_HANDSHAKE_MESSAGE,
  TAG_CONTROL,
  encodeControl,
  encodeMuxBody,
  errorForClose,
  newNonce,
  parseControl,
  parseHandshake,
  parseRecordBody,
  proof,
  sessionKeys,
  verifyProof,
  type HandshakeParams,
} from '../src/agent/index.js';

const S = new Uint8Array(32).fill(9);
const P: HandshakeParams = { clientId: '0'.repeat(32), agentId: '1'.repeat(32), clientNonce: '2'.repeat(64), agentNonce: '3'.repeat(64) };

describe('agent-v1 proofs', () => {
  it('are deterministic, differ by role, and verify only with the same secret and transcript', () => {
    const pa = proof(S, 'agent', P);
    const pc = proof(S, 'client', P);
    expect(pa).toMatch(/^[0-9a-f]{64}$/);
    expect(proof(S, 'agent', P)).toBe(pa);
    expect(pc).not.toBe(pa);
    expect(verifyProof(S, 'agent', P, pa)).toBe(true);
    expect(verifyProof(S, 'client', P, pa)).toBe(false); // a reflected proof is no proof
    expect(verifyProof(new Uint8Array(32).fill(8), 'agent', P, pa)).toBe(false);
    for (const key of ['clientId', 'agentId', 'clientNonce', 'agentNonce'] as const) {
      const changed = { ...P, [key]: P[key].replace(/^./, 'f') };
      expect(verifyProof(S, 'agent', changed, pa), key).toBe(false);
    }
    expect(verifyProof(S, 'agent', P, 'zz')).toBe(false);
    expect(verifyProof(S, 'agent', P, pa.toUpperCase())).toBe(false);
  });

  it('check the secret argument', () => {
    expect(() => proof(new Uint8Array(16), 'agent', P)).toThrow(RangeError);
    expect(() => proof('x' as never, 'agent', P)).toThrow(TypeError);
  });
});

describe('agent-v1 session keys', () => {
  it('are two different keys that depend on both nonces', () => {
    const k = sessionKeys(S, P);
    expect(k.clientToAgent).toHaveLength(32);
    expect(toHex(k.clientToAgent)).not.toBe(toHex(k.agentToClient));
    expect(toHex(sessionKeys(S, { ...P, agentNonce: '4'.repeat(64) }).clientToAgent)).not.toBe(toHex(k.clientToAgent));
    expect(toHex(sessionKeys(S, { ...P, clientNonce: '4'.repeat(64) }).agentToClient)).not.toBe(toHex(k.agentToClient));
    expect(toHex(sessionKeys(S, P).clientToAgent)).toBe(toHex(k.clientToAgent));
  });
});

describe('parseHandshake', () => {
  const hello = { type: 'hello', v: 1, id: P.clientId, nonce: P.clientNonce };

  it('parses the four messages and ignores unknown keys', () => {
    expect(parseHandshake(JSON.stringify({ ...hello, extra: [1] }))).toEqual(hello);
    expect(parseHandshake(JSON.stringify({ type: 'challenge', id: P.agentId, nonce: P.agentNonce, proof: P.agentNonce }))).toMatchObject({ type: 'challenge' });
    expect(parseHandshake('{"type":"proof","proof":"' + 'a'.repeat(64) + '"}')).toEqual({ type: 'proof', proof: 'a'.repeat(64) });
    expect(parseHandshake('{"type":"ready"}')).toEqual({ type: 'ready' });
  });

  it('returns unknown types instead of throwing', () => {
    expect(parseHandshake('{"type":"future-thing"}')).toEqual({ type: 'unknown', original: 'future-thing' });
  });

  it('maps error codes it does not know to RemoteProtocol and bounds the message', () => {
    expect(parseHandshake(JSON.stringify({ type: 'error', code: 'Revoked', message: 'gone' }))).toEqual({ type: 'error', code: 'Revoked', message: 'gone' });
    const odd = parseHandshake(JSON.stringify({ type: 'error', code: 'WrongPassword', message: 'x'.repeat(2000) }));
    expect(odd).toMatchObject({ type: 'error', code: 'RemoteProtocol' });
    expect((odd as { message: string }).message).toHaveLength(500);
  });

  it('rejects malformed messages with RemoteProtocol', () => {
    for (const bad of [
      new Uint8Array(3),
      'not json',
      '[]',
      'null',
      'x'.repeat(5000),
      JSON.stringify({ ...hello, v: 0 }),
      JSON.stringify({ ...hello, id: 'ABC' }),
      JSON.stringify({ ...hello, id: 'A'.repeat(32) }),
      JSON.stringify({ ...hello, nonce: '2'.repeat(63) }),
      JSON.stringify({ type: 'proof' }),
    ]) {
      expect(() => parseHandshake(bad), String(bad).slice(0, 40)).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    }
  });
});

describe('control messages', () => {
  it('round-trip, and unknown or broken ones come back as unknown', () => {
    const bytes = encodeControl({ type: 'revoked', message: 'bye' });
    expect(bytes[0]).toBe(TAG_CONTROL);
    expect(parseControl(bytes.subarray(1))).toEqual({ type: 'revoked', message: 'bye' });
    expect(parseControl(new TextEncoder().encode('{"type":"later"}'))).toEqual({ type: 'unknown', original: 'later' });
    expect(parseControl(new Uint8Array([0xff]))).toEqual({ type: 'unknown', original: 'malformed' });
  });
});

describe('agent-v1 bounds', () => {
  const hello = { type: 'hello', v: 1, id: P.clientId, nonce: P.clientNonce };

  it('refuses deep nesting and wrong field types with RemoteProtocol', () => {
    const deep = JSON.stringify({ ...hello, extra: JSON.parse('['.repeat(40) + ']'.repeat(40)) as unknown });
    expect(deep.length).toBeLessThan(MAX_HANDSHAKE_MESSAGE);
    for (const bad of [deep, JSON.stringify({ ...hello, v: '1' }), JSON.stringify({ ...hello, v: 1.5 }), JSON.stringify({ ...hello, nonce: 7 })]) {
      expect(() => parseHandshake(bad)).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    }
    expect(() => parseHandshake('x'.repeat(MAX_HANDSHAKE_MESSAGE + 1))).toThrow(/too large/);
  });

  it('reads an error whose code or message has the wrong type as RemoteProtocol / "refused"', () => {
    expect(parseHandshake(JSON.stringify({ type: 'error', code: 4, message: {} }))).toEqual({ type: 'error', code: 'RemoteProtocol', message: 'refused' });
  });

  it('reads oversize, deep or non-object control messages as unknown, and unknown keys are ignored', () => {
    const utf8 = (t: string) => new TextEncoder().encode(t);
    expect(parseControl(utf8(JSON.stringify({ type: 'revoked', message: 'm', later: 1 })))).toEqual({ type: 'revoked', message: 'm' });
    expect(parseControl(utf8(JSON.stringify({ type: 'revoked', message: 3 })))).toEqual({ type: 'revoked', message: 'the pairing was revoked' });
    expect(parseControl(utf8(JSON.stringify({ type: 'revoked', message: 'x'.repeat(MAX_CONTROL_MESSAGE) })))).toEqual({ type: 'unknown', original: 'malformed' });
    expect(parseControl(utf8('['.repeat(40) + ']'.repeat(40)))).toEqual({ type: 'unknown', original: 'malformed' });
    expect(parseControl(utf8('[]'))).toEqual({ type: 'unknown', original: 'malformed' });
  });

  it('tags records: mux frames, control messages, unknown tags ignored', () => {
    expect(parseRecordBody(encodeMuxBody(new Uint8Array([1, 2])))).toEqual({ type: 'mux', frame: new Uint8Array([1, 2]) });
    expect(parseRecordBody(encodeControl({ type: 'revoked', message: 'x' }))).toEqual({ type: 'control', message: { type: 'revoked', message: 'x' } });
    expect(parseRecordBody(new Uint8Array([7, 1]))).toEqual({ type: 'unknown', tag: 7 });
    expect(parseRecordBody(new Uint8Array(0))).toEqual({ type: 'unknown', tag: -1 });
  });

  it('maps its close codes back to errors, and no others', () => {
    expect(errorForClose(4004, 'gone')).toMatchObject({ code: 'Revoked', message: 'gone' });
    expect(errorForClose(4001, '')).toMatchObject({ code: 'Unpaired' });
    expect(errorForClose(1000, '')).toBeUndefined();
  });

  it('newNonce checks the random source', () => {
    expect(newNonce((n) => new Uint8Array(n).fill(1))).toBe('01'.repeat(32));
    expect(() => newNonce(() => new Uint8Array(8))).toThrow(RangeError);
  });
});
