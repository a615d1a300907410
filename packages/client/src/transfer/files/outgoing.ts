/**
 * What a files-v1 sender offers: the items given to `sendFiles` flattened
 * into checked relative paths (directories expanded under their name, only
 * empty directories listed), each file with the way to (re)open its bytes.
 */
import { WormholeError } from '@burrow/protocol';
import { FILES_LIMITS, checkPath } from '@burrow/protocol/files';
import type { DirectorySource } from '../types.js';
import type { FilesItem, SendItem } from './types.js';

/** One file as offered, with the way to (re)open its bytes. */
export interface Outgoing {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs?: number;
  readonly mode?: number;
  readonly open: () => ReadableStream<Uint8Array>;
}

export const isDirectory = (item: SendItem): item is DirectorySource => 'entries' in item;

/** The offer's files (directories expanded under their name) and empty directories, checked. */
export function flatten(items: readonly SendItem[]): { files: Outgoing[]; directories: string[] } {
  const files: Outgoing[] = [];
  const dirs: string[] = [];
  const usage = (why: string) => new WormholeError('Usage', why);
  const checked = (path: string) => {
    try {
      return checkPath(path).join('/');
    } catch (err) {
      throw usage((err as Error).message.replace(/^files-v1: refused/, 'cannot send'));
    }
  };
  const opener = (item: FilesItem): (() => ReadableStream<Uint8Array>) => {
    const { stream } = item;
    if (typeof stream === 'function') return stream;
    let used = false;
    return () => {
      if (used) throw new WormholeError('TransferFailed', `${item.name} was given as a stream and cannot be read again (pass a function to allow resuming)`, { blame: 'local' });
      used = true;
      return stream;
    };
  };
  for (const item of items) {
    if (isDirectory(item)) {
      const root = checked(item.name);
      const parents = new Set<string>();
      const listed: string[] = [];
      for (const e of item.entries) {
        const path = `${root}/${checked(e.path)}`;
        const parts = path.split('/');
        for (let i = 1; i < parts.length; i++) parents.add(parts.slice(0, i).join('/'));
        if (e.type === 'directory') listed.push(path);
        else {
          if (!e.open) throw usage(`${path} has no open()`);
          if (!Number.isSafeInteger(e.size) || (e.size ?? -1) < 0) throw usage(`${path}: a directory entry needs its exact size to be sent with sendFiles`);
          files.push({ path, size: e.size!, open: e.open, ...(e.mtimeMs !== undefined ? { mtimeMs: e.mtimeMs } : {}), ...(e.mode !== undefined ? { mode: e.mode } : {}) });
        }
      }
      // Only directories that hold nothing travel as entries; the rest come with their files.
      for (const d of listed) if (!parents.has(d)) dirs.push(d);
      if (item.entries.length === 0) dirs.push(root);
    } else {
      if (typeof item?.name !== 'string' || item.name === '') throw usage('each file needs a non-empty name');
      if (!Number.isSafeInteger(item.size) || item.size < 0) throw usage(`${item.name}: size must be a non-negative integer`);
      files.push({
        path: checked(item.path ?? item.name),
        size: item.size,
        open: opener(item),
        ...(item.mtimeMs !== undefined ? { mtimeMs: item.mtimeMs } : {}),
        ...(item.mode !== undefined ? { mode: item.mode } : {}),
      });
    }
  }
  if (files.length > FILES_LIMITS.maxFiles) throw usage(`at most ${FILES_LIMITS.maxFiles} files per offer`);
  const seen = new Set<string>();
  for (const p of [...files.map((f) => f.path), ...dirs]) {
    const key = p.normalize('NFC').toLowerCase();
    if (seen.has(key)) throw usage(`${p} is offered twice (paths must differ, and not only in case)`);
    seen.add(key);
  }
  return { files, directories: dirs };
}
