/** One client connection's state in the mailbox server: Python's per-WebSocket attributes (server_websocket.py). */

export type ConnId = number;

export interface Conn {
  readonly id: ConnId;
  readonly address: string;
  /** The permission challenge still unanswered (undefined once granted, or when none is required). */
  permission: string | undefined;
  app: string | undefined;
  side: string | undefined;
  didAllocate: boolean;
  didClaim: boolean;
  nameplate: string | undefined;
  didRelease: boolean;
  /** Python's `_mailbox`: set by a successful open, cleared by close. */
  open: boolean;
  /** Python's `_mailbox_id`: the last mailbox named by open (or close). */
  mailboxId: string | undefined;
  listening: boolean;
  didClose: boolean;
}

/** A connection just welcomed; `permission` is its unanswered challenge, if the server asks for one. */
export function newConn(id: ConnId, address: string, permission: string | undefined): Conn {
  return {
    id,
    address,
    permission,
    app: undefined,
    side: undefined,
    didAllocate: false,
    didClaim: false,
    nameplate: undefined,
    didRelease: false,
    open: false,
    mailboxId: undefined,
    listening: false,
    didClose: false,
  };
}
