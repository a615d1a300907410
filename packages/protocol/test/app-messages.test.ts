// The application-message envelope and the text exchange of
// `wormhole send --text`: exact bytes, strict parsing, bounded error text.
import { describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from '../src/bytes.js';
import { appError, appErrorText, encodeAppMessage, isTextAck, offeredText, parseAppMessage, textAck, textOffer } from '../src/app-messages.js';

describe('application messages', () => {
  it('encodes the text exchange exactly as the CLI does', () => {
    expect(fromUtf8(encodeAppMessage(textOffer('hi 🌍')))).toBe('{"offer":{"message":"hi 🌍"}}');
    expect(fromUtf8(encodeAppMessage(textAck()))).toBe('{"answer":{"message_ack":"ok"}}');
    expect(fromUtf8(encodeAppMessage(appError('no')))).toBe('{"error":"no"}');
  });

  it('parses a JSON object and refuses anything else with RemoteProtocol', () => {
    expect(parseAppMessage(utf8('{"offer":{"message":"x"}}'))).toEqual({ offer: { message: 'x' } });
    for (const bad of [utf8('[1]'), utf8('"x"'), utf8('null'), utf8('{'), new Uint8Array([0xff, 0xfe]), utf8(`{"a":${'['.repeat(64)}${']'.repeat(64)}}`)]) {
      expect(() => parseAppMessage(bad)).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    }
  });

  it('reads a text offer, an ack and an error', () => {
    expect(offeredText({ offer: { message: 'x' } })).toBe('x');
    expect(offeredText({ offer: { file: { filename: 'a', filesize: 1 } } })).toBeUndefined();
    expect(offeredText({ offer: 'x' })).toBeUndefined();
    expect(isTextAck({ answer: { message_ack: 'ok' } })).toBe(true);
    expect(isTextAck({ answer: { message_ack: 'no' } })).toBe(false);
    expect(isTextAck({ answer: 'ok' })).toBe(false);
    expect(appErrorText({ error: 'e'.repeat(900) })).toHaveLength(500);
    expect(appErrorText({ error: 5 })).toBe('5');
    expect(appErrorText({ other: 1 })).toBeUndefined();
  });
});
