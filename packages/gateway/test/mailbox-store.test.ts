// Mailbox stores: the compliance suite against memory and SQLite, SQLite's
// own promises (its file, its schema check, WAL), and a core restored from
// what a store holds.
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { MailboxCore, type MailboxCoreOptions } from '@burrow/protocol/server';
import { APPID, errors, mailboxHarness, rejoinRestored } from '@burrow/testkit';
import { MemoryMailboxStore, SqliteMailboxStore, SQLITE_FILE } from '../src/index.js';
import { mailboxStoreCompliance, sampleChanges } from './support/mailbox-store-compliance.js';

const harness = (options: Partial<MailboxCoreOptions> = {}) => mailboxHarness((base) => new MailboxCore({ ...base, ...options }));

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-store-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

mailboxStoreCompliance('memory', () => {
  const store = new MemoryMailboxStore();
  return { open: () => store, survivesCrash: true };
});

mailboxStoreCompliance('SQLite', () => {
  const dir = tempDir();
  return { open: () => new SqliteMailboxStore({ dir }), survivesCrash: true };
});

mailboxStoreCompliance('SQLite, synchronous=full', () => {
  const dir = tempDir();
  return { open: () => new SqliteMailboxStore({ dir, synchronous: 'full' }), survivesCrash: true };
});

describe('SqliteMailboxStore', () => {
  it('keeps one database in WAL mode in its directory', async () => {
    const dir = tempDir();
    const store = new SqliteMailboxStore({ dir: join(dir, 'nested') });
    await store.load();
    store.commit(sampleChanges());
    expect(readdirSync(join(dir, 'nested')).sort()).toEqual([SQLITE_FILE, `${SQLITE_FILE}-shm`, `${SQLITE_FILE}-wal`]);
    const peek = new Database(join(dir, 'nested', SQLITE_FILE), { readonly: true });
    expect(peek.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(peek.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 2 });
    peek.close();
    await store.close();
  });

  it('refuses a database of another schema version, and a file that is not a database', async () => {
    const dir = tempDir();
    const db = new Database(join(dir, SQLITE_FILE));
    db.pragma('user_version = 99');
    db.close();
    await expect(new SqliteMailboxStore({ dir }).load()).rejects.toThrow(/schema version 99/);
    const other = tempDir();
    writeFileSync(join(other, SQLITE_FILE), 'not a database at all, just some text that is long enough');
    await expect(new SqliteMailboxStore({ dir: other }).load()).rejects.toMatchObject({ code: 'SQLITE_NOTADB' });
  });

  it('rolls a failed commit back whole', async () => {
    const dir = tempDir();
    const store = new SqliteMailboxStore({ dir });
    await store.load();
    const changes = sampleChanges();
    // A change the schema refuses (NOT NULL) after good ones: nothing of the batch stays.
    const bad = { type: 'nameplate', nameplate: { app: APPID, name: 'x', mailbox: null, sides: [] } } as unknown as (typeof changes)[number];
    expect(() => store.commit([...changes, bad])).toThrow(/NOT NULL/);
    await store.close();
    const again = new SqliteMailboxStore({ dir });
    expect(await again.load()).toEqual({ nameplates: [], mailboxes: [] });
    await again.close();
  });
});

describe('a core restored from a store', () => {
  it('resumes from stored changes: nameplates, sides and messages', async () => {
    const h = harness();
    const a = h.connect();
    a.bind(APPID, 'aaaa');
    const [allocated] = a.send({ type: 'allocate' });
    const nameplate = allocated!['nameplate'] as string;
    const [claimed] = a.send({ type: 'claim', nameplate });
    const mailbox = claimed!['mailbox'] as string;
    a.send({ type: 'open', mailbox });
    a.send({ type: 'add', phase: 'pake', body: 'aa' });
    const b0 = h.connect();
    b0.bind(APPID, 'bbbb');
    b0.send({ type: 'claim', nameplate });
    const store = new SqliteMailboxStore({ dir: tempDir() });
    await store.load();
    store.commit(h.core.takeChanges());
    await store.close();
    const reopened = new SqliteMailboxStore({ dir: dirs.at(-1)! });
    const h2 = harness({ restored: await reopened.load() });
    await reopened.close();
    expect(rejoinRestored(h2, nameplate, mailbox)).toMatchObject({
      claimed: [{ type: 'claimed', mailbox }],
      opened: [{ type: 'message', side: 'aaaa', phase: 'pake', body: 'aa' }],
      thirdErrors: ['crowded'],
    });
  });
});
