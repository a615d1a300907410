/**
 * Files and folders for transfer tests: random files, a nested directory with
 * awkward names and modes, and tree comparison (sha256 + mode of every
 * entry), plus a temporary folder that is removed whatever happens.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from './index.js';
import { makeTempDir, removeDir } from './process.js';

/** Write `size` random bytes to `path` in 1 MiB pieces. */
export function randomFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  try {
    for (let left = size; left > 0; ) {
      const n = Math.min(left, 1024 * 1024);
      writeSync(fd, randomBytes(n));
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A nested directory: empty folders, several files (one larger and
 * compressible, one random), odd names (spaces, unicode, quotes, a leading
 * dash, a very long name) and various modes. Nine files in all.
 */
export function makeTree(root: string): void {
  mkdirSync(root);
  mkdirSync(join(root, 'empty'));
  mkdirSync(join(root, 'a b', 'deeper', 'deepest'), { recursive: true });
  mkdirSync(join(root, 'a b', 'empty too'), { recursive: true });
  mkdirSync(join(root, 'ünïcödé ✓'));
  const file = (rel: string, data: Uint8Array | string, mode = 0o644) => {
    const p = join(root, rel);
    const fd = openSync(p, 'w');
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    closeSync(fd);
    chmodSync(p, mode);
  };
  file('README.txt', 'hello\n'.repeat(10_000));
  file('run.sh', '#!/bin/sh\necho hi\n', 0o755);
  file('secret', randomBytes(4096), 0o600);
  file('empty-file', '');
  file('-dash "quoted" \'single\'.txt', 'odd name\n');
  file('a b/random.bin', randomBytes(300_000), 0o640);
  file('a b/deeper/deepest/note.md', '# deep\n');
  file('ünïcödé ✓/日本語.txt', 'こんにちは\n');
  file(`${'long'.repeat(50)}.txt`, 'long name\n');
  chmodSync(join(root, 'a b', 'deeper'), 0o750);
}

export interface TreeEntry {
  type: 'file' | 'dir';
  mode: number;
  sha256?: string;
}

/** path → type, mode (& 0o777), sha256 for files. */
export async function describeTree(root: string): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  const walk = async (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, r));
      if (st.isDirectory()) {
        out.set(r, { type: 'dir', mode: st.mode & 0o777 });
        await walk(r);
      } else {
        out.set(r, { type: 'file', mode: st.mode & 0o777, sha256: await sha256File(join(root, r)) });
      }
    }
  };
  await walk('');
  return out;
}

/** Directories that hold no file anywhere below them (the CLI's zips leave those out). */
export function withoutEmptyDirs(tree: Map<string, TreeEntry>): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  for (const [p, e] of tree) {
    if (e.type === 'dir' && ![...tree].some(([q, f]) => f.type === 'file' && q.startsWith(`${p}/`))) continue;
    out.set(p, e);
  }
  return out;
}

/** The CLI's zips carry no directory entries, hence no directory modes: compare those as existence only. */
export function ignoreDirModes(tree: Map<string, TreeEntry>): Map<string, TreeEntry> {
  return new Map([...tree].map(([p, e]) => [p, e.type === 'dir' ? { type: 'dir', mode: 0 } : e]));
}

/**
 * Burrow's zips (like the CLI's) have no entry for a directory that holds
 * anything, so no mode travels for it: compare those as existence only
 * (empty directories keep their entry, and their mode).
 */
export function ignoreNonEmptyDirModes(tree: Map<string, TreeEntry>): Map<string, TreeEntry> {
  const parents = new Set([...tree.keys()].map((p) => p.slice(0, p.lastIndexOf('/'))));
  return new Map([...tree].map(([p, e]) => [p, e.type === 'dir' && parents.has(p) ? { type: 'dir', mode: 0 } : e]));
}

/** Names in `dir` (to check nothing stray was left behind). */
export function listNames(dir: string): string[] {
  return readdirSync(dir).sort();
}

/**
 * Run `fn` with a fresh temporary folder, removed afterwards whatever happens.
 *
 * @example
 * await inTempDir('burrow-out-', async (out) => { … });
 */
export async function inTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = makeTempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    removeDir(dir);
  }
}
