/**
 * @burrow/protocol is sans-I/O: it imports nothing but @noble/* and its own
 * files, and touches no platform global at import time. The second half loads
 * every entry point in a Node process whose platform globals are gone, so a
 * top-level `new TextEncoder()` or `crypto.getRandomValues` fails the test.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const src = join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier in `text`: static imports/exports and dynamic imports. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]/gms)) found.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

describe('protocol is sans-I/O', () => {
  it('imports only @noble/* and its own files', () => {
    const offenders: string[] = [];
    const files = sources(src);
    expect(files.length).toBeGreaterThan(40);
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('@noble/')) continue;
        offenders.push(`${relative(root, file)}: ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('loads every entry point with no platform globals present', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { source: string }> };
    const entries = Object.values(pkg.exports).map((e) => join(root, e.source));
    expect(entries.length).toBeGreaterThanOrEqual(5);
    const gone = ['TextEncoder', 'TextDecoder', 'crypto', 'setTimeout', 'setInterval', 'queueMicrotask', 'WebSocket', 'fetch', 'AbortSignal', 'AbortController', 'performance', 'navigator'];
    const script = `
      for (const name of ${JSON.stringify(gone)}) {
        Object.defineProperty(globalThis, name, { get() { throw new Error('touched the global ' + name + ' at import'); }, configurable: true });
      }
      const loaded = [];
      for (const entry of ${JSON.stringify(entries)}) loaded.push(Object.keys(await import(entry)).length);
      console.log(JSON.stringify(loaded));
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(result.stderr).not.toMatch(/touched the global/);
    expect(result.status).toBe(0);
    const counts = JSON.parse(result.stdout.trim()) as number[];
    expect(counts).toHaveLength(entries.length);
    for (const n of counts) expect(n).toBeGreaterThan(0);
  });
});
