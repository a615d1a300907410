/**
 * The Node store: one JSON file per key in a private directory (mode 0700,
 * files 0600), written atomically (temp file, fsync, rename). Reads go to
 * disk every time, so several processes sharing the directory (a running
 * agent and `burrow agent revoke`) see each other's changes; `watch` reports
 * them as they happen.
 *
 *   import { fileStore } from '@burrow/store/file';
 *   const kv = fileStore('/home/me/.local/state/burrow/agent');
 */
import { randomBytes } from 'node:crypto';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { chmod, mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkKey, checkValue, type JsonValue, type KeyValueStore, type StoreCallOptions } from './kv.js';

const SUFFIX = '.json';
const TEMP_PREFIX = '.tmp-';

/** Key → file name: every character outside [A-Za-z0-9_-] becomes %XX (so `.`, `/` and `..` are harmless). */
function fileName(key: string): string {
  return key.replace(/[^A-Za-z0-9_-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`) + SUFFIX;
}

function keyOf(name: string): string | undefined {
  if (!name.endsWith(SUFFIX) || name.startsWith(TEMP_PREFIX)) return undefined;
  try {
    return decodeURIComponent(name.slice(0, -SUFFIX.length));
  } catch {
    return undefined;
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export function fileStore(dir: string): KeyValueStore {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('dir must be a non-empty path');
  let ready: Promise<void> | undefined;
  const ensureDir = () =>
    (ready ??= mkdir(dir, { recursive: true, mode: 0o700 }).then(
      () => chmod(dir, 0o700),
      (err: unknown) => {
        ready = undefined;
        throw err;
      },
    ));
  return {
    async get(key: string, options: StoreCallOptions = {}) {
      options.signal?.throwIfAborted();
      checkKey(key);
      let text: string;
      try {
        text = await readFile(join(dir, fileName(key)), 'utf8');
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
      try {
        return JSON.parse(text) as JsonValue;
      } catch (cause) {
        throw new Error(`store file for key '${key}' in ${dir} is not valid JSON`, { cause });
      }
    },
    async set(key: string, value: JsonValue, options: StoreCallOptions = {}) {
      options.signal?.throwIfAborted();
      checkKey(key);
      checkValue(value);
      await ensureDir();
      const temp = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(value));
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await rename(temp, join(dir, fileName(key)));
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    },
    async delete(key: string, options: StoreCallOptions = {}) {
      options.signal?.throwIfAborted();
      checkKey(key);
      await rm(join(dir, fileName(key)), { force: true });
    },
    async keys(prefix = '', options: StoreCallOptions = {}) {
      options.signal?.throwIfAborted();
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if (isMissing(err)) return [];
        throw err;
      }
      return names
        .map(keyOf)
        .filter((k): k is string => k !== undefined && k.startsWith(prefix))
        .sort();
    },
    watch(onChange) {
      let watcher: FSWatcher | undefined;
      let stopped = false;
      // fs.watch can miss a change (and starts only once the directory exists): a slow
      // poll of the files' sizes and mtimes reports what it missed, at most a poll late.
      const seen = new Map<string, string>();
      let first = true;
      const poll = async () => {
        const names = await readdir(dir).catch(() => [] as string[]);
        const now = new Map<string, string>();
        for (const name of names) {
          const key = keyOf(name);
          if (key === undefined) continue;
          const st = await stat(join(dir, name)).catch(() => undefined);
          if (st) now.set(key, `${st.size}:${st.mtimeMs}`);
        }
        if (stopped) return;
        if (!first) {
          for (const [key, mark] of now) if (seen.get(key) !== mark) onChange(key);
          for (const key of seen.keys()) if (!now.has(key)) onChange(key);
        }
        first = false;
        seen.clear();
        for (const [key, mark] of now) seen.set(key, mark);
      };
      let polling = poll().catch(() => undefined);
      const timer = setInterval(() => {
        polling = polling.then(poll).catch(() => undefined);
      }, 2_000);
      timer.unref?.();
      void ensureDir().then(
        () => {
          if (stopped) return;
          watcher = fsWatch(dir, { persistent: false }, (_event, name) => {
            const key = typeof name === 'string' ? keyOf(name) : undefined;
            if (key !== undefined) onChange(key);
          });
          watcher.on('error', () => watcher?.close());
        },
        () => {
          /* no directory, no watcher: the next set() reports why */
        },
      );
      return () => {
        stopped = true;
        clearInterval(timer);
        watcher?.close();
      };
    },
  };
}
