/**
 * One error type for the whole SDK. `code` is stable and documented; `message`
 * is for people; `blame` says who broke the contract.
 */

/** Stable error codes. Documented in docs-site/api/errors.md. */
export type WormholeErrorCode =
  /** The peer used a different code: the first peer message did not decrypt. */
  | 'WrongPassword'
  /** The peer closed the wormhole with mood "lonely" or left before the key was agreed. */
  | 'Lonely'
  /** The peer closed the wormhole before we were done. */
  | 'PeerClosed'
  /** The mailbox server answered with an `error` message. */
  | 'ServerError'
  /** The server's welcome carried an `error` (e.g. this client version is refused). */
  | 'Welcome'
  /** A third side tried to use the nameplate or mailbox. */
  | 'Crowded'
  /** The peer sent something the protocol does not allow. */
  | 'RemoteProtocol'
  /** The mailbox server sent something the protocol does not allow. */
  | 'ServerProtocol'
  /** A wait exceeded its bound. */
  | 'Timeout'
  /** The caller aborted through an AbortSignal. */
  | 'Aborted'
  /** The wormhole was closed (by the caller or after an error) before the operation finished. */
  | 'Closed'
  /** The code does not have the form `<nameplate>-<word>[-<word>…]`. */
  | 'InvalidCode'
  /** The API was used in a way it does not allow (e.g. setting the code twice). */
  | 'Usage'
  /** The mailbox server could not be reached, or the connection failed for good. */
  | 'Connection'
  /** The peer rejected what we offered (file refused, transfer error). */
  | 'Rejected'
  /** Transfer-level failures: hash mismatch, truncated data. */
  | 'TransferFailed'
  /** Connection signalling or the channel failed authentication after the key was confirmed (someone in the middle). */
  | 'Tampered'
  /** The peer aborted a stream (RESET) or stopped reading it (STOP); the message carries its reason. */
  | 'StreamReset'
  /** The local agent's policy refused it: an origin, a Host header or a forwarding destination that is not allowed. */
  | 'NotAllowed'
  /** The local agent has no pairing for this key, or one side could not prove the pairing secret. */
  | 'Unpaired'
  /** The pairing was revoked: refused from then on, and open connections are dropped. */
  | 'Revoked';

/** Who caused the error: the remote peer, the server, the caller, or the local environment. */
export type Blame = 'peer' | 'server' | 'caller' | 'local';

const DEFAULT_BLAME: Record<WormholeErrorCode, Blame> = {
  WrongPassword: 'peer',
  Lonely: 'peer',
  PeerClosed: 'peer',
  ServerError: 'server',
  Welcome: 'server',
  Crowded: 'server',
  RemoteProtocol: 'peer',
  ServerProtocol: 'server',
  Timeout: 'local',
  Aborted: 'caller',
  Closed: 'caller',
  InvalidCode: 'caller',
  Usage: 'caller',
  Connection: 'local',
  Rejected: 'peer',
  TransferFailed: 'peer',
  Tampered: 'peer',
  StreamReset: 'peer',
  NotAllowed: 'caller',
  Unpaired: 'caller',
  Revoked: 'peer',
};

export interface WormholeErrorOptions {
  cause?: unknown;
  blame?: Blame;
}

export class WormholeError extends Error {
  override readonly name = 'WormholeError';
  readonly code: WormholeErrorCode;
  readonly blame: Blame;

  constructor(code: WormholeErrorCode, message: string, options: WormholeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.blame = options.blame ?? DEFAULT_BLAME[code];
  }
}

/** Type guard that also narrows on code. */
export function isWormholeError(err: unknown, code?: WormholeErrorCode): err is WormholeError {
  return err instanceof WormholeError && (code === undefined || err.code === code);
}
