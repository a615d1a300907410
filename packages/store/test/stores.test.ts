import 'fake-indexeddb/auto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { idbStore, memoryStore } from '../src/index.js';
import { fileStore } from '../src/file.js';
import { storeCompliance } from './compliance.js';

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-store-'));
  dirs.push(dir);
  return join(dir, 'state');
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let db = 0;
storeCompliance('memory', () => memoryStore());
storeCompliance('file', () => fileStore(freshDir()));
storeCompliance('idb (fake-indexeddb)', () => idbStore({ database: `test-${++db}` }));

describe('file store', () => {
  it('keeps its directory and files private (0700 / 0600) and leaves no temp files', async () => {
    const dir = freshDir();
    const kv = fileStore(dir);
    await kv.set('pairing/abc', { secret: 'x' });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toEqual(['pairing%2Fabc.json']);
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);
  });

  it('is shared by two handles on the same directory (two processes), reads going to disk', async () => {
    const dir = freshDir();
    const a = fileStore(dir);
    const b = fileStore(dir);
    await a.set('k', 1);
    expect(await b.get('k')).toBe(1);
    const seen: string[] = [];
    const stop = a.watch!((key) => seen.push(key));
    await new Promise((r) => setTimeout(r, 50));
    await b.set('k', 2);
    await expect.poll(() => seen.includes('k'), { timeout: 5000 }).toBe(true);
    expect(await a.get('k')).toBe(2);
    stop();
  });

  it('reports a corrupt file instead of guessing', async () => {
    const dir = freshDir();
    const kv = fileStore(dir);
    await kv.set('k', 1);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'k.json'), '{not json');
    await expect(kv.get('k')).rejects.toThrow(/not valid JSON/);
  });
});

describe('idb store', () => {
  it('touches no IndexedDB until used, and two handles on one database share data', async () => {
    const a = idbStore({ database: 'shared-db' });
    const b = idbStore({ database: 'shared-db' });
    await a.set('x', { y: 1 });
    expect(await b.get('x')).toEqual({ y: 1 });
  });
});
