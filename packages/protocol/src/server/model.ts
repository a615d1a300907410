/**
 * What the mailbox server keeps, as plain data: the records a
 * {@link MailboxStore} persists and the changes it is told about.
 *
 * The shapes follow the Debian server's tables (wormhole_mailbox_server
 * `db-schemas`): a nameplate points at one mailbox and remembers which sides
 * claimed it; a mailbox remembers which sides opened it (and their mood once
 * closed) and the messages added to it, in arrival order. Everything is
 * scoped by appid.
 */

/** One side's claim on a nameplate. `claimed` turns false on release. */
export interface StoredNameplateSide {
  readonly side: string;
  readonly claimed: boolean;
  /** When the side first claimed, ms since the epoch. */
  readonly added: number;
}

export interface StoredNameplate {
  readonly app: string;
  /** The nameplate id ("4" in "4-purple-sausages"). */
  readonly name: string;
  /** The mailbox id it points at. */
  readonly mailbox: string;
  readonly sides: readonly StoredNameplateSide[];
}

/** One side's use of a mailbox. `open` turns false on close; `mood` is set then. */
export interface StoredMailboxSide {
  readonly side: string;
  readonly open: boolean;
  readonly mood: string | null;
  readonly added: number;
}

/** One `add`, as echoed to subscribers (`message` frames). */
export interface StoredMessage {
  readonly side: string;
  readonly phase: string;
  /** Hex, opaque to the server. */
  readonly body: string;
  /** Server receive time, ms since the epoch. */
  readonly serverRx: number;
  /** The client's message id, echoed back (null if absent or not a string). */
  readonly id: string | null;
}

export interface StoredMailboxHeader {
  readonly app: string;
  readonly id: string;
  /** Created by a nameplate claim (vs. an `open` of an unknown id). */
  readonly forNameplate: boolean;
  readonly sides: readonly StoredMailboxSide[];
}

export interface StoredMailbox extends StoredMailboxHeader {
  readonly messages: readonly StoredMessage[];
}

/** Everything a store holds: enough to rebuild the server after a restart. */
export interface StoredState {
  readonly nameplates: readonly StoredNameplate[];
  readonly mailboxes: readonly StoredMailbox[];
}

/**
 * One change, in the order the server made it. Records are written whole
 * (they are small); messages are appended. Applying a change twice is
 * harmless except for `message`, which stores replay by position.
 */
export type StoreChange =
  | { readonly type: 'nameplate'; readonly nameplate: StoredNameplate }
  | { readonly type: 'nameplate-removed'; readonly app: string; readonly name: string }
  | { readonly type: 'mailbox'; readonly mailbox: StoredMailboxHeader }
  | { readonly type: 'message'; readonly app: string; readonly mailbox: string; readonly message: StoredMessage }
  | { readonly type: 'mailbox-removed'; readonly app: string; readonly id: string };

export const EMPTY_STATE: StoredState = { nameplates: [], mailboxes: [] };
