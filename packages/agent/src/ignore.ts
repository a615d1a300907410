/**
 * The agent's decisions to ignore a rejection, named so each call site says
 * which one it makes (`.catch(bestEffort)`), instead of a bare `() => {}`.
 * `bestEffort` and `observed` are the SDK-wide ones from protocol.
 */
export { bestEffort, observed } from '@burrow/protocol';

/** Noting `lastSeenAt` is informational: a store that fails to write it must not fail the session. */
export function informational(): void {
  /* the session stands without it */
}
