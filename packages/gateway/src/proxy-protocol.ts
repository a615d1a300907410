/**
 * The PROXY protocol (haproxy's `send-proxy` / `send-proxy-v2`), sans I/O:
 * a load balancer that relays a TCP connection puts one header in front of
 * the client's bytes saying whom the connection is really from.
 *
 *   v1 (text, at most 107 bytes):   PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n
 *   v2 (binary): \r\n\r\n\0\r\nQUIT\n, version/command, family/transport,
 *                a 16-bit length, the addresses, then TLVs (type, 16-bit length, value)
 *
 * {@link parseProxyHeader} looks at the bytes received so far and says:
 * `incomplete` (give it more), `absent` (these bytes do not start a PROXY
 * header), `header` (parsed; the client's own bytes start at `length`) or
 * `invalid` (a protocol error: close). It keeps no state: call it again on
 * the grown buffer. Both forms are bounded before they are buffered (v1 at
 * 107 bytes, v2 by its length field and `maxV2Bytes`).
 *
 * Spec: https://www.haproxy.org/download/2.6/doc/proxy-protocol.txt
 */

/** A v1 header is at most this long, CRLF included (spec §2.1). */
export const PROXY_V1_MAX_BYTES = 107;
/** Default bound for a whole v2 header (16-byte fixed part + addresses + TLVs). */
export const PROXY_V2_DEFAULT_MAX_BYTES = 4096;

const V1_PREFIX = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "
const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** One endpoint the proxy saw: an IP address in its usual text form and a port. */
export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
}

/** A v2 type-length-value extension (ALPN 0x01, authority 0x02, unique id 0x05, SSL 0x20 …), passed through raw. */
export interface ProxyTlv {
  readonly type: number;
  readonly value: Uint8Array;
}

/**
 * A parsed header. `command: 'local'` (v2 health checks) and transports
 * without addresses (`unknown`, `unix`) carry no `source`: use the
 * connection's own peer address.
 */
export interface ProxyHeader {
  readonly version: 1 | 2;
  readonly command: 'proxy' | 'local';
  readonly transport: 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'unix' | 'unknown';
  readonly source?: ProxyEndpoint;
  readonly destination?: ProxyEndpoint;
  readonly tlvs: readonly ProxyTlv[];
}

export type ProxyParse =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'header'; readonly header: ProxyHeader; readonly length: number }
  | { readonly kind: 'invalid'; readonly reason: string };

export interface ProxyParseOptions {
  /** Largest v2 header accepted, fixed part included (default {@link PROXY_V2_DEFAULT_MAX_BYTES}). */
  readonly maxV2Bytes?: number;
}

/**
 * Parse the PROXY header at the start of `bytes` (what has arrived so far).
 *
 * @example
 *   const r = parseProxyHeader(received);
 *   if (r.kind === 'header') clientAddress = r.header.source?.address ?? peerAddress;
 */
export function parseProxyHeader(bytes: Uint8Array, options: ProxyParseOptions = {}): ProxyParse {
  if (startsWith(bytes, V2_SIGNATURE)) {
    return bytes.length < V2_SIGNATURE.length ? { kind: 'incomplete' } : parseV2(bytes, options.maxV2Bytes ?? PROXY_V2_DEFAULT_MAX_BYTES);
  }
  if (startsWith(bytes, V1_PREFIX)) return bytes.length < V1_PREFIX.length ? { kind: 'incomplete' } : parseV1(bytes);
  return bytes.length === 0 ? { kind: 'incomplete' } : { kind: 'absent' };
}

/** Whether `bytes` and `prefix` agree on their common length. */
function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  const n = Math.min(bytes.length, prefix.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

const invalid = (reason: string): ProxyParse => ({ kind: 'invalid', reason });

function parseV1(bytes: Uint8Array): ProxyParse {
  let end = -1;
  const limit = Math.min(bytes.length, PROXY_V1_MAX_BYTES);
  for (let i = V1_PREFIX.length; i < limit; i++) {
    const b = bytes[i]!;
    if (b === 0x0d) {
      if (i + 1 >= bytes.length) return bytes.length >= PROXY_V1_MAX_BYTES ? invalid('v1 header longer than 107 bytes') : { kind: 'incomplete' };
      if (bytes[i + 1] !== 0x0a) return invalid('v1 header: CR not followed by LF');
      end = i;
      break;
    }
    if (b === 0x0a) return invalid('v1 header: LF without CR');
    if (b < 0x20 || b > 0x7e) return invalid('v1 header: not printable ASCII');
  }
  if (end < 0) return bytes.length >= PROXY_V1_MAX_BYTES ? invalid('v1 header longer than 107 bytes') : { kind: 'incomplete' };
  let line = '';
  for (let i = 0; i < end; i++) line += String.fromCharCode(bytes[i]!);
  const parts = line.split(' ');
  const length = end + 2;
  if (parts[1] === 'UNKNOWN') return { kind: 'header', header: { version: 1, command: 'proxy', transport: 'unknown', tlvs: [] }, length };
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) return invalid('v1 header: expected TCP4, TCP6 or UNKNOWN with two addresses and two ports');
  const v6 = parts[1] === 'TCP6';
  const src = v6 ? ipv6Text(parts[2]!) : ipv4Text(parts[2]!);
  const dst = v6 ? ipv6Text(parts[3]!) : ipv4Text(parts[3]!);
  const sport = portText(parts[4]!);
  const dport = portText(parts[5]!);
  if (src === undefined || dst === undefined) return invalid(`v1 header: bad ${v6 ? 'IPv6' : 'IPv4'} address`);
  if (sport === undefined || dport === undefined) return invalid('v1 header: bad port');
  return {
    kind: 'header',
    header: { version: 1, command: 'proxy', transport: v6 ? 'tcp6' : 'tcp4', source: { address: src, port: sport }, destination: { address: dst, port: dport }, tlvs: [] },
    length,
  };
}

function parseV2(bytes: Uint8Array, maxBytes: number): ProxyParse {
  if (bytes.length < 16) return { kind: 'incomplete' };
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return invalid(`v2 header: version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`v2 header: command ${command}`);
  const familyTransport = bytes[13]!;
  const family = familyTransport >> 4;
  const transport = familyTransport & 0x0f;
  if (family > 3 || transport > 2) return invalid(`v2 header: family/transport 0x${familyTransport.toString(16)}`);
  const length = 16 + ((bytes[14]! << 8) | bytes[15]!);
  if (length > maxBytes) return invalid(`v2 header of ${length} bytes (at most ${maxBytes})`);
  if (bytes.length < length) return { kind: 'incomplete' };
  if (command === 0) return { kind: 'header', header: { version: 2, command: 'local', transport: 'unknown', tlvs: [] }, length };
  // Address block sizes (spec §2.2): INET 12, INET6 36, UNIX 216 bytes.
  const need = [0, 12, 36, 216][family]!;
  if (length - 16 < need) return invalid(`v2 header: ${length - 16} bytes for a ${need}-byte address block`);
  const tlvs = parseTlvs(bytes.subarray(16 + need, length));
  if (!tlvs) return invalid('v2 header: truncated TLV');
  if (family === 0 || transport === 0) return { kind: 'header', header: { version: 2, command: 'proxy', transport: 'unknown', tlvs }, length };
  if (family === 3) return { kind: 'header', header: { version: 2, command: 'proxy', transport: 'unix', tlvs }, length };
  const size = family === 1 ? 4 : 16;
  const format = family === 1 ? ipv4Bytes : ipv6Bytes;
  const at = 16;
  const port = (i: number): number => (bytes[i]! << 8) | bytes[i + 1]!;
  const header: ProxyHeader = {
    version: 2,
    command: 'proxy',
    transport: `${transport === 1 ? 'tcp' : 'udp'}${family === 1 ? '4' : '6'}`,
    source: { address: format(bytes.subarray(at, at + size)), port: port(at + 2 * size) },
    destination: { address: format(bytes.subarray(at + size, at + 2 * size)), port: port(at + 2 * size + 2) },
    tlvs,
  };
  return { kind: 'header', header, length };
}

function parseTlvs(block: Uint8Array): ProxyTlv[] | undefined {
  const out: ProxyTlv[] = [];
  let i = 0;
  while (i < block.length) {
    if (i + 3 > block.length) return undefined;
    const n = (block[i + 1]! << 8) | block[i + 2]!;
    if (i + 3 + n > block.length) return undefined;
    out.push({ type: block[i]!, value: block.slice(i + 3, i + 3 + n) });
    i += 3 + n;
  }
  return out;
}

function portText(s: string): number | undefined {
  if (!/^(0|[1-9]\d{0,4})$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 65535 ? n : undefined;
}

/** A dotted quad without leading zeros, or undefined. */
function ipv4Text(s: string): string | undefined {
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(s);
  return m && m.slice(1).every((o) => Number(o) <= 255) ? s : undefined;
}

function ipv4Bytes(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** An IPv6 address in text (with `::`, an embedded IPv4 tail) re-formatted canonically, or undefined. */
function ipv6Text(s: string): string | undefined {
  if (s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let text = s;
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const quad = ipv4Text(v4[1]!)?.split('.').map(Number);
    if (!quad) return undefined;
    text = `${text.slice(0, v4.index + 1)}${((quad[0]! << 8) | quad[1]!).toString(16)}:${((quad[2]! << 8) | quad[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (text.includes('.') || halves.length > 2) return undefined;
  // Each group 1-4 hex digits (NaN otherwise).
  const groups = (h: string): number[] => (h === '' ? [] : h.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if ([...head, ...tail].some(Number.isNaN)) return undefined;
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return ipv6Bytes(bytes);
}

/** RFC 5952 text: lowercase, the longest run (≥ 2) of zero groups as `::`, IPv4-mapped as ::ffff:a.b.c.d. */
function ipv6Bytes(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${ipv4Bytes(b.subarray(12))}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
