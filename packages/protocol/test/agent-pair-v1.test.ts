import { describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from '../src/bytes.js';
import {
  MAX_PAIR_MESSAGE,
  PAIR_APPID,
  encodePairDone,
  encodePairHello,
  encodePairRefusal,
  isPairDone,
  pairingPurpose,
  parsePairHello,
  parsePairMessage,
} from '../src/agent/index.js';

const A = 'a'.repeat(32);
const C = 'c'.repeat(32);
const body = (value: unknown) => utf8(JSON.stringify({ 'pair-v1': value }));

describe('pair-v1 messages', () => {
  it('encode exactly as before: the hello with optional fields only when set, done, refusal', () => {
    expect(fromUtf8(encodePairHello({ role: 'agent', id: A, name: 'Agent', endpoint: 'ws://127.0.0.1:4100/v1' }))).toBe(
      `{"pair-v1":{"role":"agent","id":"${A}","name":"Agent","endpoint":"ws://127.0.0.1:4100/v1"}}`,
    );
    expect(fromUtf8(encodePairHello({ role: 'client', id: C, name: 'Ext', origin: 'chrome-extension://x' }))).toBe(
      `{"pair-v1":{"role":"client","id":"${C}","name":"Ext","origin":"chrome-extension://x"}}`,
    );
    expect(fromUtf8(encodePairDone())).toBe('{"pair-v1":{"done":true}}');
    expect(fromUtf8(encodePairRefusal('no'))).toBe('{"pair-v1":{"error":"no"}}');
    expect(PAIR_APPID).toBe('burrow/agent/pair-v1');
    expect(pairingPurpose(A, C)).toBe(`burrow/agent/pair-v1/secret/${A}/${C}`);
  });

  it('round-trip a hello; unknown keys are ignored; bad names, endpoints and origins are dropped, not thrown on', () => {
    const got = parsePairMessage(encodePairHello({ role: 'agent', id: A, name: '  Laptop  ', endpoint: 'ws://h/v1' }));
    expect(got.type).toBe('body');
    if (got.type !== 'body') return;
    expect(parsePairHello({ ...got.body, later: [1] }, 'agent')).toEqual({ role: 'agent', id: A, name: 'Laptop', endpoint: 'ws://h/v1' });
    expect(parsePairHello({ role: 'agent', id: A, name: 5, endpoint: 'http://h' }, 'agent')).toEqual({ role: 'agent', id: A, name: 'Burrow agent' });
    expect(parsePairHello({ role: 'agent', id: A, name: 'x', endpoint: `ws://${'h'.repeat(200)}` }, 'agent')).toEqual({ role: 'agent', id: A, name: 'x' });
    expect(parsePairHello({ role: 'client', id: C, name: '', origin: 7, endpoint: 'ws://h' }, 'client')).toEqual({ role: 'client', id: C, name: 'Burrow client' });
    expect(parsePairHello({ role: 'agent', id: A, name: 'x', origin: 'https://o' }, 'agent')).toEqual({ role: 'agent', id: A, name: 'x' });
  });

  it('refuse the wrong role or a bad identity with RemoteProtocol', () => {
    expect(() => parsePairHello({ role: 'client', id: C, name: 'x' }, 'agent')).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    for (const id of [undefined, 3, 'A'.repeat(32), 'a'.repeat(31)]) {
      expect(() => parsePairHello({ role: 'agent', id, name: 'x' }, 'agent')).toThrow(/bad peer identity/);
    }
  });

  it('read refusals (bounded) and done', () => {
    expect(parsePairMessage(body({ error: 'x'.repeat(1000) }))).toEqual({ type: 'refused', reason: 'x'.repeat(300) });
    const done = parsePairMessage(encodePairDone());
    expect(done.type === 'body' && isPairDone(done.body)).toBe(true);
    expect(isPairDone({ done: 'yes' })).toBe(false);
  });

  it('refuse what is not pair-v1 JSON: other apps, oversize, deep, not UTF-8, not an object', () => {
    for (const bytes of [
      utf8('{"other":{}}'),
      body([]),
      body('text'),
      utf8('[]'),
      utf8('not json'),
      new Uint8Array([0xff, 0xfe]),
      body({ name: 'x'.repeat(MAX_PAIR_MESSAGE) }),
      body({ deep: JSON.parse('['.repeat(40) + ']'.repeat(40)) as unknown }),
    ]) {
      expect(() => parsePairMessage(bytes)).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    }
    expect(() => parsePairMessage(utf8('{"other":{}}'))).toThrow(/not pairing/);
  });
});
