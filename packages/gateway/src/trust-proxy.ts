/**
 * Which peers may say who the client is (`--trust-proxy ADDR[/PREFIX]`), and
 * the client address an HTTP request was made for.
 *
 * Trust model: only a connection whose TCP peer is in the list may name
 * another address, by a PROXY protocol header (./proxy-connection.ts) or
 * by `X-Forwarded-For` on a WebSocket upgrade. Everyone else is charged to
 * the address the kernel reports; their `X-Forwarded-For` is ignored, and a
 * PROXY header from them is a protocol error (the HTTP parser or the relay
 * handshake refuses it and the connection is closed).
 */
import { BlockList, isIP } from 'node:net';

/** "::ffff:127.0.0.1" → "127.0.0.1"; other addresses as they are. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** The list of trusted proxies: addresses and networks (CIDR). */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly size: number;

  /** @throws TypeError naming the first entry that is not ADDR or ADDR/PREFIX. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(entry.trim());
      const address = m ? normaliseAddress(m[1]!.replace(/^\[(.*)\]$/, '$1')) : '';
      const family = isIP(address);
      const bits = m?.[2] === undefined ? (family === 4 ? 32 : 128) : Number(m[2]);
      if (!m || family === 0 || bits > (family === 4 ? 32 : 128)) {
        throw new TypeError(`trustProxy: ${JSON.stringify(entry.slice(0, 60))} is not an IP address or ADDR/PREFIX`);
      }
      this.#list.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
      // An IPv4 proxy may reach a dual-stack listener as ::ffff:a.b.c.d: normaliseAddress covers it.
    }
    this.size = entries.length;
  }

  /** Whether `address` (as a socket reports it) is a trusted proxy. */
  trusts(address: string | undefined): boolean {
    if (this.size === 0 || address === undefined) return false;
    const a = normaliseAddress(address);
    const family = isIP(a);
    return family !== 0 && this.#list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Longest X-Forwarded-For value read (all its headers joined); longer ones are ignored. */
const MAX_FORWARDED_FOR = 4096;

/**
 * The client address of a request whose connection is from `peer` (already
 * the PROXY header's source when there was one): if `peer` is trusted, the
 * right-most `X-Forwarded-For` entry that is not itself trusted (all trusted:
 * the left-most). A malformed entry stops the walk at the last trusted hop,
 * so a broken header never lets the client pick an address.
 */
export function forwardedFor(peer: string, header: string | readonly string[] | undefined, trust: TrustedProxies): string {
  if (header === undefined || !trust.trusts(peer)) return peer;
  const value = typeof header === 'string' ? header : header.join(',');
  if (value.length > MAX_FORWARDED_FOR) return peer;
  const hops = value.split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    // "[v6]:port" and "v4:port" (some proxies add the port) → the address.
    const hop = normaliseAddress(hops[i]!.trim().replace(/^\[(.*)\](?::\d+)?$|^([\d.]+):\d+$/, '$1$2'));
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!trust.trusts(hop)) return hop;
  }
  return client;
}
