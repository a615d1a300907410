/**
 * The mailbox server protocol at the edge: one strict, bounded parser for
 * what the server sends, and the encoder for what we send.
 */
import { describe, expect, it } from 'vitest';
import { WormholeError, isWormholeError } from '../src/errors.js';
import { MAX_SERVER_FRAME, encodeClientMessage, parseServerMessage, type ClientMessage } from '../src/messages.js';

const parse = (value: unknown) => parseServerMessage(JSON.stringify(value));

function serverProtocolError(frame: unknown): WormholeError {
  try {
    parseServerMessage(frame as string);
  } catch (err) {
    expect(err).toBeInstanceOf(WormholeError);
    expect(isWormholeError(err, 'ServerProtocol')).toBe(true);
    expect((err as WormholeError).blame).toBe('server');
    return err as WormholeError;
  }
  throw new Error(`no error for ${String(frame).slice(0, 80)}`);
}

describe('parseServerMessage: every known type', () => {
  it('welcome, with motd and error kept and other keys passed through', () => {
    expect(parse({ type: 'welcome', welcome: {} })).toEqual({ type: 'welcome', welcome: {} });
    expect(parse({ type: 'welcome', welcome: { motd: 'hi', current_cli_version: '0.12.0' }, server_tx: 1.5 })).toEqual({
      type: 'welcome',
      welcome: { motd: 'hi', current_cli_version: '0.12.0' },
    });
    expect(parse({ type: 'welcome', welcome: { error: 'go away' } })).toEqual({ type: 'welcome', welcome: { error: 'go away' } });
  });

  it('ack, with or without an id', () => {
    expect(parse({ type: 'ack', id: 'a1b2', server_tx: 1 })).toEqual({ type: 'ack', id: 'a1b2' });
    expect(parse({ type: 'ack' })).toEqual({ type: 'ack' });
    expect(parse({ type: 'ack', id: null })).toEqual({ type: 'ack' });
  });

  it('pong', () => {
    expect(parse({ type: 'pong', pong: 42 })).toEqual({ type: 'pong', pong: 42 });
  });

  it('nameplates: ids only, malformed entries skipped', () => {
    expect(parse({ type: 'nameplates', nameplates: [{ id: '1' }, { id: '23', extra: true }] })).toEqual({ type: 'nameplates', nameplates: ['1', '23'] });
    expect(parse({ type: 'nameplates', nameplates: [{ id: 4 }, 'x', null, { id: '5' }] })).toEqual({ type: 'nameplates', nameplates: ['5'] });
    expect(parse({ type: 'nameplates', nameplates: [] })).toEqual({ type: 'nameplates', nameplates: [] });
  });

  it('allocated, claimed, released, closed', () => {
    expect(parse({ type: 'allocated', nameplate: '7' })).toEqual({ type: 'allocated', nameplate: '7' });
    expect(parse({ type: 'claimed', mailbox: 'mbx' })).toEqual({ type: 'claimed', mailbox: 'mbx' });
    expect(parse({ type: 'released' })).toEqual({ type: 'released' });
    expect(parse({ type: 'closed' })).toEqual({ type: 'closed' });
  });

  it('message, with or without an id', () => {
    const m = { type: 'message', side: 'abcdef0123', phase: 'pake', body: 'deadbeef' };
    expect(parse({ ...m, id: 'c0de', server_rx: 1, server_tx: 2 })).toEqual({ ...m, id: 'c0de' });
    expect(parse(m)).toEqual(m);
    expect(parse({ ...m, id: null })).toEqual(m);
  });

  it('a message body may be large (up to the frame bound); other fields may not', () => {
    const body = 'ab'.repeat(100_000);
    expect(parse({ type: 'message', side: 's', phase: '0', body })).toMatchObject({ body });
    expect(serverProtocolError(JSON.stringify({ type: 'message', side: 's'.repeat(4097), phase: '0', body: '' })).message).toMatch(/oversized 'side'/);
    serverProtocolError(JSON.stringify({ type: 'claimed', mailbox: 'm'.repeat(4097) }));
  });

  it('error: the text kept (bounded), non-string errors stringified, orig passed through', () => {
    expect(parse({ type: 'error', error: 'crowded', orig: { type: 'claim' } })).toEqual({ type: 'error', error: 'crowded', orig: { type: 'claim' } });
    expect(parse({ type: 'error', error: { why: 1 } })).toMatchObject({ type: 'error', error: '{"why":1}' });
    expect(parse({ type: 'error' })).toMatchObject({ type: 'error', error: 'null' });
    const long = parse({ type: 'error', error: 'x'.repeat(5000) });
    expect(long.type === 'error' && long.error.length).toBe(1000);
  });
});

describe('parseServerMessage: forward compatibility', () => {
  it('unknown types become {type: "unknown"}, never an error', () => {
    expect(parse({ type: 'dilate-v2-hint', anything: [1, 2] })).toEqual({ type: 'unknown', original: 'dilate-v2-hint' });
    expect(parse({ type: '' })).toEqual({ type: 'unknown', original: '' });
    expect(parse({ type: 'x'.repeat(500) })).toEqual({ type: 'unknown', original: 'x'.repeat(100) });
  });

  it('a type that merely looks like a prototype key is unknown too', () => {
    expect(parse({ type: 'constructor' })).toEqual({ type: 'unknown', original: 'constructor' });
    expect(parse({ type: '__proto__' })).toEqual({ type: 'unknown', original: '__proto__' });
  });

  it('unknown keys are ignored on every known type', () => {
    const extra = { server_tx: 1.25, future: { nested: true }, __proto__x: 1 };
    expect(parse({ type: 'allocated', nameplate: '7', ...extra })).toEqual({ type: 'allocated', nameplate: '7' });
    expect(parse({ type: 'released', ...extra })).toEqual({ type: 'released' });
    expect(parse({ type: 'closed', ...extra })).toEqual({ type: 'closed' });
    expect(parse({ type: 'pong', pong: 1, ...extra })).toEqual({ type: 'pong', pong: 1 });
  });
});

describe('parseServerMessage: malformed frames are ServerProtocol errors', () => {
  const cases: [string, unknown][] = [
    ['not JSON', '{"type": "ack"'],
    ['empty', ''],
    ['JSON null', 'null'],
    ['a JSON number', '42'],
    ['a JSON string', '"welcome"'],
    ['a JSON array', '[{"type":"ack"}]'],
    ['an object without type', '{"welcome": {}}'],
    ['a numeric type', '{"type": 5}'],
    ['welcome without a welcome object', '{"type":"welcome"}'],
    ['welcome with a list', '{"type":"welcome","welcome":[]}'],
    ['welcome with null', '{"type":"welcome","welcome":null}'],
    ['nameplates without a list', '{"type":"nameplates","nameplates":{}}'],
    ['allocated without a nameplate', '{"type":"allocated"}'],
    ['allocated with a numeric nameplate', '{"type":"allocated","nameplate":7}'],
    ['claimed without a mailbox', '{"type":"claimed"}'],
    ['message without a side', '{"type":"message","phase":"0","body":""}'],
    ['message without a phase', '{"type":"message","side":"s","body":""}'],
    ['message without a body', '{"type":"message","side":"s","phase":"0"}'],
    ['message with a numeric phase', '{"type":"message","side":"s","phase":0,"body":""}'],
    ['message with a null body', '{"type":"message","side":"s","phase":"0","body":null}'],
  ];
  for (const [what, frame] of cases) {
    it(what, () => {
      serverProtocolError(frame);
    });
  }

  it('a frame over MAX_SERVER_FRAME is refused before parsing, even if valid JSON', () => {
    const pad = 'x'.repeat(MAX_SERVER_FRAME);
    const err = serverProtocolError(JSON.stringify({ type: 'ack', pad }));
    expect(err.message).toMatch(/limit/);
    // exactly at the bound is fine
    const frame = JSON.stringify({ type: 'ack', pad: '' });
    const atBound = frame.slice(0, -2) + 'x'.repeat(MAX_SERVER_FRAME - frame.length) + '"}';
    expect(atBound).toHaveLength(MAX_SERVER_FRAME);
    expect(parseServerMessage(atBound)).toEqual({ type: 'ack' });
  });

  it('a binary frame (not a string) is refused', () => {
    serverProtocolError(new Uint8Array([123, 125]));
    serverProtocolError(undefined);
  });

  it('the cause of a JSON error is kept', () => {
    const err = serverProtocolError('{oops');
    expect(err.cause).toBeInstanceOf(SyntaxError);
  });

  it('never throws anything but WormholeError on arbitrary input', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = '{}[]":,0123456789.-eEtruefalsnl typemsagwcoid\\';
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rnd() * 40);
      let frame = '';
      for (let j = 0; j < len; j++) frame += alphabet[Math.floor(rnd() * alphabet.length)];
      try {
        parseServerMessage(frame);
      } catch (err) {
        expect(err).toBeInstanceOf(WormholeError);
      }
    }
  });
});

describe('encodeClientMessage', () => {
  it('adds the id and keeps every field, as JSON text', () => {
    const messages: ClientMessage[] = [
      { type: 'bind', appid: 'lothar.com/wormhole/text-or-file-xfer', side: '0123456789', client_version: ['burrow', '0.1.0'] },
      { type: 'list' },
      { type: 'allocate' },
      { type: 'claim', nameplate: '4' },
      { type: 'release', nameplate: '4' },
      { type: 'release' },
      { type: 'open', mailbox: 'mbx' },
      { type: 'add', phase: 'pake', body: 'abcd' },
      { type: 'close', mailbox: 'mbx', mood: 'happy' },
      { type: 'ping', ping: 3 },
    ];
    for (const m of messages) {
      const text = encodeClientMessage(m, 'beef');
      expect(typeof text).toBe('string');
      expect(JSON.parse(text)).toEqual({ ...m, id: 'beef' });
    }
  });
});

describe('welcome field types', () => {
  it('drops a non-string motd and keeps a non-string error as text', () => {
    const m = parseServerMessage(JSON.stringify({ type: 'welcome', welcome: { motd: 5, error: { why: 'no' } } }));
    expect(m).toEqual({ type: 'welcome', welcome: { error: '{"why":"no"}' } });
  });
});
