/**
 * Short-lived TURN credentials, coturn's shared-secret REST scheme
 * (`use-auth-secret` + `static-auth-secret`): the username is
 * `EXPIRY:LABEL` (EXPIRY in seconds since the epoch) and the password is
 * base64(HMAC-SHA1(secret, username)). coturn checks both and refuses the
 * credential after EXPIRY, so no long-term TURN password is ever handed to
 * a page. Sans I/O: the caller passes the time.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { toBase64, utf8 } from '../bytes.js';

/** The welcome key under which the gateway announces ICE servers (STUN, TURN) to Burrow clients. */
export const ICE_WELCOME_KEY = 'burrow-ice-v1';

export interface TurnCredential {
  readonly username: string;
  readonly credential: string;
  /** When it stops working, ms since the epoch. */
  readonly expires: number;
}

/**
 * Mint a credential valid for `ttlSeconds` from `nowMs`.
 *
 * @example
 *   turnCredential('s3cret', Date.now(), 600, 'burrow')
 *   // → { username: '1764750600:burrow', credential: 'q0…=', expires: 1764750600000 }
 */
export function turnCredential(secret: string, nowMs: number, ttlSeconds: number, label = 'burrow'): TurnCredential {
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiry}:${label}`;
  const mac = hmac(sha1, utf8(secret), utf8(username));
  return { username, credential: toBase64(mac), expires: expiry * 1000 };
}
