/**
 * How `burrow` shows a transfer on stderr: sizes like `humanize.naturalsize`,
 * and a progress bar with rate and ETA in the style of the `wormhole` CLI's
 * tqdm bar:
 *
 *    42%|############                  | 2.2 MB/5.2 MB [00:01<00:02, 1.9 MB/s]
 *
 * On a terminal the bar is redrawn in place; when stderr is a file or a pipe
 * only the final line is written, so logs get one line, not hundreds.
 */
import type { FilesProgress, FilesResult, TransferProgress, TransferResult } from '@burrow/client';

/** `52.4 MB`, like `humanize.naturalsize`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} Bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** `2.31 s (45.4 MB/s)` */
export function rate(r: { bytes: number; elapsedMs: number }): string {
  const s = r.elapsedMs / 1000;
  return `${s.toFixed(2)} s (${s > 0 ? (r.bytes / 1e6 / s).toFixed(1) : '∞'} MB/s)`;
}

/** `01:05`, `1:02:03`, or `?` when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

const WIDTH = 30;

/** One line of the bar: percentage, bar, bytes, elapsed<remaining and rate. */
export function progressLine(p: TransferProgress): string {
  const frac = p.total > 0 ? Math.min(1, p.bytes / p.total) : 1;
  const filled = Math.round(frac * WIDTH);
  const bar = `${'#'.repeat(filled)}${' '.repeat(WIDTH - filled)}`;
  const eta = p.done ? 0 : p.bytesPerSecond > 0 ? Math.max(0, p.total - p.bytes) / p.bytesPerSecond : Number.NaN;
  const speed = p.bytesPerSecond > 0 ? `${formatBytes(Math.round(p.bytesPerSecond))}/s` : '?/s';
  return `${String(Math.floor(frac * 100)).padStart(3)}%|${bar}| ${formatBytes(p.bytes)}/${formatBytes(p.total)} [${formatDuration(p.elapsedMs / 1000)}<${formatDuration(eta)}, ${speed}]`;
}

/** The progress callback for a transfer, or none with `--hide-progress`. */
export function progressBar(
  out: NodeJS.WritableStream & { isTTY?: boolean },
  hide: boolean | undefined,
): { onProgress?: (p: TransferProgress) => void } {
  if (hide) return {};
  if (!out.isTTY) {
    return {
      onProgress: (p) => {
        if (p.done) out.write(`${progressLine(p)}\n`);
      },
    };
  }
  // \r back to the start of the line, \x1b[K clears what a longer line left behind.
  return { onProgress: (p) => out.write(`\r${progressLine(p)}\x1b[K${p.done ? '\n' : ''}`) };
}

/** Where a command reports: `--json` lines on stdout, or people's text on stderr. */
export interface Reporter {
  readonly json: boolean;
  /** One JSON object on its own line (only with `--json`). */
  event(event: { event: string } & Record<string, unknown>): void;
  /** Progress for a transfer: JSON lines with `--json`, else the bar; none with `--hide-progress`. */
  progress(): { onProgress?: (p: TransferProgress & Partial<FilesProgress>) => void };
}

/** The reporter for `--json` / `--hide-progress`. */
export function reporter(io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream & { isTTY?: boolean } }, flags: { json?: boolean | undefined; 'hide-progress'?: boolean | undefined }): Reporter {
  const json = flags.json === true;
  const event = (e: { event: string } & Record<string, unknown>) => {
    if (json) io.stdout.write(`${JSON.stringify(e)}\n`);
  };
  return {
    json,
    event,
    progress: () => {
      if (!json) return progressBar(io.stderr, flags['hide-progress']);
      if (flags['hide-progress']) return {};
      return { onProgress: (p) => event(progressEvent(p)) };
    },
  };
}

/** `{"event":"progress","bytes":…,"total":…,…}`; files-v1 adds moved, files, filesDone and via. */
export function progressEvent(p: TransferProgress & Partial<FilesProgress>): { event: 'progress' } & Record<string, unknown> {
  return {
    event: 'progress',
    bytes: p.bytes,
    total: p.total,
    ...(p.moved !== undefined ? { moved: p.moved } : {}),
    ...(p.files !== undefined ? { files: p.files, filesDone: p.filesDone } : {}),
    bytesPerSecond: Math.round(p.bytesPerSecond),
    elapsedMs: Math.round(p.elapsedMs),
    ...(p.via !== undefined ? { via: p.via } : {}),
    done: p.done,
  };
}

/** The final `{"event":"done",…}` of a files-v1 transfer (see docs-site/guide/cli.md). */
export function filesDoneEvent(r: FilesResult): { event: 'done' } & Record<string, unknown> {
  return {
    event: 'done',
    via: r.via,
    connection: r.connection,
    bytes: r.bytes,
    moved: r.moved,
    elapsedMs: Math.round(r.elapsedMs),
    reconnects: r.reconnects,
    files: r.files.map((f) => ({ path: f.path, bytes: f.size, sha256: f.sha256, resumedFrom: f.resumedFrom })),
  };
}

/**
 * The final `{"event":"done",…}` of a Transit v1 transfer: one entry, the
 * file — or, for a directory, its zip (`path` ends in `/`, `zip: true`).
 */
export function transitDoneEvent(r: TransferResult, name: string, kind: 'file' | 'directory'): { event: 'done' } & Record<string, unknown> {
  const entry = kind === 'file' ? { path: name, bytes: r.bytes } : { path: `${name}/`, bytes: r.bytes, zip: true };
  return {
    event: 'done',
    via: r.via,
    connection: r.connection,
    bytes: r.bytes,
    moved: r.bytes,
    elapsedMs: Math.round(r.elapsedMs),
    files: [{ ...entry, sha256: r.sha256, resumedFrom: 0 }],
  };
}
