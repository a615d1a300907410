// What every MailboxStore must do, run against each engine: hand back what
// was committed (after a clean close, and without one), keep messages in
// order, drop a mailbox's messages with it, and agree with StoreMirror (the
// reference) on a real core's changes.
import { describe, expect, it } from 'vitest';
import { MailboxCore, type StoreChange, type StoredState } from '@burrow/protocol/server';
import { APPID, mailboxHarness } from '@burrow/testkit';
import { StoreMirror, type MailboxStore } from '../../src/index.js';

export interface StoreUnderTest {
  /** A store over the same backing state each time it is called (a new "process"). */
  open(): MailboxStore;
  /** Whether a store never closed (a crash) still hands back everything it committed. */
  readonly survivesCrash: boolean;
}

const harness = () => mailboxHarness((base) => new MailboxCore(base));

/** Real changes from a core: a claimed nameplate, an open mailbox, two messages, a closed stand-alone mailbox. */
export function sampleChanges(): StoreChange[] {
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

/** Many wormholes' worth of changes from a real core, some finished, some not. */
function busyChanges(): StoreChange[][] {
  const h = harness();
  const batches: StoreChange[][] = [];
  for (let i = 0; i < 12; i++) {
    const a = h.connect();
    const b = h.connect();
    a.bind(APPID, `a${i}`);
    b.bind(APPID, `b${i}`);
    const [allocated] = a.send({ type: 'allocate' });
    const nameplate = allocated!['nameplate'] as string;
    const [claimed] = a.send({ type: 'claim', nameplate });
    const mailbox = claimed!['mailbox'] as string;
    a.send({ type: 'open', mailbox });
    a.send({ type: 'add', phase: 'pake', body: `aa${i}` });
    batches.push(h.core.takeChanges());
    b.send({ type: 'claim', nameplate });
    b.send({ type: 'open', mailbox });
    b.send({ type: 'add', phase: 'pake', body: `bb${i}` });
    if (i % 3 !== 0) {
      a.send({ type: 'release' });
      b.send({ type: 'release' });
    }
    if (i % 2 === 0) {
      a.send({ type: 'close', mood: 'happy' });
      b.send({ type: 'close', mood: 'happy' });
    }
    batches.push(h.core.takeChanges());
  }
  return batches;
}

/** A state with its lists sorted, to compare stores that do not promise an order of records. */
function sorted(state: StoredState): StoredState {
  const order = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  return {
    nameplates: [...state.nameplates].sort((x, y) => order(`${x.app}/${x.name}`, `${y.app}/${y.name}`)),
    mailboxes: [...state.mailboxes].sort((x, y) => order(`${x.app}/${x.id}`, `${y.app}/${y.id}`)),
  };
}

export function mailboxStoreCompliance(name: string, setup: () => StoreUnderTest): void {
  describe(`${name}: MailboxStore compliance`, () => {
    it('starts empty, and hands back what was committed after a close', async () => {
      const sut = setup();
      const store = sut.open();
      expect(await store.load()).toEqual({ nameplates: [], mailboxes: [] });
      await store.commit(sampleChanges());
      await store.close();
      const again = sut.open();
      const state = await again.load();
      expect(state.nameplates).toEqual([
        { app: APPID, name: '12', mailbox: expect.stringMatching(/^[a-z2-7]{13}$/), sides: [{ side: 'aaaa', claimed: true, added: expect.any(Number) }] },
      ]);
      // The stand-alone mailbox was deleted by its only side's close.
      expect(state.mailboxes).toHaveLength(1);
      expect(state.mailboxes[0]!.messages).toEqual([
        { side: 'aaaa', phase: 'pake', body: 'aabb', serverRx: expect.any(Number), id: 'i1' },
        { side: 'aaaa', phase: 'version', body: 'ccdd', serverRx: expect.any(Number), id: 'i2' },
      ]);
      await again.close();
    });

    it('agrees with the reference mirror on a busy core, commit by commit', async () => {
      const sut = setup();
      const store = sut.open();
      await store.load();
      const mirror = new StoreMirror();
      for (const batch of busyChanges()) {
        await store.commit(batch);
        for (const c of batch) mirror.apply(c);
      }
      await store.close();
      const again = sut.open();
      expect(sorted(await again.load())).toEqual(sorted(mirror.snapshot()));
      await again.close();
    });

    it('drops messages for a mailbox it does not hold, and a removed mailbox’s messages', async () => {
      const sut = setup();
      const store = sut.open();
      await store.load();
      const message = { side: 's', phase: 'p', body: 'b', serverRx: 1, id: null };
      await store.commit([
        { type: 'message', app: APPID, mailbox: 'nowhere', message },
        { type: 'mailbox', mailbox: { app: APPID, id: 'gone', forNameplate: false, sides: [] } },
        { type: 'message', app: APPID, mailbox: 'gone', message },
        { type: 'mailbox-removed', app: APPID, id: 'gone' },
        { type: 'mailbox', mailbox: { app: APPID, id: 'gone', forNameplate: false, sides: [] } },
      ]);
      await store.close();
      const again = sut.open();
      expect(await again.load()).toEqual({ nameplates: [], mailboxes: [{ app: APPID, id: 'gone', forNameplate: false, sides: [], messages: [] }] });
      await again.close();
    });

    it.runIf(setup().survivesCrash)('hands back every committed change when the last store was never closed (a crash)', async () => {
      const sut = setup();
      const store = sut.open();
      await store.load();
      const changes = sampleChanges();
      await store.commit(changes);
      const mirror = new StoreMirror();
      for (const c of changes) mirror.apply(c);
      const again = sut.open();
      expect(sorted(await again.load())).toEqual(sorted(mirror.snapshot()));
      await again.close();
      await store.close();
    });
  });
}
