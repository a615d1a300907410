/**
 * Transit connection hints (`hints-v1`) and abilities (`abilities-v1`), the
 * body of the `transit` message both peers send through the wormhole
 * (`wormhole/_hints.py`, `transit.py`).
 *
 *   {"abilities-v1": [{"type": "direct-tcp-v1"}, {"type": "relay-v1"}, …],
 *    "hints-v1": [
 *      {"type": "direct-tcp-v1", "priority": 0.0, "hostname": "10.0.0.2", "port": 4242},
 *      {"type": "relay-v1", "hints": [{"type": "direct-tcp-v1", "priority": 0.0,
 *                                      "hostname": "relay.example", "port": 4001}]},
 *      {"type": "relay-v2", "name": null, "hints": [
 *         {"type": "tcp", "hostname": "relay.example", "port": 4001},
 *         {"type": "websocket", "url": "wss://relay.example/relay"}]}]}
 *
 * `relay-v2` is magic-wormhole.rs's shape for a relay reachable over TCP
 * and/or WebSocket. Python 0.12 logs and ignores hint types it does not know,
 * so it only ever uses the `relay-v1` clause; magic-wormhole.rs and Burrow
 * read both and merge them. A WebSocket endpoint is never put inside
 * `relay-v1`: magic-wormhole.rs parses every entry there as a TCP hint and
 * would reject the whole message.
 *
 * Parsing is strict about shapes and sizes but never throws on what a peer
 * sent: unknown or malformed hints are dropped, as Python does.
 */

/** A TCP endpoint: a peer's listening socket, or one way to reach a relay. */
export interface TcpHint {
  readonly hostname: string;
  readonly port: number;
  /** Python sends it and ignores it when connecting directly; relays are tried by descending priority. */
  readonly priority: number;
}

/** One relay server and the ways to reach it (any one is enough). */
export interface RelayHint {
  readonly name?: string;
  readonly tcp: readonly TcpHint[];
  /** `ws://` or `wss://` URLs of the relay's WebSocket side. */
  readonly websocket: readonly string[];
  /**
   * `https://` URLs of the relay's WebTransport side (a Burrow gateway's
   * HTTP/3 `/relay`). Ours only: never sent to the peer (no peer format
   * has it), who reaches the same relay by TCP or WebSocket.
   */
  readonly webtransport?: readonly string[];
}

/** A parsed or to-be-sent `transit` message body. */
export interface TransitHints {
  /** Ability types (`direct-tcp-v1`, `relay-v1`, `relay-v2`, and any unknown ones as sent). */
  readonly abilities: readonly string[];
  /** Direct TCP endpoints of the peer. */
  readonly direct: readonly TcpHint[];
  /** Relays the peer proposes (merged with our own when connecting). */
  readonly relays: readonly RelayHint[];
}

/** What Burrow advertises: Python's two plus magic-wormhole.rs's `relay-v2`. */
export const TRANSIT_ABILITIES: readonly string[] = ['direct-tcp-v1', 'relay-v1', 'relay-v2'];

/** Bounds on what we accept from a peer. */
export const MAX_HINTS = 64;
export const MAX_RELAY_ENDPOINTS = 16;
export const MAX_ABILITIES = 32;
const MAX_HOSTNAME = 253;
const MAX_URL = 2048;

const HOSTNAME_RE = /^[^\s/?#@\u0000-\u001f\u007f]+$/;
const HTTPS_URL_RE = /^https:\/\/[^\s/?#@\u0000-\u001f\u007f]+(?:[/?#][^\s\u0000-\u001f\u007f]*)?$/i;
const WS_URL_RE = /^wss?:\/\/[^\s/?#@\u0000-\u001f\u007f]+(?:[/?#][^\s\u0000-\u001f\u007f]*)?$/i;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validate a hostname: non-empty, bounded, no whitespace or URL syntax. IPv6 may be bracketed or bare. */
function validHostname(h: unknown): h is string {
  return typeof h === 'string' && h.length > 0 && h.length <= MAX_HOSTNAME && HOSTNAME_RE.test(h);
}

function validPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;
}

function priorityOf(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Python's `parse_tcp_v1_hint` for one dict; `tor-tcp-v1` and unknown types give undefined. */
function parseTcpHint(h: unknown, types: readonly string[]): TcpHint | undefined {
  if (!isObject(h) || !types.includes(h['type'] as string)) return undefined;
  if (!validHostname(h['hostname']) || !validPort(h['port'])) return undefined;
  return { hostname: h['hostname'], port: h['port'], priority: priorityOf(h['priority']) };
}

function parseRelay(h: Record<string, unknown>, innerTcpTypes: readonly string[]): RelayHint | undefined {
  const inner = Array.isArray(h['hints']) ? h['hints'].slice(0, MAX_RELAY_ENDPOINTS) : [];
  const tcp: TcpHint[] = [];
  const websocket: string[] = [];
  for (const e of inner) {
    const t = parseTcpHint(e, innerTcpTypes);
    if (t) {
      tcp.push(t);
      continue;
    }
    if (isObject(e) && (e['type'] === 'websocket' || e['type'] === 'websocket-v1')) {
      const url = e['url'];
      if (typeof url === 'string' && url.length <= MAX_URL && WS_URL_RE.test(url)) websocket.push(url);
    }
  }
  if (tcp.length === 0 && websocket.length === 0) return undefined;
  const name = h['name'];
  return typeof name === 'string' && name.length <= 256 ? { name, tcp, websocket } : { tcp, websocket };
}

/**
 * Parse the body of a peer's `transit` message. Anything malformed or unknown
 * is skipped; the result may be empty but this never throws.
 *
 * @example
 * const theirs = parseTransitHints(msg['transit']);
 * theirs.direct; // [{ hostname: '127.0.0.1', port: 40123, priority: 0 }]
 */
export function parseTransitHints(body: unknown): TransitHints {
  if (!isObject(body)) return { abilities: [], direct: [], relays: [] };
  const abilities: string[] = [];
  const rawAbilities = body['abilities-v1'];
  if (Array.isArray(rawAbilities)) {
    for (const a of rawAbilities.slice(0, MAX_ABILITIES)) {
      if (isObject(a) && typeof a['type'] === 'string' && a['type'].length <= 64 && !abilities.includes(a['type'])) {
        abilities.push(a['type']);
      }
    }
  }
  const direct: TcpHint[] = [];
  const relays: RelayHint[] = [];
  const rawHints = body['hints-v1'];
  if (Array.isArray(rawHints)) {
    for (const h of rawHints.slice(0, MAX_HINTS)) {
      if (!isObject(h)) continue;
      switch (h['type']) {
        case 'direct-tcp-v1': {
          const d = parseTcpHint(h, ['direct-tcp-v1']);
          if (d) direct.push(d);
          break;
        }
        case 'relay-v1': {
          const r = parseRelay(h, ['direct-tcp-v1']);
          if (r) relays.push(r);
          break;
        }
        case 'relay-v2': {
          const r = parseRelay(h, ['tcp', 'direct-tcp-v1']);
          if (r) relays.push(r);
          break;
        }
        default:
        // tor-tcp-v1 and anything newer: ignored, like Python does.
      }
    }
  }
  return { abilities, direct: dedupeTcp(direct), relays: mergeRelays(relays) };
}

const tcpKey = (h: { hostname: string; port: number }): string => `${h.hostname.toLowerCase()}:${h.port}`;

function dedupeTcp(list: readonly TcpHint[]): TcpHint[] {
  const seen = new Set<string>();
  return list.filter((h) => {
    const k = tcpKey(h);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Merge relay hints that share an endpoint (the same relay announced as both
 * `relay-v1` and `relay-v2`), as magic-wormhole.rs does.
 */
export function mergeRelays(relays: readonly RelayHint[]): RelayHint[] {
  const out: { name?: string; tcp: TcpHint[]; websocket: string[]; webtransport?: string[] }[] = [];
  for (const r of relays) {
    const match = out.find(
      (o) =>
        o.tcp.some((t) => r.tcp.some((u) => tcpKey(t) === tcpKey(u))) ||
        o.websocket.some((w) => r.websocket.includes(w)) ||
        (o.webtransport ?? []).some((w) => (r.webtransport ?? []).includes(w)),
    );
    if (match) {
      match.tcp = dedupeTcp([...match.tcp, ...r.tcp]);
      match.websocket = [...new Set([...match.websocket, ...r.websocket])];
      if (match.webtransport || r.webtransport) match.webtransport = [...new Set([...(match.webtransport ?? []), ...(r.webtransport ?? [])])];
      if (match.name === undefined && r.name !== undefined) match.name = r.name;
    } else {
      out.push({
        ...(r.name !== undefined ? { name: r.name } : {}),
        tcp: dedupeTcp(r.tcp),
        websocket: [...new Set(r.websocket)],
        ...(r.webtransport ? { webtransport: [...new Set(r.webtransport)] } : {}),
      });
    }
  }
  return out;
}

/**
 * Build the body of our `transit` message. Each relay is sent twice: as
 * `relay-v1` with its TCP endpoints (for Python), and as `relay-v2` with all
 * endpoints including WebSocket ones (for magic-wormhole.rs and Burrow).
 *
 * @example
 * sendAppMessage(w, { transit: encodeTransitHints({ abilities: TRANSIT_ABILITIES, direct, relays }) });
 */
export function encodeTransitHints(hints: TransitHints): Record<string, unknown> {
  const out: Record<string, unknown>[] = [];
  for (const d of hints.direct) {
    out.push({ type: 'direct-tcp-v1', priority: d.priority, hostname: d.hostname, port: d.port });
  }
  for (const r of hints.relays) {
    // A relay we reach only over WebTransport has nothing a peer could use.
    if (r.tcp.length === 0 && r.websocket.length === 0) continue;
    if (r.tcp.length > 0) {
      out.push({
        type: 'relay-v1',
        hints: r.tcp.map((t) => ({ type: 'direct-tcp-v1', priority: t.priority, hostname: t.hostname, port: t.port })),
      });
    }
    out.push({
      type: 'relay-v2',
      name: r.name ?? null,
      hints: [
        ...r.tcp.map((t) => ({ type: 'tcp', hostname: t.hostname, port: t.port })),
        ...r.websocket.map((url) => ({ type: 'websocket', url })),
      ],
    });
  }
  return { 'abilities-v1': hints.abilities.map((type) => ({ type })), 'hints-v1': out };
}

/**
 * Parse a relay given by the user: `tcp:HOST:PORT` (the CLI's
 * `--transit-helper` form, optionally `:priority=N`), `tcp://HOST:PORT`, a
 * `ws://`/`wss://` URL, or an `https://` URL (a relay's WebTransport side). Throws a TypeError naming the problem.
 *
 * @example
 * parseRelayLocation('tcp:127.0.0.1:4001'); // { tcp: [{ hostname: '127.0.0.1', port: 4001, priority: 0 }], websocket: [] }
 */
export function parseRelayLocation(location: string): RelayHint {
  if (typeof location !== 'string') throw new TypeError('relay location must be a string');
  if (/^wss?:\/\//i.test(location)) {
    if (location.length > MAX_URL || !WS_URL_RE.test(location)) throw new TypeError(`malformed WebSocket relay URL '${location}'`);
    return { tcp: [], websocket: [location] };
  }
  if (/^https:\/\//i.test(location)) {
    if (location.length > MAX_URL || !HTTPS_URL_RE.test(location)) throw new TypeError(`malformed WebTransport relay URL '${location}'`);
    return { tcp: [], websocket: [], webtransport: [location] };
  }
  let m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/i.exec(location);
  let priority = 0;
  if (!m) {
    m = /^tcp:(\[[^\]]+\]|[^:]+):(\d+)((?::[^:]*)*)$/.exec(location);
    if (m?.[3]) {
      for (const extra of m[3].split(':').slice(1)) {
        if (extra.startsWith('priority=')) {
          const p = Number(extra.slice('priority='.length));
          if (!Number.isFinite(p)) throw new TypeError(`non-numeric priority in relay '${location}'`);
          priority = p;
        }
      }
    }
  }
  if (!m) throw new TypeError(`relay must be tcp:HOST:PORT, tcp://HOST:PORT, a ws(s):// or an https:// URL, got '${location}'`);
  const hostname = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  if (!validHostname(hostname) || !validPort(port)) throw new TypeError(`bad host or port in relay '${location}'`);
  return { tcp: [{ hostname, port, priority }], websocket: [] };
}
