/**
 * `wormhole-transfer:` URIs, as magic-wormhole.rs defines them:
 * `wormhole-transfer:<url-encoded code>?version=0&rendezvous=<mailbox url>&role=leader|follower`.
 * A link or QR code that carries one lets the receiver skip typing the code.
 */
import { WormholeError } from './errors.js';
import { parseCode } from './codes.js';

export interface WormholeUri {
  readonly code: string;
  /** The mailbox server, when it is not the application's default. */
  readonly rendezvous?: string;
  /** `leader` means the scanner should act as the sender; the default is follower (receiver). */
  readonly role: 'leader' | 'follower';
}

const SCHEME = 'wormhole-transfer:';
const MAX_URI_LENGTH = 2048;

// A query string by hand: the protocol package uses no platform globals
// (URLSearchParams is a DOM/Node API, not ECMAScript).
const enc = (v: string) => encodeURIComponent(v);

function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decodeURIComponent((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
    const value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}

export function formatWormholeUri(uri: WormholeUri): string {
  const params: string[] = [];
  if (uri.rendezvous !== undefined) params.push(`rendezvous=${enc(uri.rendezvous)}`);
  if (uri.role === 'leader') params.push('role=leader');
  const query = params.join('&');
  return `${SCHEME}${encodeURIComponent(parseCode(uri.code).code)}${query ? `?${query}` : ''}`;
}

/** Parse a `wormhole-transfer:` URI. Throws WormholeError('InvalidCode') on anything else. */
export function parseWormholeUri(text: string): WormholeUri {
  const fail = (why: string) => new WormholeError('InvalidCode', `not a wormhole-transfer link: ${why}`);
  if (typeof text !== 'string' || text.length > MAX_URI_LENGTH) throw fail('too long');
  if (!text.toLowerCase().startsWith(SCHEME)) throw fail(`it must start with ${SCHEME}`);
  const rest = text.slice(SCHEME.length);
  if (rest.startsWith('//')) throw fail('it must not have a host');
  const q = rest.indexOf('?');
  const rawCode = q < 0 ? rest : rest.slice(0, q);
  let params: Map<string, string>;
  try {
    params = parseQuery(q < 0 ? '' : rest.slice(q + 1));
  } catch {
    throw fail('the query is not URL-encoded');
  }
  const version = params.get('version') ?? '0';
  if (version !== '0') throw fail(`unsupported version ${version.slice(0, 10)}`);
  const role = params.get('role') ?? 'follower';
  if (role !== 'leader' && role !== 'follower') throw fail('role must be leader or follower');
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawCode);
  } catch {
    throw fail('the code is not URL-encoded');
  }
  const { code } = parseCode(decoded);
  const rendezvous = params.get('rendezvous');
  return rendezvous === undefined ? { code, role } : { code, role, rendezvous };
}
