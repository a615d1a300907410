/** Turning what the user picked or dropped into Burrow's file and directory sources. */
import type { DirectoryEntry, DirectorySource, FileSource } from '@burrow/client';

export type Picked = { kind: 'file'; source: FileSource } | { kind: 'directory'; source: DirectorySource; bytes: number };

export function fileSource(f: File): FileSource {
  return { name: f.name, size: f.size, stream: () => f.stream() };
}

function fileEntry(path: string, f: File): DirectoryEntry {
  return { path, type: 'file', size: f.size, mtimeMs: f.lastModified, open: () => f.stream() };
}

/** Files from an <input type=file> (with webkitdirectory, paths are relative to the chosen folder). */
export function fromInput(files: FileList): Picked | undefined {
  const list = [...files];
  if (list.length === 0) return undefined;
  const first = list[0]!;
  if (list.length === 1 && !first.webkitRelativePath) return { kind: 'file', source: fileSource(first) };
  const withPaths = list.map((f) => ({ path: f.webkitRelativePath || f.name, file: f }));
  const root = withPaths[0]!.path.includes('/') ? withPaths[0]!.path.split('/')[0]! : 'files';
  const strip = (p: string) => (p.startsWith(`${root}/`) ? p.slice(root.length + 1) : p);
  return directory(root, withPaths.map(({ path, file }) => fileEntry(strip(path), file)));
}

/** Files and folders from a drop, walking folders with the entries API. */
export async function fromDrop(data: DataTransfer): Promise<Picked | undefined> {
  const entries = [...data.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => Boolean(e));
  if (entries.length === 1 && entries[0]!.isFile) {
    const file = await new Promise<File>((res, rej) => (entries[0] as FileSystemFileEntry).file(res, rej));
    return { kind: 'file', source: fileSource(file) };
  }
  if (entries.length === 0) return undefined;
  const root = entries.length === 1 && entries[0]!.isDirectory ? entries[0]!.name : 'files';
  const out: DirectoryEntry[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      out.push(fileEntry(path, file));
      return;
    }
    out.push({ path, type: 'directory' });
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, path);
    }
  };
  if (entries.length === 1 && entries[0]!.isDirectory) {
    const reader = (entries[0] as FileSystemDirectoryEntry).createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, '');
    }
  } else {
    for (const e of entries) await walk(e, '');
  }
  return directory(root, out);
}

function directory(name: string, entries: DirectoryEntry[]): Picked {
  const bytes = entries.reduce((n, e) => n + (e.size ?? 0), 0);
  return { kind: 'directory', source: { name, entries }, bytes };
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
