/**
 * The mailbox server's refusals and bounds: the error strings clients see
 * (Python's, plus ours for the bounds Python lacks) and the default limits.
 */

/** A refusal the client sees as `{type: "error", error: explain}`. */
export class MailboxRuleError extends Error {
  constructor(readonly explain: string) {
    super(explain);
    this.name = 'MailboxRuleError';
  }
}

/** The Python server's strings, for the errors that come from the rules. */
export const ERR_CROWDED = 'crowded';
export const ERR_RECLAIMED = 'reclaimed';
export const ERR_NO_FREE_NAMEPLATE = 'unable to find a free nameplate-id';
/** Ours: bounds the Python server does not have. */
export const ERR_SERVER_FULL = 'server is full, try again later';
export const ERR_ADDRESS_FULL = 'too many nameplates and mailboxes from your address';
export const ERR_MAILBOX_FULL = 'mailbox is full';

export interface RuleLimits {
  /** Nameplates alive at once, all apps together. */
  readonly maxNameplates: number;
  /** Mailboxes alive at once, all apps together. */
  readonly maxMailboxes: number;
  /** Nameplates + stand-alone mailboxes one client address may have created and still alive. */
  readonly maxAllocationsPerAddress: number;
  /** Messages one mailbox may hold. */
  readonly maxMessagesPerMailbox: number;
  /** Characters of phase + body one mailbox may hold. */
  readonly maxMailboxChars: number;
  /** Characters of phase + body all mailboxes together may hold. */
  readonly maxTotalChars: number;
}

export const DEFAULT_RULE_LIMITS: RuleLimits = {
  maxNameplates: 10_000,
  maxMailboxes: 20_000,
  maxAllocationsPerAddress: 1_000,
  maxMessagesPerMailbox: 1_000,
  maxMailboxChars: 8 << 20,
  maxTotalChars: 256 << 20,
};

export interface SessionLimits {
  /**
   * Largest inbound frame in bytes; a larger one is answered with an
   * `error` (clients then fail cleanly). Transports drop the connection for
   * frames over {@link HARD_FRAME_FACTOR} times this.
   */
  readonly maxFrameBytes: number;
  /** Longest appid, side, nameplate, mailbox id, phase or mood (characters). */
  readonly maxFieldChars: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxFrameBytes: 256 * 1024,
  maxFieldChars: 1024,
};

export type MailboxLimits = RuleLimits & SessionLimits;

/** Transports refuse (close 1009) frames over this many times `maxFrameBytes` without reading them whole. */
export const HARD_FRAME_FACTOR = 4;
