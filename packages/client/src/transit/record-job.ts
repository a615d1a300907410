/** What the record pool sends its Workers, and what comes back. */
export interface RecordJob {
  readonly id: number;
  readonly op: 'seal' | 'open';
  readonly key: Uint8Array;
  /** The counter (nonce) of the first record; the others follow it. */
  readonly index: number;
  /** Consecutive records. seal: plaintexts; open: `mac ‖ ciphertext`s. Owned by the job (transferred). */
  readonly items: readonly Uint8Array[];
}

export interface RecordJobResult {
  readonly id: number;
  /** Per item. seal: the wire frame; open: the plaintext, or null when it did not authenticate. */
  readonly out: readonly (Uint8Array | null)[];
}

/**
 * What a hashing Worker (worker-hasher.ts) is sent: `start` (answered with
 * `started`, proving the script runs), batches of bytes in order (owned by
 * the message), then `digest` (answered with the hex SHA-256 of them all).
 */
export type HashRequest = { readonly hash: 'start' } | { readonly hash: 'update'; readonly data: Uint8Array } | { readonly hash: 'digest' };

export type HashReply = { readonly hash: 'started' } | { readonly hash: 'digest'; readonly hex: string };
