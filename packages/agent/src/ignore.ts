/**
 * The agent's decisions to ignore a rejection, named so each call site says
 * which one it makes (`.catch(bestEffort)`), instead of a bare `() => {}`.
 */

/**
 * Tearing down a stream, socket or wormhole that may already be closed or
 * failed: its failure is reported where it matters (the session's `closed`,
 * the call's own error), not by the teardown.
 */
export function bestEffort(): void {
  /* teardown of something that may already be gone: nothing more to report */
}

/** The promise is also returned to (or awaited by) a caller; this only keeps an early rejection from being unhandled. */
export function observed(): void {
  /* the caller sees the rejection through the promise it holds */
}

/** Noting `lastSeenAt` is informational: a store that fails to write it must not fail the session. */
export function informational(): void {
  /* the session stands without it */
}
