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
import type { TransferProgress } from '@burrow/client';

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
