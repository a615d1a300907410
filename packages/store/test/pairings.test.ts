import { describe, expect, it, vi } from 'vitest';
import { Pairings, loadIdentity, memoryStore } from '../src/index.js';

const ID_A = 'a'.repeat(32);
const ID_B = 'b'.repeat(32);
const secret = (n: number) => new Uint8Array(32).fill(n);
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

function clock(start = 1000) {
  let t = start;
  return () => (t += 1000);
}

describe('Pairings', () => {
  it('adds, lists oldest first, gets — never showing the secret', async () => {
    const kv = memoryStore();
    const p = new Pairings(kv, { now: clock() });
    await p.add({ id: ID_B, name: '  Laptop   agent ', peerRole: 'agent', endpoint: 'ws://127.0.0.1:4100/v1' }, secret(1));
    await p.add({ id: ID_A, name: 'Extension', peerRole: 'client', origin: 'chrome-extension://x' }, secret(2));
    const list = await p.list();
    expect(list.map((x) => x.id)).toEqual([ID_B, ID_A]);
    expect(list[0]).toEqual({ id: ID_B, name: 'Laptop agent', peerRole: 'agent', createdAt: 2000, endpoint: 'ws://127.0.0.1:4100/v1' });
    expect(await p.get(ID_A)).toEqual({ id: ID_A, name: 'Extension', peerRole: 'client', createdAt: 3000, origin: 'chrome-extension://x' });
    expect(JSON.stringify(list)).not.toContain(hex(secret(1)));
    expect(await p.secret(ID_B)).toEqual(secret(1));
    expect(await p.get('c'.repeat(32))).toBeUndefined();
  });

  it('renames', async () => {
    const p = new Pairings(memoryStore());
    await p.add({ id: ID_A, name: 'Old', peerRole: 'client' }, secret(3));
    expect((await p.rename(ID_A, 'New name'))?.name).toBe('New name');
    expect((await p.get(ID_A))?.name).toBe('New name');
    expect(await p.rename(ID_B, 'Nobody')).toBeUndefined();
    await expect(p.rename(ID_A, '   ')).rejects.toThrow(RangeError);
    await expect(p.rename(ID_A, 'x'.repeat(101))).rejects.toThrow(/name must be 1 to 100/);
  });

  it('revokes: the secret is deleted from the store, a tombstone remains', async () => {
    const kv = memoryStore();
    const p = new Pairings(kv, { now: clock() });
    await p.add({ id: ID_A, name: 'Ext', peerRole: 'client' }, secret(4));
    expect(await p.revoke(ID_A)).toBe(true);
    expect(await p.secret(ID_A)).toBeUndefined();
    expect((await p.get(ID_A))?.revokedAt).toBe(3000);
    expect(JSON.stringify(await kv.get(`pairing/${ID_A}`))).not.toContain(hex(secret(4)));
    await p.touch(ID_A);
    expect((await p.get(ID_A))?.lastSeenAt).toBeUndefined();
    expect(await p.revoke(ID_B)).toBe(false);
    expect(await p.remove(ID_A)).toBe(true);
    expect(await p.list()).toEqual([]);
  });

  it('notes the last authentication', async () => {
    const p = new Pairings(memoryStore(), { now: clock() });
    await p.add({ id: ID_A, name: 'Ext', peerRole: 'client' }, secret(5));
    await p.touch(ID_A);
    expect((await p.get(ID_A))?.lastSeenAt).toBe(3000);
  });

  it('reports changes to pairings through watch', async () => {
    const p = new Pairings(memoryStore());
    const seen: string[] = [];
    const stop = p.watch((id) => seen.push(id));
    await p.add({ id: ID_A, name: 'Ext', peerRole: 'client' }, secret(6));
    await p.revoke(ID_A);
    stop();
    await p.remove(ID_A);
    expect(seen).toEqual([ID_A, ID_A]);
  });

  it('checks its arguments', async () => {
    const p = new Pairings(memoryStore());
    await expect(p.get('nope')).rejects.toThrow(/id must be 32 lowercase hex/);
    await expect(p.add({ id: ID_A, name: 'x', peerRole: 'client' }, new Uint8Array(16))).rejects.toThrow(/secret must be 32 bytes/);
    await expect(p.add({ id: ID_A, name: 'x', peerRole: 'boss' as never }, secret(1))).rejects.toThrow(/peerRole/);
    expect(() => new Pairings(undefined as never)).toThrow(TypeError);
  });

  it('ignores records it cannot read instead of failing the list', async () => {
    const kv = memoryStore();
    await kv.set(`pairing/${ID_A}`, { garbage: true });
    await kv.set(`pairing/${ID_B}`, { id: ID_B, name: 'ok', peerRole: 'agent', createdAt: 1, secret: 'short' });
    const p = new Pairings(kv);
    expect((await p.list()).map((x) => x.id)).toEqual([ID_B]);
    expect(await p.secret(ID_B)).toBeUndefined();
  });
});

describe('loadIdentity', () => {
  it('creates 16 random bytes once and keeps them', async () => {
    const kv = memoryStore();
    const id = await loadIdentity(kv, { random: (n) => new Uint8Array(n).fill(0xab) });
    expect(id).toBe('ab'.repeat(16));
    expect(await loadIdentity(kv)).toBe(id);
    expect(await loadIdentity(memoryStore())).toMatch(/^[0-9a-f]{32}$/);
  });

  it('says to pass a random source where there is no Web Crypto', async () => {
    vi.stubGlobal('crypto', undefined);
    try {
      await expect(loadIdentity(memoryStore())).rejects.toMatchObject({ code: 'Usage' });
      expect(await loadIdentity(memoryStore(), { random: (n) => new Uint8Array(n) })).toBe('0'.repeat(32));
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
