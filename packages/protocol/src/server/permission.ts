/**
 * Mailbox permission on the server (magic-wormhole-mailbox-server's
 * `permission.py`), off unless a policy is given: each connection's welcome
 * carries `permission-required` with a fresh challenge, and every command
 * but `ping` is refused until a `submit-permissions` (or the singular
 * `submit-permission` magic-wormhole.rs sends) passes the policy's check.
 *
 * The policy is injected so this entry stays free of @noble (the hashcash
 * policy, which needs SHA-1, is `@burrow/protocol/hashcash`).
 */
import type { RandomSource } from '../logger.js';
import type { ClientFrame } from './frames.js';

/** The welcome key that asks for a permission. */
export const PERMISSION_WELCOME_KEY = 'permission-required';
/** The message type that answers it. */
export const SUBMIT_PERMISSIONS = 'submit-permissions';
/** The same, as magic-wormhole.rs spells it. */
export const SUBMIT_PERMISSION_SINGULAR = 'submit-permission';

/** The error for a command sent before the permission (clients without hashcash, e.g. `wormhole` 0.12, print it). */
export const ERR_PERMISSION_REQUIRED =
  'this mailbox server requires a permission before bind (hashcash proof of work, sent as submit-permissions); this client does not send one';

/** How a server grants permission. */
export interface PermissionPolicy {
  /**
   * A challenge for a new connection: `welcome` goes under
   * `permission-required`; `token` stays with the connection for the check.
   */
  offer(random: RandomSource): { readonly welcome: Readonly<Record<string, unknown>>; readonly token: string };
  /** Why `submission` does not answer the challenge `token`, or `undefined` to grant. */
  check(submission: ClientFrame, token: string, now: number): string | undefined;
}
