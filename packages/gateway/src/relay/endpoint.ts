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
