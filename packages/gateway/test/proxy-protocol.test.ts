// The PROXY protocol parser (sans I/O): v1 TCP4 / TCP6 / UNKNOWN, v2 with
// addresses and TLVs, LOCAL, every header split at every byte boundary, and
// garbage — which is `absent` (not a header), `invalid` (close), never a
// throw and never a wait beyond the bounds.
import { describe, expect, it } from 'vitest';
import { concatBytes } from '@burrow/protocol';
import { parseProxyHeader, PROXY_V1_MAX_BYTES, type ProxyParse } from '../src/proxy-protocol.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A v2 header: version/command byte, family/transport byte, address block, TLVs. */
function v2(verCmd: number, famTrans: number, addresses: number[], tlvs: [number, Uint8Array][] = [], lengthOverride?: number): Uint8Array {
  const tail = [...addresses];
  for (const [type, value] of tlvs) tail.push(type, value.length >> 8, value.length & 0xff, ...value);
  const n = lengthOverride ?? tail.length;
  return new Uint8Array([...SIG, verCmd, famTrans, n >> 8, n & 0xff, ...tail]);
}
const port = (p: number): number[] => [p >> 8, p & 0xff];
const join = concatBytes;
const header = (r: ProxyParse) => {
  if (r.kind !== 'header') throw new Error(`expected a header, got ${JSON.stringify(r)}`);
  return r;
};

const V2_TCP4_TLVS = v2(0x21, 0x11, [192, 0, 2, 7, 198, 51, 100, 1, ...port(56324), ...port(443)], [
  [0x01, ascii('h2')],
  [0x02, ascii('burrow.example.org')],
  [0x04, new Uint8Array(3)],
]);
const V6_SRC = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42];
const V6_DST = [...new Array<number>(15).fill(0), 1];
const V2_TCP6 = v2(0x21, 0x21, [...V6_SRC, ...V6_DST, ...port(1), ...port(65535)]);
const V2_LOCAL = v2(0x20, 0x00, []);

describe('PROXY v1', () => {
  it('parses TCP4 and says where the client bytes start', () => {
    const r = header(parseProxyHeader(ascii('PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n')));
    expect(r.length).toBe(45);
    expect(r.header).toEqual({
      version: 1,
      command: 'proxy',
      transport: 'tcp4',
      source: { address: '192.0.2.7', port: 56324 },
      destination: { address: '198.51.100.1', port: 443 },
      tlvs: [],
    });
  });

  it('parses TCP6 and writes the addresses in their canonical form', () => {
    const r = header(parseProxyHeader(ascii('PROXY TCP6 2001:DB8:0:0::0:42 ::ffff:127.0.0.9 0 65535\r\n')));
    expect(r.header.source).toEqual({ address: '2001:db8::42', port: 0 });
    expect(r.header.destination).toEqual({ address: '::ffff:127.0.0.9', port: 65535 });
    expect(header(parseProxyHeader(ascii('PROXY TCP6 1:0:0:2:0:0:0:3 :: 1 2\r\n'))).header.source?.address).toBe('1:0:0:2::3');
  });

  it('parses UNKNOWN, with or without addresses after it', () => {
    for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff:f:: ffff:f:: 1 2\r\n']) {
      const r = header(parseProxyHeader(ascii(line)));
      expect(r.header).toEqual({ version: 1, command: 'proxy', transport: 'unknown', tlvs: [] });
      expect(r.length).toBe(line.length);
    }
  });

  it('refuses malformed lines', () => {
    for (const line of [
      'PROXY TCP4 256.0.0.1 1.2.3.4 1 2\r\n',
      'PROXY TCP4 01.2.3.4 1.2.3.4 1 2\r\n',
      'PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n',
      'PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n',
      'PROXY TCP4 ::1 ::1 1 2\r\n',
      'PROXY TCP6 1.2.3.4 1.2.3.4 1 2\r\n',
      'PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n',
      'PROXY TCP6 1::2::3 ::1 1 2\r\n',
      'PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n',
      'PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n',
      'PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n',
      'PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n',
      'PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rX',
      'PROXY TCP4 1.2.3.4\t1.2.3.4 1 2\r\n',
    ]) {
      expect(parseProxyHeader(ascii(line)).kind, line).toBe('invalid');
    }
  });

  it('gives up at 107 bytes without a CRLF', () => {
    const long = ascii(`PROXY UNKNOWN ${'a'.repeat(200)}`);
    expect(parseProxyHeader(long.subarray(0, PROXY_V1_MAX_BYTES - 1)).kind).toBe('incomplete');
    expect(parseProxyHeader(long.subarray(0, PROXY_V1_MAX_BYTES))).toMatchObject({ kind: 'invalid', reason: 'v1 header longer than 107 bytes' });
    expect(parseProxyHeader(long).kind).toBe('invalid');
    // The longest legal line (CRLF at bytes 106-107) still parses.
    const longest = `PROXY UNKNOWN ${'b'.repeat(PROXY_V1_MAX_BYTES - 16)}\r\n`;
    expect(longest.length).toBe(PROXY_V1_MAX_BYTES);
    expect(header(parseProxyHeader(ascii(longest))).length).toBe(PROXY_V1_MAX_BYTES);
  });
});

describe('PROXY v2', () => {
  it('parses TCP over IPv4 with TLVs', () => {
    const r = header(parseProxyHeader(join(V2_TCP4_TLVS, ascii('please relay'))));
    expect(r.length).toBe(V2_TCP4_TLVS.length);
    expect(r.header).toMatchObject({
      version: 2,
      command: 'proxy',
      transport: 'tcp4',
      source: { address: '192.0.2.7', port: 56324 },
      destination: { address: '198.51.100.1', port: 443 },
    });
    expect(r.header.tlvs.map((t) => [t.type, new TextDecoder().decode(t.value)])).toEqual([
      [0x01, 'h2'],
      [0x02, 'burrow.example.org'],
      [0x04, '\0\0\0'],
    ]);
  });

  it('parses TCP over IPv6, UDP, LOCAL, UNSPEC and UNIX', () => {
    expect(header(parseProxyHeader(V2_TCP6)).header).toMatchObject({ transport: 'tcp6', source: { address: '2001:db8::42', port: 1 }, destination: { address: '::1', port: 65535 } });
    expect(header(parseProxyHeader(v2(0x21, 0x12, [127, 0, 0, 5, 127, 0, 0, 1, 0, 1, 0, 2]))).header.transport).toBe('udp4');
    // LOCAL (haproxy's own health checks): no client; whatever address block follows is skipped.
    expect(header(parseProxyHeader(V2_LOCAL)).header).toEqual({ version: 2, command: 'local', transport: 'unknown', tlvs: [] });
    expect(header(parseProxyHeader(v2(0x20, 0x11, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]))).header.source).toBeUndefined();
    expect(header(parseProxyHeader(v2(0x21, 0x00, []))).header).toMatchObject({ command: 'proxy', transport: 'unknown' });
    const unix = header(parseProxyHeader(v2(0x21, 0x31, new Array<number>(216).fill(0x61))));
    expect(unix.header).toMatchObject({ transport: 'unix' });
    expect(unix.header.source).toBeUndefined();
  });

  it('formats IPv4-mapped IPv6 sources as ::ffff:a.b.c.d', () => {
    const mapped = [...new Array<number>(10).fill(0), 0xff, 0xff, 127, 0, 0, 9];
    expect(header(parseProxyHeader(v2(0x21, 0x21, [...mapped, ...V6_DST, 0, 1, 0, 2]))).header.source?.address).toBe('::ffff:127.0.0.9');
  });

  it('refuses a wrong version, command or family, a short address block, a truncated TLV, an oversized header', () => {
    const a4 = [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2];
    const cases: [string, Uint8Array][] = [
      ['version 1', v2(0x11, 0x11, a4)],
      ['command 2', v2(0x22, 0x11, a4)],
      ['family 4', v2(0x21, 0x41, a4)],
      ['transport 3', v2(0x21, 0x13, a4)],
      ['short IPv4 block', v2(0x21, 0x11, a4.slice(0, 11))],
      ['short IPv6 block', v2(0x21, 0x21, a4)],
      ['truncated TLV header', v2(0x21, 0x11, [...a4, 0x01, 0x00])],
      ['truncated TLV value', v2(0x21, 0x11, [...a4, 0x01, 0x00, 0x05, 0x61])],
    ];
    for (const [what, bytes] of cases) expect(parseProxyHeader(bytes).kind, what).toBe('invalid');
    // The length field is checked before anything is buffered: 65,535 announced, 16 bytes here.
    expect(parseProxyHeader(v2(0x21, 0x11, [], [], 0xffff))).toMatchObject({ kind: 'invalid', reason: 'v2 header of 65551 bytes (at most 4096)' });
    expect(parseProxyHeader(v2(0x21, 0x11, [], [], 100), { maxV2Bytes: 64 }).kind).toBe('invalid');
  });
});

describe('any header, split at every byte boundary', () => {
  const headers: [string, Uint8Array][] = [
    ['v1 TCP4', ascii('PROXY TCP4 127.0.0.33 127.0.0.1 40000 4000\r\n')],
    ['v1 TCP6', ascii('PROXY TCP6 fe80::1 ::1 40000 4000\r\n')],
    ['v1 UNKNOWN', ascii('PROXY UNKNOWN\r\n')],
    ['v2 TCP4 + TLVs', V2_TCP4_TLVS],
    ['v2 TCP6', V2_TCP6],
    ['v2 LOCAL', V2_LOCAL],
  ];
  for (const [what, bytes] of headers) {
    it(what, () => {
      const stream = join(bytes, ascii('GET /v1 HTTP/1.1\r\n\r\n'));
      const whole = header(parseProxyHeader(stream));
      expect(whole.length).toBe(bytes.length);
      for (let k = 0; k <= stream.length; k++) {
        const r = parseProxyHeader(stream.subarray(0, k));
        if (k < bytes.length) expect(r.kind, `${k} bytes`).toBe('incomplete');
        else expect(r, `${k} bytes`).toEqual(whole);
      }
    });
  }
});

describe('not a PROXY header', () => {
  it('is absent as soon as a byte differs from both signatures', () => {
    for (const text of ['GET /v1 HTTP/1.1\r\n', 'please relay abc for side 1\n', 'PROXX', '\r\n\r\n\0\r\nQUIX', 'proxy TCP4']) {
      expect(parseProxyHeader(ascii(text)).kind, JSON.stringify(text)).toBe('absent');
    }
    expect(parseProxyHeader(new Uint8Array([0x16, 0x03, 0x01])).kind).toBe('absent'); // a TLS ClientHello
    expect(parseProxyHeader(new Uint8Array()).kind).toBe('incomplete');
    expect(parseProxyHeader(ascii('PROX')).kind).toBe('incomplete');
    expect(parseProxyHeader(new Uint8Array(SIG.slice(0, 7))).kind).toBe('incomplete');
  });

  it('garbage never throws, and a header that cannot end is given up within its bound', () => {
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const prefixes = [new Uint8Array(), ascii('PROXY '), ascii('PROXY TCP4 '), ascii('PROXY TCP6 '), new Uint8Array([...SIG, 0x21])];
    for (let i = 0; i < 5000; i++) {
      const prefix = prefixes[i % prefixes.length]!;
      const noise = new Uint8Array(next() % 300);
      for (let j = 0; j < noise.length; j++) noise[j] = i % 2 ? next() & 0xff : 0x20 + (next() % 0x5f);
      const bytes = join(prefix, noise);
      const r = parseProxyHeader(bytes);
      expect(['incomplete', 'absent', 'header', 'invalid']).toContain(r.kind);
      if (r.kind === 'header') expect(r.length).toBeLessThanOrEqual(bytes.length);
      // v1 never waits past 107 bytes; v2 never past its announced length (≤ 4096 here).
      if (r.kind === 'incomplete' && prefix.length > 0 && prefix[0] === 0x50) expect(bytes.length).toBeLessThan(PROXY_V1_MAX_BYTES);
    }
  });
});
