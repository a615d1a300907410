/**
 * A {@link MailboxStore} in SQLite (better-sqlite3): `DIR/mailbox.sqlite`
 * in WAL mode, one transaction per commit — the outbox batches every frame
 * of one event-loop turn into one commit.
 *
 * Durability: a commit returns once SQLite has written the transaction to
 * the WAL. With `synchronous: 'normal'` (the default) that is a write(2)
 * into the kernel: it survives the process being killed at any instant,
 * and a power loss or kernel crash may lose the last commits (the database
 * itself stays consistent). With `'full'` every commit is also fsynced —
 * durable across power loss, at the cost of one fsync per batch.
 *
 * A failed commit (disk full, read-only, I/O error) is rolled back whole
 * and thrown; the outbox reports it and commits the same changes again.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '@burrow/protocol';
import type { StoreChange, StoredMailbox, StoredMailboxSide, StoredMessage, StoredNameplate, StoredNameplateSide, StoredState } from '@burrow/protocol/server';
import type { MailboxStore } from './store.js';

/** The schema this code writes (PRAGMA user_version). */
const SCHEMA_VERSION = 1;
export const SQLITE_FILE = 'mailbox.sqlite';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS nameplates (
  app TEXT NOT NULL, name TEXT NOT NULL, mailbox TEXT NOT NULL, sides TEXT NOT NULL,
  PRIMARY KEY (app, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mailboxes (
  app TEXT NOT NULL, id TEXT NOT NULL, for_nameplate INTEGER NOT NULL, sides TEXT NOT NULL,
  PRIMARY KEY (app, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY, app TEXT NOT NULL, mailbox TEXT NOT NULL,
  side TEXT NOT NULL, phase TEXT NOT NULL, body TEXT NOT NULL, server_rx REAL NOT NULL, msg_id TEXT);
CREATE INDEX IF NOT EXISTS messages_by_mailbox ON messages (app, mailbox, seq);
`;

export interface SqliteMailboxStoreOptions {
  /** Directory for mailbox.sqlite and its WAL (created if missing). */
  readonly dir: string;
  /** `normal` (default): survives a process crash; `full`: also a power loss (fsync per commit). */
  readonly synchronous?: 'normal' | 'full';
  readonly logger?: Logger;
}

interface Row {
  readonly [column: string]: string | number | null;
}

export class SqliteMailboxStore implements MailboxStore {
  readonly #options: SqliteMailboxStoreOptions;
  #db: Database.Database | undefined;
  #apply: ((changes: readonly StoreChange[]) => void) | undefined;

  constructor(options: SqliteMailboxStoreOptions) {
    if (typeof options?.dir !== 'string' || options.dir === '') throw new TypeError('options.dir must be a directory path');
    this.#options = options;
  }

  /** The database file. */
  get path(): string {
    return join(this.#options.dir, SQLITE_FILE);
  }

  async load(): Promise<StoredState> {
    if (this.#db) throw new Error('SqliteMailboxStore: load() may be called once');
    mkdirSync(this.#options.dir, { recursive: true });
    const started = Date.now();
    const db = new Database(this.path);
    try {
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version !== 0 && version !== SCHEMA_VERSION) throw new Error(`${this.path}: schema version ${version}, this gateway reads ${SCHEMA_VERSION}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.#options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('busy_timeout = 5000');
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      const state = readState(db);
      this.#apply = prepareApply(db);
      this.#db = db;
      this.#options.logger?.info?.('mailbox-store.opened', {
        engine: 'sqlite',
        synchronous: this.#options.synchronous ?? 'normal',
        nameplates: state.nameplates.length,
        mailboxes: state.mailboxes.length,
        ms: Date.now() - started,
      });
      return state;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  commit(changes: readonly StoreChange[]): void {
    if (!this.#apply) throw new Error('SqliteMailboxStore: not loaded (or closed)');
    this.#apply(changes);
  }

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    this.#apply = undefined;
    db?.close();
  }
}

/** Everything in the database, as the stored model (messages in arrival order). */
function readState(db: Database.Database): StoredState {
  const nameplates: StoredNameplate[] = (db.prepare('SELECT app, name, mailbox, sides FROM nameplates').all() as Row[]).map((r) => ({
    app: String(r['app']),
    name: String(r['name']),
    mailbox: String(r['mailbox']),
    sides: JSON.parse(String(r['sides'])) as StoredNameplateSide[],
  }));
  const byKey = new Map<string, StoredMailbox & { messages: StoredMessage[] }>();
  for (const r of db.prepare('SELECT app, id, for_nameplate, sides FROM mailboxes').all() as Row[]) {
    const mailbox = {
      app: String(r['app']),
      id: String(r['id']),
      forNameplate: r['for_nameplate'] === 1,
      sides: JSON.parse(String(r['sides'])) as StoredMailboxSide[],
      messages: [] as StoredMessage[],
    };
    byKey.set(`${mailbox.app}\u0000${mailbox.id}`, mailbox);
  }
  for (const r of db.prepare('SELECT app, mailbox, side, phase, body, server_rx, msg_id FROM messages ORDER BY seq').iterate() as IterableIterator<Row>) {
    byKey.get(`${String(r['app'])}\u0000${String(r['mailbox'])}`)?.messages.push({
      side: String(r['side']),
      phase: String(r['phase']),
      body: String(r['body']),
      serverRx: Number(r['server_rx']),
      id: r['msg_id'] === null ? null : String(r['msg_id']),
    });
  }
  return { nameplates, mailboxes: [...byKey.values()] };
}

/** One transaction that applies a batch of changes (rolled back whole if any statement fails). */
function prepareApply(db: Database.Database): (changes: readonly StoreChange[]) => void {
  const putNameplate = db.prepare('INSERT OR REPLACE INTO nameplates (app, name, mailbox, sides) VALUES (?, ?, ?, ?)');
  const dropNameplate = db.prepare('DELETE FROM nameplates WHERE app = ? AND name = ?');
  const putMailbox = db.prepare('INSERT OR REPLACE INTO mailboxes (app, id, for_nameplate, sides) VALUES (?, ?, ?, ?)');
  const dropMailbox = db.prepare('DELETE FROM mailboxes WHERE app = ? AND id = ?');
  const dropMessages = db.prepare('DELETE FROM messages WHERE app = ? AND mailbox = ?');
  // A message for a mailbox the store does not hold is dropped (as the memory store does).
  const addMessage = db.prepare(
    'INSERT INTO messages (app, mailbox, side, phase, body, server_rx, msg_id) SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM mailboxes WHERE app = ? AND id = ?)',
  );
  return db.transaction((changes: readonly StoreChange[]) => {
    for (const c of changes) {
      switch (c.type) {
        case 'nameplate':
          putNameplate.run(c.nameplate.app, c.nameplate.name, c.nameplate.mailbox, JSON.stringify(c.nameplate.sides));
          break;
        case 'nameplate-removed':
          dropNameplate.run(c.app, c.name);
          break;
        case 'mailbox':
          putMailbox.run(c.mailbox.app, c.mailbox.id, c.mailbox.forNameplate ? 1 : 0, JSON.stringify(c.mailbox.sides));
          break;
        case 'mailbox-removed':
          dropMailbox.run(c.app, c.id);
          dropMessages.run(c.app, c.id);
          break;
        case 'message': {
          const m = c.message;
          addMessage.run(c.app, c.mailbox, m.side, m.phase, m.body, m.serverRx, m.id, c.app, c.mailbox);
          break;
        }
      }
    }
  });
}
