/**
 * The mailbox server's refusals and bounds: the error strings clients see
 * (Python's, plus ours for the bounds Python lacks) and the default limits.
 */

/** A refusal the client sees as `{type: "error", error: explain}`. */
export class MailboxRuleError extends Error {
  /**
   * @param explain what the client is told
   * @param limit for refusals by a bound: which one (`allocations.address`,
   *   `stored.prefix`, `nameplates.total` …), for logs and metrics
   */
  constructor(
    readonly explain: string,
    readonly limit?: string,
  ) {
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
export const ERR_PREFIX_FULL = 'too many nameplates and mailboxes from your network';
export const ERR_ADDRESS_STORED = 'too much stored from your address, try again later';
export const ERR_PREFIX_STORED = 'too much stored from your network, try again later';
export const ERR_MAILBOX_FULL = 'mailbox is full';

export interface RuleLimits {
  /** Nameplates alive at once, all apps together. */
  readonly maxNameplates: number;
  /** Mailboxes alive at once, all apps together. */
  readonly maxMailboxes: number;
  /** Nameplates + stand-alone mailboxes one client address may have created and still alive. */
  readonly maxAllocationsPerAddress: number;
  /** The same, for all addresses of one prefix together (IPv4 /24, IPv6 /48; see addressScopes). */
  readonly maxAllocationsPerPrefix: number;
  /** Messages one mailbox may hold. */
  readonly maxMessagesPerMailbox: number;
  /** Characters of phase + body one mailbox may hold. */
  readonly maxMailboxChars: number;
  /** Characters of phase + body all mailboxes together may hold. */
  readonly maxTotalChars: number;
  /** Characters one client address (IPv6: /64) may have stored in live mailboxes. */
  readonly maxCharsPerAddress: number;
  /** The same, for one prefix (IPv4 /24, IPv6 /48). */
  readonly maxCharsPerPrefix: number;
  /**
   * A nameplate only one side claimed, whose mailbox nobody is subscribed to,
   * expires this long after it was last touched (an allocation abandoned by
   * its connection). Infinity: only the general expiry applies.
   */
  readonly unclaimedExpiryMs: number;
  /** Mailboxes (and their nameplates) expire this long after creation, subscribed or not. Infinity: never. */
  readonly maxMailboxAgeMs: number;
}

export const DEFAULT_RULE_LIMITS: RuleLimits = {
  maxNameplates: 10_000,
  maxMailboxes: 20_000,
  maxAllocationsPerAddress: 1_000,
  maxAllocationsPerPrefix: Number.POSITIVE_INFINITY,
  maxMessagesPerMailbox: 1_000,
  maxMailboxChars: 8 << 20,
  maxTotalChars: 256 << 20,
  maxCharsPerAddress: Number.POSITIVE_INFINITY,
  maxCharsPerPrefix: Number.POSITIVE_INFINITY,
  unclaimedExpiryMs: Number.POSITIVE_INFINITY,
  maxMailboxAgeMs: Number.POSITIVE_INFINITY,
};

/**
 * Bounds for a server on the internet (the gateway's defaults): fair shares
 * per address and per prefix, abandoned allocations gone within minutes,
 * no mailbox older than a day. {@link DEFAULT_RULE_LIMITS} keeps the Python
 * server's behaviour for in-process use.
 */
export const INTERNET_RULE_LIMITS: RuleLimits = {
  ...DEFAULT_RULE_LIMITS,
  maxAllocationsPerAddress: 100,
  maxAllocationsPerPrefix: 400,
  maxCharsPerAddress: 16 << 20,
  maxCharsPerPrefix: 48 << 20,
  unclaimedExpiryMs: 2 * 60_000,
  maxMailboxAgeMs: 24 * 60 * 60_000,
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
