/**
 * Leveled, structured logging. Libraries never print on their own: callers
 * inject a Logger (the CLI and the gateway write JSON lines), and every field
 * is data, never a code, key or token.
 */
export interface Logger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  info?(message: string, fields?: Record<string, unknown>): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
  error?(message: string, fields?: Record<string, unknown>): void;
}

/**
 * A source of cryptographically strong random bytes. Protocol code never
 * draws randomness of its own; adapters pass one in (browsers and Node:
 * `crypto.getRandomValues`; tests: a seeded source).
 */
export type RandomSource = (length: number) => Uint8Array;
