// Echo only what is saved: MailboxService holds every frame a change caused
// until the store's commit settles; a failed commit is an `error` to the
// client that made the change and a failing /health, and the same changes
// are saved once the store recovers.
import { describe, expect, it } from 'vitest';
import type { StoreChange, StoredState } from '@burrow/protocol/server';
import { APPID, waitFor } from '@burrow/testkit';
import { ERR_STORE_FAILED, MailboxService, StoreMirror, type MailboxStore } from '../src/index.js';

/** A store a test steers: commits wait for `release()` when held, and throw while `broken`. */
class SteeredStore implements MailboxStore {
  readonly mirror = new StoreMirror();
  readonly commits: StoreChange[][] = [];
  broken: Error | undefined;
  held = false;
  #release: (() => void) | undefined;

  async load(): Promise<StoredState> {
    return { nameplates: [], mailboxes: [] };
  }
  commit(changes: readonly StoreChange[]): void | Promise<void> {
    this.commits.push([...changes]);
    if (this.broken) throw this.broken;
    if (!this.held) return this.#apply(changes);
    return new Promise<void>((resolve) => {
      this.#release = () => {
        this.#apply(changes);
        resolve();
      };
    });
  }
  release(): void {
    this.#release?.();
  }
  async close(): Promise<void> {
    /* nothing held */
  }
  #apply(changes: readonly StoreChange[]): void {
    for (const c of changes) this.mirror.apply(c);
  }
}

function peer(service: MailboxService) {
  const frames: Record<string, unknown>[] = [];
  const attached = service.attach({
    address: '192.0.2.1',
    send: (f) => frames.push(JSON.parse(f) as Record<string, unknown>),
    bufferedAmount: () => 0,
    close: () => attached.closed(),
  });
  return {
    frames,
    send: (frame: Record<string, unknown>) => attached.receive(JSON.stringify(frame)),
    types: () => frames.map((f) => f['type']),
  };
}

async function openedPair(service: MailboxService) {
  const a = peer(service);
  a.send({ type: 'bind', appid: APPID, side: 'aaaa' });
  a.send({ type: 'claim', nameplate: '7' });
  await waitFor(() => a.types().includes('claimed'), { message: 'claimed' });
  const mailbox = a.frames.find((f) => f['type'] === 'claimed')!['mailbox'];
  a.send({ type: 'open', mailbox });
  await service.flush();
  return { a, mailbox };
}

describe('MailboxService with a store', () => {
  it('sends nothing a change caused before the store has saved it', async () => {
    const store = new SteeredStore();
    const service = await MailboxService.start({ store });
    const { a } = await openedPair(service);
    store.held = true;
    const before = store.commits.length;
    a.send({ type: 'add', phase: 'pake', body: 'aabb', id: 'm1' });
    await waitFor(() => store.commits.length > before, { message: 'the add committed' });
    expect(a.types()).not.toContain('message');
    expect(service.storeHealth()).toMatchObject({ ok: true, pending: 1 });
    store.release();
    await waitFor(() => a.types().includes('message'), { message: 'the echo after the commit' });
    expect(store.mirror.snapshot().mailboxes[0]!.messages.map((m) => m.body)).toEqual(['aabb']);
    await service.close();
  });

  it('commits several adds that arrive together in one batch', async () => {
    const store = new SteeredStore();
    const service = await MailboxService.start({ store });
    const { a } = await openedPair(service);
    const before = store.commits.length;
    for (let i = 0; i < 5; i++) a.send({ type: 'add', phase: String(i), body: 'cc' });
    await service.flush();
    expect(store.commits.slice(before).map((c) => c.length)).toEqual([5]);
    expect(a.frames.filter((f) => f['type'] === 'message').map((f) => f['phase'])).toEqual(['0', '1', '2', '3', '4']);
    await service.close();
  });

  it('tells the client and /health when saving fails, and saves the same changes once the store recovers', async () => {
    const store = new SteeredStore();
    const service = await MailboxService.start({ store, storeRetryMs: 20 });
    const { a } = await openedPair(service);
    store.broken = new Error('SQLITE_FULL: database or disk is full');
    a.send({ type: 'add', phase: 'pake', body: 'aabb', id: 'm1' });
    await waitFor(() => a.types().includes('error'), { message: 'the error' });
    expect(a.frames.at(-1)).toMatchObject({ type: 'error', error: ERR_STORE_FAILED, orig: { type: 'add', id: 'm1' } });
    expect(a.types().slice(-2)).toEqual(['ack', 'error']);
    expect(a.types()).not.toContain('message');
    expect(service.storeHealth()).toMatchObject({ ok: false, error: 'Error: SQLITE_FULL: database or disk is full', pending: 1 });
    await expect(service.flush()).rejects.toThrow(/SQLITE_FULL/);
    store.broken = undefined;
    await waitFor(() => service.storeHealth().ok, { message: 'saving resumes' });
    expect(service.storeHealth()).toMatchObject({ ok: true, pending: 0, failures: expect.any(Number) });
    expect(store.mirror.snapshot().mailboxes[0]!.messages.map((m) => m.body)).toEqual(['aabb']);
    await service.close();
  });
});
