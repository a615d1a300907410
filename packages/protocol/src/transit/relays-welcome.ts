/**
 * Burrow's welcome extension: a gateway announces its transit relay in the
 * mailbox `welcome`, so peers meet at it without anyone passing a flag.
 *
 *   {"type": "welcome", "welcome": {"burrow-relays-v1":
 *     [{"tcp": "tcp:HOST:PORT", "websocket": ["ws://HOST:PORT/relay"]}]}}
 *
 * Python clients ignore unknown welcome keys.
 */

/** The welcome key under which a Burrow gateway lists its relays. */
export const RELAYS_WELCOME_KEY = 'burrow-relays-v1';
