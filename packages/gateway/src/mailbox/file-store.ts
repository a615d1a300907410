/**
 * A {@link MailboxStore} in a directory: a JSON snapshot plus a journal of
 * changes since, one JSON line each.
 *
 *   DIR/mailbox-state.json        {"format":"burrow-mailbox/1","generation":N,"state":{…}}
 *   DIR/mailbox-journal-N.jsonl   changes made after snapshot N
 *
 * Changes are appended in batches (one write per tick). When the journal
 * grows past `compactAfterBytes`, and at every load and close, the state is
 * compacted into snapshot N+1: written to a temporary file, fsynced and
 * renamed over the old one, so a crash at any point leaves either the old
 * snapshot and its journal or the new snapshot (and an empty or partial
 * new journal). A torn last journal line is ignored on load.
 *
 * Journal appends are not fsynced one by one: a crash of the process loses
 * nothing the kernel has, a power loss may lose the last moments.
 */
import { bestEffort } from '@burrow/protocol';
import { mkdir, open, readFile, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@burrow/protocol';
import { EMPTY_STATE, type StoreChange, type StoredState } from '@burrow/protocol/server';
import { StoreMirror, type MailboxStore } from './store.js';

const FORMAT = 'burrow-mailbox/1';
const SNAPSHOT = 'mailbox-state.json';
const journalName = (generation: number): string => `mailbox-journal-${generation}.jsonl`;
const JOURNAL_RE = /^mailbox-journal-(\d+)\.jsonl$/;

export interface JsonFileMailboxStoreOptions {
  /** Directory for the snapshot and journal (created if missing). */
  readonly dir: string;
  /** Compact once the journal is this large (default 4 MiB). */
  readonly compactAfterBytes?: number;
  readonly logger?: Logger;
}

interface Snapshot {
  format: string;
  generation: number;
  state: StoredState;
}

export class JsonFileMailboxStore implements MailboxStore {
  readonly #dir: string;
  readonly #compactAfter: number;
  readonly #logger: Logger | undefined;
  readonly #mirror = new StoreMirror();
  #generation = 0;
  #journal: FileHandle | undefined;
  #journalBytes = 0;
  #pending: string[] = [];
  #scheduled = false;
  /** Every file operation runs in order on this chain. */
  #chain: Promise<void> = Promise.resolve();
  #failure: unknown;
  #loaded = false;
  #closed = false;

  constructor(options: JsonFileMailboxStoreOptions) {
    if (typeof options?.dir !== 'string' || options.dir === '') throw new TypeError('options.dir must be a directory path');
    this.#dir = options.dir;
    this.#compactAfter = options.compactAfterBytes ?? 4 << 20;
    this.#logger = options.logger;
  }

  async load(): Promise<StoredState> {
    if (this.#loaded) throw new Error('JsonFileMailboxStore: load() may be called once');
    this.#loaded = true;
    await mkdir(this.#dir, { recursive: true });
    const snapshot = await this.#readSnapshot();
    this.#generation = snapshot.generation;
    this.#mirror.reset(snapshot.state);
    const replayed = await this.#replay(snapshot.generation);
    if (replayed > 0) this.#logger?.info?.('mailbox-store.replayed', { changes: replayed });
    // Start every run from a fresh snapshot and an empty journal (nothing
    // else is on the chain yet; a failure here fails the load).
    await this.#compact();
    await this.#removeStaleJournals();
    return this.#mirror.snapshot();
  }

  write(changes: readonly StoreChange[]): void {
    if (this.#closed || changes.length === 0) return;
    for (const change of changes) {
      this.#mirror.apply(change);
      this.#pending.push(`${JSON.stringify(change)}\n`);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        void this.#run(() => this.#append());
      });
    }
  }

  async flush(): Promise<void> {
    await this.#run(() => this.#append());
    if (this.#failure !== undefined) throw this.#failure;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush().catch(bestEffort); // a failed flush was logged when it failed
    this.#closed = true;
    await this.#run(async () => {
      await this.#compact();
      await this.#journal?.close();
      this.#journal = undefined;
    });
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Run `step` after everything queued before it; failures are kept, logged, and do not stop the chain. */
  #run(step: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(step).catch((err: unknown) => {
      this.#failure ??= err;
      this.#logger?.warn?.('mailbox-store.failed', { error: String(err) });
    });
    this.#chain = next;
    return next;
  }

  async #append(): Promise<void> {
    if (this.#pending.length === 0 || !this.#journal) return;
    const text = this.#pending.join('');
    this.#pending = [];
    await this.#journal.write(text);
    this.#journalBytes += Buffer.byteLength(text);
    if (this.#journalBytes >= this.#compactAfter) await this.#compact();
  }

  /**
   * Snapshot the mirror as generation N+1 and start journal N+1. The
   * snapshot is taken synchronously, so it covers exactly the changes
   * written so far; anything still pending is in it and dropped from the
   * queue, and anything written later goes to the new journal.
   */
  async #compact(): Promise<void> {
    const generation = this.#generation + 1;
    const snapshot: Snapshot = { format: FORMAT, generation, state: this.#mirror.snapshot() };
    this.#pending = [];
    const oldJournal = this.#journal;
    const oldGeneration = this.#generation;
    this.#journal = undefined;
    const tmp = join(this.#dir, `${SNAPSHOT}.tmp`);
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(JSON.stringify(snapshot));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, join(this.#dir, SNAPSHOT));
    await this.#syncDir();
    this.#generation = generation;
    this.#journal = await open(join(this.#dir, journalName(generation)), 'a', 0o600);
    this.#journalBytes = 0;
    await oldJournal?.close();
    await unlink(join(this.#dir, journalName(oldGeneration))).catch(bestEffort);
  }

  async #syncDir(): Promise<void> {
    try {
      const dir = await open(this.#dir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // Not every platform can fsync a directory; the rename is still atomic.
    }
  }

  async #readSnapshot(): Promise<Snapshot> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, SNAPSHOT), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { format: FORMAT, generation: 0, state: EMPTY_STATE };
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<Snapshot>;
    if (parsed.format !== FORMAT || typeof parsed.generation !== 'number' || typeof parsed.state !== 'object') {
      throw new Error(`${join(this.#dir, SNAPSHOT)} is not a ${FORMAT} snapshot`);
    }
    const state = parsed.state as StoredState;
    return {
      format: FORMAT,
      generation: parsed.generation,
      state: { nameplates: state.nameplates ?? [], mailboxes: state.mailboxes ?? [] },
    };
  }

  /** Apply journal `generation` to the mirror; returns how many changes it held. */
  async #replay(generation: number): Promise<number> {
    let text: string;
    try {
      text = await readFile(join(this.#dir, journalName(generation)), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let count = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let change: StoreChange;
      try {
        change = JSON.parse(line) as StoreChange;
      } catch {
        // A torn write at the end of the journal: everything before it counts.
        this.#logger?.warn?.('mailbox-store.torn-journal', { afterChanges: count });
        break;
      }
      this.#mirror.apply(change);
      count++;
    }
    return count;
  }

  async #removeStaleJournals(): Promise<void> {
    for (const name of await readdir(this.#dir)) {
      const m = JOURNAL_RE.exec(name);
      if (m && Number(m[1]) !== this.#generation) await unlink(join(this.#dir, name)).catch(bestEffort);
    }
  }
}
