/**
 * How a transport (TCP, WebSocket, WebTransport) presents a connection to
 * the transit relay, and what it calls back: the relay never sees sockets.
 */

/** One client connection, as a transport presents it. */
export interface RelayEndpoint {
  /** 'tcp', 'ws', … (for logs and stats). */
  readonly kind: string;
  /** The client's address (for per-address limits and logs). */
  readonly address: string;
  /**
   * Queue bytes towards the client. `lent`: `data` is a view of the
   * sender's read buffer, reused as soon as the sender reads again. The
   * endpoint either copies it (or is done with it when `write` returns) and
   * returns false/nothing, or keeps it queued and returns true: the sender is then
   * paused until this endpoint's queue is empty (`drain`).
   */
  write(data: Uint8Array, lent?: boolean): boolean | void;
  /** Bytes queued towards the client and not yet handed to the network. */
  buffered(): number;
  /** Stop delivering data from the client (backpressure). */
  pause(): void;
  resume(): void;
  /** Flush what is queued, then close. */
  end(): void;
  /** Close now. */
  destroy(): void;
}

/** What a transport calls for an attached endpoint. */
export interface RelayEndpointEvents {
  /** Bytes from the client; `lent` as in {@link RelayEndpoint.write} (valid until this returns). */
  data(chunk: Uint8Array, lent?: boolean): void;
  /** The endpoint's queue fell to or below the low watermark after being above it. */
  drain(): void;
  /** The connection ended; call exactly once. */
  closed(): void;
}

/**
 * A half forwarded to the process that holds its token's other half: a
 * byte pipe to that process's relay, already carrying the client's
 * handshake line. The relay glues the client to it like to a buddy.
 */
export interface RelayLink {
  /** Start delivering the pipe's bytes to `events`; returns the pipe as an endpoint. */
  attach(events: RelayEndpointEvents): RelayEndpoint;
  /** Not needed after all (the half was paired here meanwhile, or left): close it. */
  abandon(): void;
}

/** Where a relay's tokens are paired across processes (./shared.ts: one Redis for a cluster). */
export interface RelayPairing {
  /**
   * A connection from `address` waits under `token` with no buddy here.
   * Resolves to nothing when this process is where the token pairs (it
   * keeps waiting here), or to a {@link RelayLink} to the process that is,
   * `hello` (the client's handshake line) already sent through it.
   */
  claim(token: string, address: string, hello: Uint8Array): Promise<RelayLink | undefined>;
  /** No connection waits under `token` here any more. */
  release(token: string): void;
}
