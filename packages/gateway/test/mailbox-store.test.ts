// Mailbox stores: what goes in comes back after a restart, including after a
// crash (journal without a clean close) and a torn last journal line.
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MailboxCore, type MailboxCoreOptions, type StoreChange } from '@burrow/protocol/server';
import { APPID, errors, mailboxHarness, openMailbox } from '@burrow/testkit';
import { JsonFileMailboxStore, MemoryMailboxStore, type MailboxStore } from '../src/index.js';

/** A real core driven by hand: its changes are what the stores must keep. */
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

/** Real changes from a core: a claimed nameplate, an open mailbox, two messages. */
function sampleChanges(): StoreChange[] {
  const h = harness();
  const a = h.connect();
  a.bind(APPID, 'aaaa');
  const [claimed] = a.send({ type: 'claim', nameplate: '12' });
  a.send({ type: 'open', mailbox: claimed!['mailbox'] });
  a.send({ type: 'add', phase: 'pake', body: 'aabb', id: 'i1' });
  a.send({ type: 'add', phase: 'version', body: 'ccdd', id: 'i2' });
  const b = h.connect();
  b.bind(APPID, 'bbbb');
  b.send({ type: 'open', mailbox: 'standalone' });
  b.send({ type: 'close', mood: 'lonely' });
  return h.core.takeChanges();
}

async function roundTrip(store: MailboxStore, reopen: () => MailboxStore): Promise<void> {
  expect(await store.load()).toEqual({ nameplates: [], mailboxes: [] });
  store.write(sampleChanges());
  await store.close();
  const again = reopen();
  const state = await again.load();
  expect(state.nameplates).toEqual([
    { app: APPID, name: '12', mailbox: expect.stringMatching(/^[a-z2-7]{13}$/), sides: [{ side: 'aaaa', claimed: true, added: expect.any(Number) }] },
  ]);
  // The stand-alone mailbox was deleted by its only side's close.
  expect(state.mailboxes).toHaveLength(1);
  expect(state.mailboxes[0]!.messages.map((m) => [m.phase, m.body, m.id])).toEqual([
    ['pake', 'aabb', 'i1'],
    ['version', 'ccdd', 'i2'],
  ]);
  await again.close();
}

describe('MemoryMailboxStore', () => {
  it('hands back what it was given', async () => {
    const store = new MemoryMailboxStore();
    await roundTrip(store, () => store);
  });
});

describe('JsonFileMailboxStore', () => {
  it('survives a clean close and reopen', async () => {
    const dir = tempDir();
    await roundTrip(new JsonFileMailboxStore({ dir }), () => new JsonFileMailboxStore({ dir }));
    // load and close each compact: one snapshot and its (empty) journal remain.
    expect(readdirSync(dir).sort()).toEqual(['mailbox-journal-4.jsonl', 'mailbox-state.json']);
  });

  it('replays the journal after a crash (no close), ignoring a torn last line', async () => {
    const dir = tempDir();
    const store = new JsonFileMailboxStore({ dir });
    await store.load();
    store.write(sampleChanges());
    await store.flush();
    // Simulate the process dying mid-append.
    const journal = readdirSync(dir).find((n) => n.endsWith('.jsonl'))!;
    appendFileSync(join(dir, journal), '{"type":"message","app":"x","mail');
    const again = new JsonFileMailboxStore({ dir });
    const state = await again.load();
    expect(state.nameplates).toHaveLength(1);
    expect(state.mailboxes[0]!.messages).toHaveLength(2);
    await again.close();
    await store.close().catch(() => {});
  });

  it('compacts when the journal grows, keeping every message', async () => {
    const dir = tempDir();
    const store = new JsonFileMailboxStore({ dir, compactAfterBytes: 2_000 });
    await store.load();
    const base = sampleChanges();
    store.write(base);
    const mailbox = base.find((c) => c.type === 'nameplate')!;
    const mailboxId = mailbox.type === 'nameplate' ? mailbox.nameplate.mailbox : '';
    for (let i = 0; i < 200; i++) {
      store.write([{ type: 'message', app: APPID, mailbox: mailboxId, message: { side: 'aaaa', phase: String(i), body: 'ee'.repeat(20), serverRx: i, id: null } }]);
      if (i % 50 === 0) await store.flush();
    }
    await store.flush();
    const journals = readdirSync(dir).filter((n) => n.endsWith('.jsonl'));
    expect(journals).toHaveLength(1);
    expect(Number(/(\d+)/.exec(journals[0]!)![1])).toBeGreaterThan(2);
    const again = new JsonFileMailboxStore({ dir });
    const state = await again.load();
    expect(state.mailboxes[0]!.messages).toHaveLength(202);
    await again.close();
    await store.close();
  });

  it('refuses a file that is not its snapshot', async () => {
    const dir = tempDir();
    appendFileSync(join(dir, 'mailbox-state.json'), '{"hello":1}');
    await expect(new JsonFileMailboxStore({ dir }).load()).rejects.toThrow(/not a burrow-mailbox\/1 snapshot/);
  });
});

describe('a core restored from a store', () => {
  it('resumes from stored changes: nameplates, sides and messages', async () => {
    const h = harness();
    const { a, nameplate, mailbox } = openMailbox(h);
    a.send({ type: 'add', phase: 'pake', body: 'aa' });
    const b0 = h.connect();
    b0.bind(APPID, 'bbbb');
    b0.send({ type: 'claim', nameplate });
    const store = new MemoryMailboxStore();
    store.write(h.core.takeChanges());
    const h2 = harness({ restored: await store.load() });
    const b = h2.connect();
    b.bind(APPID, 'bbbb');
    expect(b.send({ type: 'claim', nameplate })).toMatchObject([{ type: 'claimed', mailbox }]);
    expect(b.send({ type: 'open', mailbox })).toMatchObject([{ type: 'message', side: 'aaaa', phase: 'pake', body: 'aa' }]);
    const c = h2.connect();
    c.bind(APPID, 'cccc');
    expect(errors(c.send({ type: 'claim', nameplate }))).toEqual(['crowded']);
  });
});
