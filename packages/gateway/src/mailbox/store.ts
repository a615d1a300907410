/**
 * Where the mailbox server's state lives between restarts.
 *
 * The server keeps its working state in memory (the sans-I/O core in
 * `@burrow/protocol/server`) and hands the store every change, in order, in
 * batches (`commit`). Nothing a batch caused — an echoed `message`, a
 * `claimed`, an `allocated` — reaches a client before the store has said the
 * batch is saved (see ./outbox.ts): what a client saw acknowledged survives
 * a crash. At start it `load`s what the store holds.
 *
 * Shipped: memory (tests, and a restart inside one process) and SQLite
 * ({@link SqliteMailboxStore}, the `--data-dir` default).
 */
import type { StoreChange, StoredMailbox, StoredMailboxHeader, StoredMessage, StoredNameplate, StoredState } from '@burrow/protocol/server';

export interface MailboxStore {
  /** Everything stored, to rebuild the server. Called once, before any `commit`. */
  load(): Promise<StoredState>;
  /**
   * Save `changes` (everything changed since the last commit, in order).
   * Calls never overlap: the next comes after this one settled. Return
   * (or resolve) once the changes are durable; throw (or reject) if they are
   * not saved at all — the server then hands the same changes again, with
   * later ones appended, in its next commit, so a failed commit must leave
   * nothing of itself behind (one transaction).
   */
  commit(changes: readonly StoreChange[]): void | Promise<void>;
  /**
   * True when `commit` is synchronous and costs next to nothing (memory):
   * each frame's changes are committed as they happen and its frames sent
   * at once, instead of batched per event-loop turn.
   */
  readonly inline?: boolean;
  /** Release resources (called after the last commit settled). */
  close(): Promise<void>;
}

const key = (app: string, id: string): string => `${app}\u0000${id}`;

/**
 * The records a store holds, kept up to date from changes: the memory
 * store is only this (and tests use it to say what a store must hold).
 */
export class StoreMirror {
  readonly #nameplates = new Map<string, StoredNameplate>();
  readonly #mailboxes = new Map<string, { header: StoredMailboxHeader; messages: StoredMessage[] }>();

  constructor(initial?: StoredState) {
    if (initial) this.reset(initial);
  }

  reset(state: StoredState): void {
    this.#nameplates.clear();
    this.#mailboxes.clear();
    for (const np of state.nameplates) this.#nameplates.set(key(np.app, np.name), np);
    for (const mb of state.mailboxes) {
      const { messages, ...header } = mb;
      this.#mailboxes.set(key(mb.app, mb.id), { header, messages: [...messages] });
    }
  }

  apply(change: StoreChange): void {
    switch (change.type) {
      case 'nameplate':
        this.#nameplates.set(key(change.nameplate.app, change.nameplate.name), change.nameplate);
        return;
      case 'nameplate-removed':
        this.#nameplates.delete(key(change.app, change.name));
        return;
      case 'mailbox': {
        const k = key(change.mailbox.app, change.mailbox.id);
        const existing = this.#mailboxes.get(k);
        if (existing) existing.header = change.mailbox;
        else this.#mailboxes.set(k, { header: change.mailbox, messages: [] });
        return;
      }
      case 'message':
        // A message for a mailbox we do not know means the mailbox record
        // was lost; drop it rather than invent a header.
        this.#mailboxes.get(key(change.app, change.mailbox))?.messages.push(change.message);
        return;
      case 'mailbox-removed':
        this.#mailboxes.delete(key(change.app, change.id));
        return;
    }
  }

  get size(): { nameplates: number; mailboxes: number } {
    return { nameplates: this.#nameplates.size, mailboxes: this.#mailboxes.size };
  }

  snapshot(): StoredState {
    const mailboxes: StoredMailbox[] = [];
    for (const { header, messages } of this.#mailboxes.values()) mailboxes.push({ ...header, messages: [...messages] });
    return { nameplates: [...this.#nameplates.values()], mailboxes };
  }
}

/**
 * Keeps the state in memory. Hand the same instance to a new server (e.g.
 * after `gateway.close()`) and it picks up where the old one stopped.
 */
export class MemoryMailboxStore implements MailboxStore {
  readonly #mirror = new StoreMirror();
  readonly inline = true;

  async load(): Promise<StoredState> {
    return this.#mirror.snapshot();
  }

  commit(changes: readonly StoreChange[]): void {
    for (const change of changes) this.#mirror.apply(change);
  }

  async close(): Promise<void> {
    /* memory has nothing to release */
  }

  /** What is stored now (for tests and health checks). */
  snapshot(): StoredState {
    return this.#mirror.snapshot();
  }
}
