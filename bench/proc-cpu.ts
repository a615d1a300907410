/**
 * CPU seconds (user + system) of a process tree, from /proc: what a page
 * transfer costs in Chromium's processes, the CLI peer and this process
 * (the gateway runs here), robust to a loaded machine where MB/s is not.
 *
 *   const before = cpuSnapshot();
 *   …
 *   const spent = cpuSpent(before, cpuSnapshot()); // { 'chromium renderer': 1.9, … }
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const HZ = 100;

interface Proc {
  readonly ppid: number;
  readonly group: string;
  readonly ticks: number;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Chromium rewrites its command line into one space-separated string.
    const type = /--type=([\w-]+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))?.[1];
    const group = comm === 'chromium' || comm.startsWith('chrom') ? `chromium ${type ?? 'browser'}` : comm;
    return { ppid: Number(f[1]), group, ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined; // gone
  }
}

/** Ticks per pid of this process and every descendant now alive. */
export function cpuSnapshot(root = process.pid): Map<number, Proc> {
  const all = new Map<number, Proc>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const p = readProc(Number(d));
    if (p) all.set(Number(d), p);
  }
  const out = new Map<number, Proc>();
  const walk = (pid: number) => {
    const p = all.get(pid);
    if (!p || out.has(pid)) return;
    out.set(pid, p);
    for (const [child, c] of all) if (c.ppid === pid) walk(child);
  };
  walk(root);
  return out;
}

/**
 * Seconds spent between two snapshots, per group (`chromium renderer`,
 * `chromium browser`, the CLI's process name, `node` for this one). A
 * process started after `before` counts whole; one gone by `after` is lost,
 * so take `after` while the processes of interest still run.
 */
export function cpuSpent(before: Map<number, Proc>, after: Map<number, Proc>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, p] of after) {
    const s = (p.ticks - (before.get(pid)?.ticks ?? 0)) / HZ;
    out[p.group] = (out[p.group] ?? 0) + s;
  }
  return out;
}
