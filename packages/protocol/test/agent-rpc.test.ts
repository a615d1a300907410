import { describe, expect, it } from 'vitest';
import { utf8 } from '../src/bytes.js';
import { encodeLengthPrefixed } from '../src/frames.js';
import { MAX_HEADER, RpcHeaderReader, encodeHeader, parseRequest, parseResponse } from '../src/agent/index.js';

const frame = (text: string) => encodeLengthPrefixed(utf8(text));

describe('rpc headers', () => {
  it('are one length-prefixed frame of JSON', () => {
    const bytes = encodeHeader({ method: 'info', params: {} });
    expect([...bytes.subarray(0, 4)]).toEqual([0, 0, 0, 29]);
    expect(new TextDecoder().decode(bytes.subarray(4))).toBe('{"method":"info","params":{}}');
    expect(bytes.length).toBe(4 + '{"method":"info","params":{}}'.length);
    expect(() => encodeHeader({ method: 'x', params: { big: 'x'.repeat(MAX_HEADER) } })).toThrow(RangeError);
  });

  it('are read across chunks, handing back what follows in the last chunk', () => {
    const all = new Uint8Array([...encodeHeader({ ok: true, result: 1 }), 5, 6]);
    const reader = new RpcHeaderReader();
    for (let i = 0; i < all.length - 3; i++) expect(reader.push(all.subarray(i, i + 1))).toBeUndefined();
    const got = reader.push(all.subarray(all.length - 3));
    expect(got?.header).toEqual({ ok: true, result: 1 });
    expect([...got!.rest]).toEqual([5, 6]);
    expect(() => reader.end()).not.toThrow();
  });

  it('refuse oversize, deep, non-object, non-UTF-8 and unfinished headers with RemoteProtocol', () => {
    const over = new Uint8Array(4);
    new DataView(over.buffer).setUint32(0, MAX_HEADER + 1);
    const deep = '['.repeat(40) + ']'.repeat(40);
    for (const bytes of [over, frame(deep), frame('[1]'), frame('"x"'), frame('{'), encodeLengthPrefixed(new Uint8Array([0xff]))]) {
      expect(() => new RpcHeaderReader().push(bytes)).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    }
    const unfinished = new RpcHeaderReader();
    unfinished.push(frame('{}').subarray(0, 5));
    expect(() => unfinished.end()).toThrow(/ended inside a header/);
  });

  it('parse requests and responses strictly, unknown keys ignored, unknown error codes as RemoteProtocol', () => {
    expect(() => parseRequest({ method: '' })).toThrow(/bad method/);
    expect(() => parseRequest({ method: 'm'.repeat(101) })).toThrow(/bad method/);
    expect(() => parseRequest({ method: 3 })).toThrow(/bad method/);
    expect(() => parseRequest({ method: 'a', params: [] })).toThrow(/params/);
    expect(() => parseRequest([])).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    expect(parseRequest({ method: 'a' })).toEqual({ method: 'a', params: {} });
    expect(parseRequest({ method: 'a', params: { x: 1 }, later: true })).toEqual({ method: 'a', params: { x: 1 } });
    expect(parseResponse({ ok: true, result: 3 })).toEqual({ ok: true, result: 3 });
    expect(parseResponse({ ok: true })).toEqual({ ok: true, result: null });
    expect(parseResponse({ ok: false, error: { code: 'NotAllowed', message: 'no' } })).toEqual({ ok: false, error: { code: 'NotAllowed', message: 'no' } });
    expect(parseResponse({ ok: false, error: { code: 'Whatever' } })).toEqual({ ok: false, error: { code: 'RemoteProtocol', message: 'the call failed' } });
    expect(parseResponse({ ok: false, error: 'text' })).toEqual({ ok: false, error: { code: 'RemoteProtocol', message: 'the call failed' } });
    expect((parseResponse({ ok: false, error: { code: 'Usage', message: 'x'.repeat(900) } }) as { error: { message: string } }).error.message).toHaveLength(500);
    expect(() => parseResponse(null)).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
  });
});
