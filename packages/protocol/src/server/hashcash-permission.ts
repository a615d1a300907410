/**
 * The hashcash permission policy (`@burrow/protocol/hashcash`), as the
 * Python mailbox server's `HashcashPermission`: a fresh random resource per
 * connection (8 random bytes, base64), a stamp with at least `bits` zero
 * bits over it. Because the resource is new for every connection and the
 * connection is granted once, a stamp cannot be spent twice: the only
 * memory is one short string per connection. The stamp's date must be
 * within a couple of days of the server's clock.
 */
import { toBase64 } from '../bytes.js';
import { MAX_HASHCASH_BITS, stampProblem } from '../hashcash.js';
import { get } from './frames.js';
import type { PermissionPolicy } from './permission.js';

/** Python's default difficulty (about a million SHA-1s; a second or so in a browser). */
export const DEFAULT_HASHCASH_BITS = 20;

/**
 * A {@link PermissionPolicy} asking for `bits` of hashcash.
 *
 * @example
 *   new MailboxCore({ random, now, permission: hashcashPermission(20) })
 */
export function hashcashPermission(bits = DEFAULT_HASHCASH_BITS): PermissionPolicy {
  if (!Number.isInteger(bits) || bits < 1 || bits > MAX_HASHCASH_BITS) throw new RangeError(`bits must be an integer from 1 to ${MAX_HASHCASH_BITS}`);
  return {
    offer(random) {
      const resource = toBase64(random(8));
      return { welcome: { hashcash: { bits, resource } }, token: resource };
    },
    check(submission, resource, now) {
      if (get(submission, 'method') !== 'hashcash') return "unsupported permission method (this server takes 'hashcash')";
      return stampProblem(get(submission, 'stamp'), { resource, bits, now });
    },
  };
}

export { PERMISSION_WELCOME_KEY, SUBMIT_PERMISSIONS, SUBMIT_PERMISSION_SINGULAR, type PermissionPolicy } from './permission.js';
