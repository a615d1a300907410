// Which entries a directory's zip holds (zipTreeNames): files and empty
// directories only, as the Python CLI lays its zip out, so receivers that
// extract every entry as a file (wormhole-william) never meet an entry for a
// directory that holds anything.
import { describe, expect, it } from 'vitest';
import { zipTreeNames, type ZipTreeItem } from '../src/index.js';
import { wormholeError } from './zip-support.js';

const file = (path: string): ZipTreeItem => ({ path, type: 'file' });
const dir = (path: string): ZipTreeItem => ({ path, type: 'directory' });

describe('zipTreeNames', () => {
  it('names files and empty directories only, in the order given', () => {
    const items = [
      dir('a'),
      file('a/x.txt'),
      dir('a/b'),
      dir('a/b/c'),
      file('a/b/c/deep.md'),
      dir('a/empty'),
      dir('top-empty/'),
      dir('implied/only'),
      file('root.txt'),
      dir('ünï ✓'),
      file('ünï ✓/日本語.txt'),
    ];
    expect(zipTreeNames(items)).toEqual([
      undefined, // a: holds x.txt
      'a/x.txt',
      undefined, // a/b: holds c
      undefined, // a/b/c: holds deep.md
      'a/b/c/deep.md',
      'a/empty/',
      'top-empty/',
      'implied/only/', // empty; its parent "implied" is never listed and gets no entry
      'root.txt',
      undefined,
      'ünï ✓/日本語.txt',
    ]);
  });

  it('a directory listed before or after its contents gets no entry; listed twice, one entry', () => {
    expect(zipTreeNames([file('d/f'), dir('d')])).toEqual(['d/f', undefined]);
    expect(zipTreeNames([dir('e'), dir('e/'), dir('e')])).toEqual(['e/', undefined, undefined]);
  });

  it('normalises paths like the reader does', () => {
    expect(zipTreeNames([file('./a//b'), dir('a/./c/')])).toEqual(['a/b', 'a/c/']);
  });

  it('refuses unsafe paths, a file listed twice, and a path that is both a file and a directory (Usage)', () => {
    for (const items of [
      [file('../x')],
      [file('/etc/passwd')],
      [dir('')],
      [file('a\u0000b')],
      [file('x'), file('x')],
      [file('x'), dir('x')],
      [dir('x'), file('x')],
      [file('x'), file('x/y')],
      [file('x/y/z'), file('x/y')],
    ]) {
      expect(wormholeError(() => zipTreeNames(items)).code, JSON.stringify(items)).toBe('Usage');
    }
  });
});
