// The relay's RFC 6455 frame parser and encoder, without sockets: masking,
// fragmentation with control frames in between, caps, close codes, protocol
// errors, and the same events whatever way the bytes are split.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { closePayload, encodeFrame, FrameParser, frameHeader, isValidCloseCode, OPCODE, unmaskInPlace, type Unmask } from '../src/relay/ws-frames.js';

type Event = ['data', string, boolean] | ['ping' | 'pong', string] | ['close', number | undefined, string] | ['error', number, string];

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

/** A client frame with every bit settable: FIN, RSV, opcode, mask (or none), a declared length that may lie. */
function frame(opcode: number, payload: Uint8Array, o: { fin?: boolean; rsv?: number; mask?: Uint8Array | null; length?: number } = {}): Uint8Array {
  const mask = o.mask === null ? undefined : (o.mask ?? MASK);
  const bytes = encodeFrame(opcode, payload, mask);
  if (o.fin === false) bytes[0]! &= 0x7f;
  bytes[0]! |= (o.rsv ?? 0) << 4;
  if (o.length !== undefined) {
    const header = frameHeader(opcode, o.length, mask);
    header[0] = bytes[0]!;
    return concat(header, bytes.subarray(frameHeader(opcode, payload.length, mask).length));
  }
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Parse `pieces` one after another (each copied: the parser unmasks in place); consecutive data events are merged. */
function parse(pieces: Uint8Array[], options: { maxFrameBytes?: number; unmask?: Unmask } = {}): Event[] {
  const events: Event[] = [];
  const parser = new FrameParser(
    {
      data: (p, text) => {
        const last = events.at(-1);
        if (last?.[0] === 'data' && last[2] === text) last[1] += hex(p);
        else events.push(['data', hex(p), text]);
      },
      ping: (p) => events.push(['ping', hex(p)]),
      pong: (p) => events.push(['pong', hex(p)]),
      close: (code, reason) => events.push(['close', code, reason]),
      error: (code, reason) => events.push(['error', code, reason]),
    },
    { maxFrameBytes: options.maxFrameBytes ?? 1 << 20, ...(options.unmask ? { unmask: options.unmask } : {}) },
  );
  for (const piece of pieces) parser.push(new Uint8Array(piece));
  return events;
}

describe('masking', () => {
  it('unmaskInPlace equals a byte loop at every offset, length and alignment', () => {
    const source = randomBytes(300);
    for (let start = 0; start < 8; start++) {
      for (const length of [0, 1, 3, 4, 5, 7, 8, 63, 64, 65, 255]) {
        const mine = new Uint8Array(source);
        unmaskInPlace(mine.subarray(start, start + length), MASK);
        const want = new Uint8Array(source);
        for (let i = 0; i < length; i++) want[start + i]! ^= MASK[i & 3]!;
        expect(hex(mine)).toBe(hex(want));
      }
    }
  });

  it('a masked frame parses to its payload; the mask carries over pieces of any size', () => {
    const payload = randomBytes(70_001);
    const bytes = frame(OPCODE.binary, payload);
    expect(bytes.subarray(2 + 8, 2 + 8 + 4)).toEqual(MASK);
    expect(hex(bytes.subarray(14, 30))).not.toBe(hex(payload.subarray(0, 16)));
    const pieces: Uint8Array[] = [];
    for (let i = 0, n = 1; i < bytes.length; i += n, n = (n * 7 + 3) % 4099) pieces.push(bytes.subarray(i, i + n));
    expect(parse(pieces)).toEqual([['data', hex(payload), false]]);
  });

  it('takes a native unmask with the same contract (bufferutil, when installed)', () => {
    let unmask: Unmask | undefined;
    try {
      unmask = (createRequire(import.meta.url)('bufferutil') as { unmask: Unmask }).unmask;
    } catch {
      unmask = (data, mask) => data.forEach((b, i) => (data[i] = b ^ mask[i & 3]!));
    }
    const payload = randomBytes(5_003);
    const bytes = frame(OPCODE.binary, payload);
    const pieces = [bytes.subarray(0, 9), bytes.subarray(9, 1_001), bytes.subarray(1_001, 1_002), bytes.subarray(1_002)];
    expect(parse(pieces, { unmask })).toEqual([['data', hex(payload), false]]);
  });

  it('refuses an unmasked client frame', () => {
    expect(parse([frame(OPCODE.binary, randomBytes(10), { mask: null })])).toEqual([['error', 1002, 'unmasked frame']]);
  });
});

describe('headers the server writes', () => {
  it('uses 7-bit, 16-bit and 64-bit lengths at the right sizes', () => {
    expect(hex(frameHeader(OPCODE.binary, 0))).toBe('8200');
    expect(hex(frameHeader(OPCODE.binary, 125))).toBe('827d');
    expect(hex(frameHeader(OPCODE.binary, 126))).toBe('827e007e');
    expect(hex(frameHeader(OPCODE.binary, 65_535))).toBe('827effff');
    expect(hex(frameHeader(OPCODE.binary, 65_536))).toBe('827f0000000000010000');
    expect(hex(frameHeader(OPCODE.close, 2 ** 32 + 5))).toBe('887f0000000100000005');
  });

  it('close payloads carry the code and a reason cut at a character boundary', () => {
    expect(hex(closePayload(1003, 'binary frames only'))).toBe(`03eb${Buffer.from('binary frames only').toString('hex')}`);
    const long = closePayload(1000, 'é'.repeat(100));
    expect(long.length).toBe(2 + 122);
    expect(new TextDecoder('utf-8', { fatal: true }).decode(long.subarray(2))).toBe('é'.repeat(61));
  });
});

describe('fragmented messages', () => {
  it('passes a binary message of three frames on as one stream', () => {
    const [a, b, c] = [randomBytes(10), randomBytes(200), randomBytes(70_000)];
    const events = parse([frame(OPCODE.binary, a, { fin: false }), frame(OPCODE.continuation, b, { fin: false }), frame(OPCODE.continuation, c)]);
    expect(events).toEqual([['data', hex(a) + hex(b) + hex(c), false]]);
  });

  it('answers control frames between fragments without breaking the message', () => {
    const events = parse([
      frame(OPCODE.text, Buffer.from('he'), { fin: false }),
      frame(OPCODE.ping, Buffer.from('p1')),
      frame(OPCODE.continuation, Buffer.from('ll'), { fin: false }),
      frame(OPCODE.pong, Buffer.from('')),
      frame(OPCODE.continuation, Buffer.from('o')),
      frame(OPCODE.binary, Buffer.from([1, 2])),
    ]);
    const h = (s: string): string => Buffer.from(s).toString('hex');
    expect(events).toEqual([['data', h('he'), true], ['ping', h('p1')], ['data', h('ll'), true], ['pong', ''], ['data', h('o'), true], ['data', '0102', false]]);
  });

  it('refuses a continuation outside a message and a new message inside one', () => {
    expect(parse([frame(OPCODE.continuation, Buffer.from('x'))])).toEqual([['error', 1002, 'continuation outside a message']]);
    expect(parse([frame(OPCODE.binary, Buffer.from('x'), { fin: false }), frame(OPCODE.binary, Buffer.from('y'))])).toEqual([
      ['data', '78', false],
      ['error', 1002, 'new message inside a fragmented one'],
    ]);
  });
});

describe('caps and protocol errors', () => {
  it('refuses a data frame over the cap from its header, before its payload', () => {
    const header = frame(OPCODE.binary, new Uint8Array(0), { length: 1_025 });
    expect(parse([header], { maxFrameBytes: 1_024 })).toEqual([['error', 1009, 'frame of 1025 bytes over the cap of 1024']]);
    expect(parse([frame(OPCODE.binary, randomBytes(1_024))], { maxFrameBytes: 1_024 })).toHaveLength(1);
  });

  it('refuses 64-bit lengths with the top bit set or beyond 2^53 - 1', () => {
    const top = frame(OPCODE.binary, new Uint8Array(0), { length: 65_536 });
    top[2] = 0x80;
    expect(parse([top], { maxFrameBytes: Infinity })).toEqual([['error', 1002, 'payload length has its top bit set']]);
    top[2] = 0x00;
    top[3] = 0x20; // 2^53
    expect(parse([top], { maxFrameBytes: Infinity })).toEqual([['error', 1009, 'payload length over 2^53 - 1']]);
  });

  it('refuses control frames that are long or fragmented, RSV bits and unknown opcodes', () => {
    expect(parse([frame(OPCODE.ping, randomBytes(126))])).toEqual([['error', 1002, 'control frame too long']]);
    expect(parse([frame(OPCODE.ping, randomBytes(3), { fin: false })])).toEqual([['error', 1002, 'fragmented control frame']]);
    expect(parse([frame(OPCODE.binary, randomBytes(3), { rsv: 4 })])).toEqual([['error', 1002, 'RSV bits set']]);
    expect(parse([frame(3, randomBytes(3))])).toEqual([['error', 1002, 'unknown opcode 3']]);
    expect(parse([frame(11, randomBytes(3))])).toEqual([['error', 1002, 'unknown opcode 11']]);
  });

  it('reads nothing after an error', () => {
    expect(parse([concat(frame(3, new Uint8Array(0)), frame(OPCODE.binary, Buffer.from('late')))])).toEqual([['error', 1002, 'unknown opcode 3']]);
  });
});

describe('close frames', () => {
  it('reports the code and reason, or no code, and reads nothing after', () => {
    const after = frame(OPCODE.binary, Buffer.from('after'));
    expect(parse([concat(frame(OPCODE.close, closePayload(1000, 'bye')), after)])).toEqual([['close', 1000, 'bye']]);
    expect(parse([frame(OPCODE.close, new Uint8Array(0)), after])).toEqual([['close', undefined, '']]);
    for (const code of [1001, 1011, 1014, 3000, 4999]) expect(parse([frame(OPCODE.close, closePayload(code))])).toEqual([['close', code, '']]);
  });

  it('refuses invalid codes (1002), a one-byte payload (1002) and a reason that is not UTF-8 (1007)', () => {
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000]) {
      expect(isValidCloseCode(code)).toBe(false);
      expect(parse([frame(OPCODE.close, closePayload(code))])).toEqual([['error', 1002, `invalid close code ${code}`]]);
    }
    expect(parse([frame(OPCODE.close, new Uint8Array([3]))])).toEqual([['error', 1002, 'close frame of one byte']]);
    expect(parse([frame(OPCODE.close, new Uint8Array([0x03, 0xe8, 0xc3, 0x28]))])).toEqual([['error', 1007, 'close reason is not UTF-8']]);
  });
});

describe('any split of the bytes', () => {
  // Every header size, empty frames, fragments with control frames between them, and a close.
  const before = concat(
    frame(OPCODE.binary, Buffer.from('please relay')),
    frame(OPCODE.binary, new Uint8Array(0)),
    frame(OPCODE.binary, randomBytes(300), { fin: false }),
    frame(OPCODE.ping, Buffer.from('are you there')),
    frame(OPCODE.continuation, randomBytes(5), { fin: false }),
    frame(OPCODE.pong, new Uint8Array(0)),
  );
  const streamWith = (last: number): Uint8Array =>
    concat(before, frame(OPCODE.continuation, randomBytes(last)), frame(OPCODE.text, Buffer.from('t')), frame(OPCODE.close, closePayload(1001, 'going away')));
  const small = streamWith(1);
  const large = streamWith(65_536 + 7); // a 64-bit length
  const splits = (stream: Uint8Array, at: Iterable<number>): void => {
    const whole = parse([stream]);
    expect(whole.map((e) => e[0])).toEqual(['data', 'ping', 'data', 'pong', 'data', 'data', 'close']);
    expect(whole.at(-1)).toEqual(['close', 1001, 'going away']);
    for (const i of at) {
      const events = parse([stream.subarray(0, i), stream.subarray(i)]);
      if (JSON.stringify(events) !== JSON.stringify(whole)) expect(events, `split at ${i}`).toEqual(whole);
    }
  };

  it('gives the same events split in two at every byte boundary', () => {
    splits(small, Array.from({ length: small.length - 1 }, (_, i) => i + 1));
  });

  it('and with a 64-bit length: at every boundary outside the long payload, and inside it', () => {
    const payloadAt = before.length + 14; // after the continuation's 64-bit header: 2 + 8 + 4 mask bytes
    const edges = Array.from({ length: large.length - 1 }, (_, i) => i + 1).filter((i) => i < payloadAt + 8 || i > payloadAt + 65_536 - 8 || i % 4_099 === 0);
    splits(large, edges);
  });

  it('gives the same events one byte at a time', () => {
    const bytes: Uint8Array[] = [];
    for (let i = 0; i < large.length; i++) bytes.push(large.subarray(i, i + 1));
    expect(parse(bytes)).toEqual(parse([large]));
  });
});

describe('malformed input', () => {
  it('never throws on mutated streams, and reports nothing after an error or a close', () => {
    const valid = concat(
      frame(OPCODE.binary, randomBytes(40), { fin: false }),
      frame(OPCODE.ping, randomBytes(4)),
      frame(OPCODE.continuation, randomBytes(300)),
      frame(OPCODE.close, closePayload(1000, 'ok')),
    );
    for (let round = 0; round < 3_000; round++) {
      const bytes = new Uint8Array(valid);
      const flips = 1 + (round % 4);
      for (let f = 0; f < flips; f++) bytes[(round * 7919 + f * 104_729) % bytes.length] = randomBytes(1)[0]!;
      const cut = 1 + (round % (bytes.length - 1));
      const events = parse([bytes.subarray(0, cut), bytes.subarray(cut)], { maxFrameBytes: 256 });
      const end = events.findIndex((e) => e[0] === 'error' || e[0] === 'close');
      if (end >= 0) expect(end, `round ${round}`).toBe(events.length - 1);
      for (const e of events) if (e[0] === 'error') expect([1002, 1007, 1009]).toContain(e[1]);
    }
  });
});
