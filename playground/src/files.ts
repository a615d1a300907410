/** Turning what the user picked or dropped into Burrow's file and directory sources (one queue of send items). */
import type { DirectoryEntry, DirectorySource, FilesItem, SendItem } from '@burrow/client';

export function fileItem(f: File): FilesItem {
  return { name: f.name, size: f.size, mtimeMs: f.lastModified, stream: () => f.stream() };
}

function fileEntry(path: string, f: File): DirectoryEntry {
  return { path, type: 'file', size: f.size, mtimeMs: f.lastModified, open: () => f.stream() };
}

export const isDirectoryItem = (item: SendItem): item is DirectorySource => 'entries' in item;

/** Bytes of one queued item (a folder: the sum of its files). */
export function itemBytes(item: SendItem): number {
  return isDirectoryItem(item) ? item.entries.reduce((n, e) => n + (e.size ?? 0), 0) : item.size;
}

/**
 * Items from an <input type=file>: each picked file, or (with
 * webkitdirectory) one folder whose entries are relative to it.
 */
export function fromInput(files: FileList): SendItem[] {
  const list = [...files];
  if (list.length === 0) return [];
  if (!list[0]!.webkitRelativePath) return list.map(fileItem);
  const root = list[0]!.webkitRelativePath.split('/')[0]!;
  const strip = (p: string) => (p.startsWith(`${root}/`) ? p.slice(root.length + 1) : p);
  return [{ name: root, entries: list.map((f) => fileEntry(strip(f.webkitRelativePath || f.name), f)) }];
}

const readBatch = (reader: FileSystemDirectoryReader) => new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
const fileOf = (entry: FileSystemEntry) => new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));

/** Items from a drop: each dropped file, and each dropped folder (walked with the entries API). */
export async function fromDrop(data: DataTransfer): Promise<SendItem[]> {
  const entries = [...data.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => Boolean(e));
  const items: SendItem[] = [];
  for (const top of entries) {
    if (top.isFile) {
      items.push(fileItem(await fileOf(top)));
      continue;
    }
    const out: DirectoryEntry[] = [];
    const walk = async (dir: FileSystemDirectoryEntry, prefix: string): Promise<void> => {
      const reader = dir.createReader();
      for (let batch = await readBatch(reader); batch.length > 0; batch = await readBatch(reader)) {
        for (const child of batch) {
          const path = prefix ? `${prefix}/${child.name}` : child.name;
          if (child.isFile) out.push(fileEntry(path, await fileOf(child)));
          else {
            out.push({ path, type: 'directory' });
            await walk(child as FileSystemDirectoryEntry, path);
          }
        }
      }
    };
    await walk(top as FileSystemDirectoryEntry, '');
    items.push({ name: top.name, entries: out });
  }
  return items;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '…';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}
