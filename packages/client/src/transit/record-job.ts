/** What the record pool sends its Workers, and what comes back. */
export interface RecordJob {
  readonly id: number;
  readonly op: 'seal' | 'open';
  readonly key: Uint8Array;
  /** The record's counter (its nonce). */
  readonly index: number;
  /** seal: the plaintext; open: `mac ‖ ciphertext`. Owned by the job (transferred). */
  readonly data: Uint8Array;
}

export interface RecordJobResult {
  readonly id: number;
  /** seal: the wire frame; open: the plaintext, or null when it did not authenticate. */
  readonly out: Uint8Array | null;
}
