/**
 * Where the mailbox server's state lives between restarts.
 *
 * The server keeps its working state in memory and tells the store every
 * change, in order, as it happens (`write` never blocks the server). At start
 * it `load`s what the store holds. Two implementations ship: memory (for
 * tests, and to survive a restart inside one process) and a JSON journal on
 * disk ({@link JsonFileMailboxStore}). A shared store for several gateway
 * processes would implement the same contract.
 */
import type { StoreChange, StoredMailbox, StoredMailboxHeader, StoredMessage, StoredNameplate, StoredState } from '@burrow/protocol/server';

export interface MailboxStore {
  /** Everything stored, to rebuild the server. Called once, before any `write`. */
  load(): Promise<StoredState>;
  /**
   * Record changes, in order. Must not throw and must not block: a store
   * that persists asynchronously queues them and reports failures through
   * `flush` (and its logger).
   */
  write(changes: readonly StoreChange[]): void;
  /** Resolves once everything written so far is durable. */
  flush(): Promise<void>;
  /** Flush and release resources. */
  close(): Promise<void>;
}

const key = (app: string, id: string): string => `${app}\u0000${id}`;

/**
 * The records a store holds, kept up to date from changes. Both shipped
 * stores use it: the memory store is only this, the file store writes it out
 * as its snapshot.
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

  async load(): Promise<StoredState> {
    return this.#mirror.snapshot();
  }

  write(changes: readonly StoreChange[]): void {
    for (const change of changes) this.#mirror.apply(change);
  }

  async flush(): Promise<void> {
    /* memory has nothing to flush */
  }

  async close(): Promise<void> {
    /* memory has nothing to release */
  }

  /** What is stored now (for tests and health checks). */
  snapshot(): StoredState {
    return this.#mirror.snapshot();
  }
}
