/**
 * The KeyValueStore contract, run against every implementation (memory,
 * file, IndexedDB). A store passes when it keeps JSON values by key, returns
 * copies, lists keys by prefix in order, rejects bad keys and values with
 * errors that name the argument, honours an aborted signal, and reports its
 * own changes to `watch`.
 */
import { describe, expect, it } from 'vitest';
import type { KeyValueStore } from '../src/index.js';

export function storeCompliance(name: string, make: () => KeyValueStore | Promise<KeyValueStore>): void {
  describe(`KeyValueStore compliance: ${name}`, () => {
    it('keeps JSON values by key and returns undefined for a missing key', async () => {
      const kv = await make();
      expect(await kv.get('missing')).toBeUndefined();
      const value = { a: 1, b: [true, null, 'x'], c: { d: 1.5, e: '' }, u: 'ünïcødé 🐇' };
      await kv.set('k/1', value);
      expect(await kv.get('k/1')).toEqual(value);
      await kv.set('k/1', 'replaced');
      expect(await kv.get('k/1')).toBe('replaced');
      for (const v of [null, false, 0, -3.25, '', []]) {
        await kv.set('scalar', v);
        expect(await kv.get('scalar')).toEqual(v);
      }
    });

    it('returns copies: mutating a value changes nothing stored', async () => {
      const kv = await make();
      const value = { list: [1, 2] };
      await kv.set('copy', value);
      value.list.push(3);
      const got = (await kv.get('copy')) as { list: number[] };
      expect(got.list).toEqual([1, 2]);
      got.list.push(4);
      expect(((await kv.get('copy')) as { list: number[] }).list).toEqual([1, 2]);
    });

    it('deletes (a missing key too) and lists keys by prefix, sorted', async () => {
      const kv = await make();
      await kv.set('pairing/b', 1);
      await kv.set('pairing/a', 2);
      await kv.set('identity', 3);
      await kv.set('pairings-other', 4);
      expect(await kv.keys('pairing/')).toEqual(['pairing/a', 'pairing/b']);
      expect(await kv.keys()).toEqual(['identity', 'pairing/a', 'pairing/b', 'pairings-other']);
      await kv.delete('pairing/a');
      await kv.delete('never-there');
      expect(await kv.keys('pairing/')).toEqual(['pairing/b']);
      expect(await kv.get('pairing/a')).toBeUndefined();
    });

    it('takes odd but legal keys (dots, slashes, percent signs) without confusing them', async () => {
      const kv = await make();
      const keys = ['..', '.', 'a/../b', '%2F', '/', 'A', 'a'];
      for (const [i, k] of keys.entries()) await kv.set(k, i);
      for (const [i, k] of keys.entries()) expect(await kv.get(k)).toBe(i);
      expect(await kv.keys()).toEqual([...keys].sort());
    });

    it('rejects bad keys and values with errors naming them', async () => {
      const kv = await make();
      await expect(kv.set('', 1)).rejects.toThrow(RangeError);
      await expect(kv.set('has space', 1)).rejects.toThrow(/printable ASCII/);
      await expect(kv.set('x'.repeat(81), 1)).rejects.toThrow(/key must be 1 to 80/);
      await expect(kv.get(42 as unknown as string)).rejects.toThrow(TypeError);
      await expect(kv.set('v', undefined as never)).rejects.toThrow(/value/);
      await expect(kv.set('v', { f: () => 1 } as never)).rejects.toThrow(/value\.f/);
      await expect(kv.set('v', new Uint8Array(2) as never)).rejects.toThrow(/plain object/);
      await expect(kv.set('v', Number.NaN)).rejects.toThrow(/finite/);
      const cyclic: Record<string, unknown> = {};
      cyclic['self'] = cyclic;
      await expect(kv.set('v', cyclic as never)).rejects.toThrow(/circular/);
      expect(await kv.get('v')).toBeUndefined();
    });

    it('honours an aborted signal', async () => {
      const kv = await make();
      const signal = AbortSignal.abort();
      await expect(kv.set('a', 1, { signal })).rejects.toThrow();
      await expect(kv.get('a', { signal })).rejects.toThrow();
      await expect(kv.keys('', { signal })).rejects.toThrow();
      expect(await kv.get('a')).toBeUndefined();
    });

    it('reports changes to watchers until they unsubscribe', async () => {
      const kv = await make();
      if (!kv.watch) return;
      const seen: string[] = [];
      const stop = kv.watch((key) => seen.push(key));
      await new Promise((r) => setTimeout(r, 50)); // a file watcher starts asynchronously
      await kv.set('watched', 1);
      await kv.delete('watched');
      await expect.poll(() => seen.includes('watched'), { timeout: 5000 }).toBe(true);
      stop();
    });
  });
}
