/**
 * ICE servers announced in the mailbox welcome (`burrow-ice-v1`, the
 * gateway's `stunUrls`/`turn` options): STUN, and TURN with a short-lived
 * credential minted for this connection. `w.connect()` uses them for WebRTC
 * when the app passes no ICE servers of its own, as Transit uses the relays
 * the welcome announces (relaysFromWelcome).
 */
import { isJsonObject } from '@burrow/protocol';
import { ICE_WELCOME_KEY } from '@burrow/protocol/turn';

export { ICE_WELCOME_KEY };

const MAX_SERVERS = 8;
const MAX_URLS = 8;
const MAX_CHARS = 512;

const short = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_CHARS;

/**
 * The welcome's ICE servers, checked and bounded: entries with `urls` (one
 * or a list of `stun:`/`turn:`/`turns:` URLs) and, for TURN, string
 * `username`/`credential`. Anything else is skipped, never thrown on.
 */
export function iceServersFromWelcome(welcome: Readonly<Record<string, unknown>>): RTCIceServer[] {
  const list = welcome[ICE_WELCOME_KEY];
  if (!Array.isArray(list)) return [];
  const out: RTCIceServer[] = [];
  for (const entry of list.slice(0, MAX_SERVERS)) {
    if (!isJsonObject(entry)) continue;
    const raw = entry['urls'];
    const urls = (Array.isArray(raw) ? raw : [raw]).slice(0, MAX_URLS).filter((u): u is string => short(u) && /^(stun|turns?):/i.test(u));
    if (urls.length === 0) continue;
    const { username, credential } = entry;
    const turn = urls.some((u) => /^turns?:/i.test(u));
    if (turn && !(short(username) && short(credential))) continue;
    out.push({ urls, ...(turn ? { username: username as string, credential: credential as string } : {}) });
  }
  return out;
}
