/**
 * Mailbox transports: how frames reach the mailbox server. One small
 * contract, several implementations (./websocket.ts, ./webtransport.ts and
 * ./memory.ts), all checked by one compliance suite
 * (test/support/mailbox-transport-compliance.ts).
 *
 * The contract, as the wormhole relies on it:
 * - `open()` comes at most once, before any `frame()`; frames arrive in the
 *   order the server sent them; a binary frame arrives as bytes.
 * - `closed(error?)` comes exactly once, last: after `close()` (no error),
 *   after the server closed (an error unless it closed cleanly), or when the
 *   connection never opened (an error). Nothing is delivered after it.
 * - `send()` before `open()` or after `closed()` is dropped, never thrown.
 * - Opening never throws: failures go to `closed`.
 */

/** Callbacks a transport invokes. `closed` is called exactly once. */
export interface FrameHandlers {
  /** The connection is ready for `send`. */
  open(): void;
  /** One frame from the server: text, or bytes if the server misbehaved. */
  frame(data: string | Uint8Array): void;
  /** The connection ended (with the reason if it failed). */
  closed(error?: unknown): void;
}

export interface FrameConnection {
  send(frame: string): void;
  close(): void;
}

/** Opens one connection to `url`. Must not throw: failures go to `closed`. */
export type MailboxTransport = (url: string, handlers: FrameHandlers) => FrameConnection;

/**
 * The connection a transport returns when it could not even start (its
 * `closed` callback reports why): sending and closing have nothing to act on.
 */
export const NEVER_OPENED: FrameConnection = {
  send() {
    /* never opened: the frame has nowhere to go, and `closed` has been reported */
  },
  close() {
    /* never opened: nothing to close */
  },
};
