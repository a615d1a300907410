/**
 * Mailbox permission, the client's side of the wire: a server that wants
 * proof of work before `bind` puts `permission-required` in its welcome,
 * one entry per method it accepts (`{"none": {}, "hashcash": {"bits": 20,
 * "resource": "…"}}`); the client answers with
 * `{"type": "submit-permissions", "method": "hashcash", "stamp": "…"}`
 * before it binds. (magic-wormhole.rs spells the type `submit-permission`;
 * servers accept both.)
 */
import { isJsonObject } from './json.js';
import { MAX_HASHCASH_BITS, type HashcashChallenge } from './hashcash.js';
import type { Welcome } from './messages.js';
import { PERMISSION_WELCOME_KEY, SUBMIT_PERMISSIONS } from './server/permission.js';

export { PERMISSION_WELCOME_KEY, SUBMIT_PERMISSIONS, SUBMIT_PERMISSION_SINGULAR } from './server/permission.js';

/** What a welcome asks of us before `bind`. */
export type PermissionAsk =
  | { readonly type: 'none' }
  | { readonly type: 'hashcash'; readonly challenge: HashcashChallenge }
  /** Only methods we cannot do (named, at most 8). */
  | { readonly type: 'unsupported'; readonly methods: readonly string[] };

/**
 * Read `permission-required` from a welcome: hashcash if offered (and
 * sane), else nothing to do if `none` is offered or the key is absent,
 * else the methods we do not know.
 */
export function permissionAsk(welcome: Welcome): PermissionAsk {
  const asked = welcome[PERMISSION_WELCOME_KEY];
  if (!isJsonObject(asked)) return { type: 'none' };
  const hashcash = asked['hashcash'];
  if (isJsonObject(hashcash)) {
    const { bits, resource } = hashcash;
    if (typeof resource === 'string' && resource.length <= 256 && !resource.includes(':') && Number.isInteger(bits) && (bits as number) >= 0 && (bits as number) <= MAX_HASHCASH_BITS) {
      return { type: 'hashcash', challenge: { resource, bits: bits as number } };
    }
  }
  if ('none' in asked) return { type: 'none' };
  return { type: 'unsupported', methods: Object.keys(asked).slice(0, 8).map((m) => m.slice(0, 64)) };
}

/** The `submit-permissions` frame carrying a hashcash stamp, with message id `id`. */
export function encodeSubmitPermission(stamp: string, id: string): string {
  return JSON.stringify({ type: SUBMIT_PERMISSIONS, method: 'hashcash', stamp, id });
}
