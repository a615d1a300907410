/**
 * ICE servers in the welcome (`burrow-ice-v1`): STUN as configured, TURN
 * with a credential minted for each connection with coturn's shared-secret
 * scheme (see `turnCredential` in @burrow/protocol/server), so pages never
 * hold a long-term TURN password.
 */
import { ICE_WELCOME_KEY, turnCredential } from '@burrow/protocol/turn';

export interface TurnOptions {
  readonly urls: readonly string[];
  /** coturn's `static-auth-secret` (with `use-auth-secret`). */
  readonly secret: string;
  /** Lifetime of each credential (default 600 s). */
  readonly ttlSeconds?: number;
}

/** The welcome keys for one connection, made at `now` (ms). */
export function iceWelcome(stun: readonly string[] | undefined, turn: TurnOptions | undefined): (now: number) => Record<string, unknown> {
  return (now) => {
    const servers: Record<string, unknown>[] = stun?.length ? [{ urls: [...stun] }] : [];
    if (turn) {
      const { username, credential } = turnCredential(turn.secret, now, turn.ttlSeconds ?? 600);
      servers.push({ urls: [...turn.urls], username, credential });
    }
    return { [ICE_WELCOME_KEY]: servers };
  };
}
