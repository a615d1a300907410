/**
 * An in-memory store: for tests, and for agents that should forget
 * everything when they stop.
 *
 *   const kv = memoryStore();
 */
import { checkKey, checkValue, type JsonValue, type KeyValueStore, type StoreCallOptions } from './kv.js';

export function memoryStore(): KeyValueStore {
  const data = new Map<string, string>();
  const watchers = new Set<(key: string) => void>();
  const notify = (key: string) => {
    for (const w of [...watchers]) w(key);
  };
  return {
    async get(key: string, options: StoreCallOptions = {}) {
      options.signal?.throwIfAborted();
      checkKey(key);
      const raw = data.get(key);
      return raw === undefined ? undefined : (JSON.parse(raw) as JsonValue);
    },
    async set(key: string, value: JsonValue, options: StoreCallOptions = {}) {
      options.signal?.throwIfAborted();
      checkKey(key);
      checkValue(value);
      data.set(key, JSON.stringify(value));
      notify(key);
    },
    async delete(key: string, options: StoreCallOptions = {}) {
      options.signal?.throwIfAborted();
      checkKey(key);
      if (data.delete(key)) notify(key);
    },
    async keys(prefix = '', options: StoreCallOptions = {}) {
      options.signal?.throwIfAborted();
      return [...data.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
    watch(onChange) {
      watchers.add(onChange);
      return () => void watchers.delete(onChange);
    },
  };
}
