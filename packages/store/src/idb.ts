/**
 * The browser store: IndexedDB through idb-keyval. Opened lazily on first use
 * (nothing touches `indexedDB` at import or at creation), so it can be
 * created anywhere and used where IndexedDB exists: pages, extension pages
 * and extension service workers. Changes are announced to the other contexts
 * of the same origin (popup, service worker, tabs) over a BroadcastChannel.
 *
 *   const kv = idbStore({ database: 'burrow' });
 */
import { createStore, del, get, keys, set, type UseStore } from 'idb-keyval';
import { checkKey, checkValue, type JsonValue, type KeyValueStore, type StoreCallOptions } from './kv.js';

export interface IdbStoreOptions {
  /** IndexedDB database name (default `burrow`). */
  database?: string;
  /** Object store name inside it (default `kv`). */
  storeName?: string;
}

export function idbStore(options: IdbStoreOptions = {}): KeyValueStore {
  const database = options.database ?? 'burrow';
  const storeName = options.storeName ?? 'kv';
  let store: UseStore | undefined;
  const use = (): UseStore => (store ??= createStore(database, storeName));
  const channelName = `burrow-store:${database}/${storeName}`;
  const watchers = new Set<(key: string) => void>();
  let channel: BroadcastChannel | undefined;
  const notify = (key: string) => {
    for (const w of [...watchers]) w(key);
    if (typeof BroadcastChannel === 'function') {
      const out = new BroadcastChannel(channelName);
      out.postMessage(key);
      out.close();
    }
  };
  return {
    async get(key: string, opts: StoreCallOptions = {}) {
      opts.signal?.throwIfAborted();
      checkKey(key);
      return get<JsonValue>(key, use());
    },
    async set(key: string, value: JsonValue, opts: StoreCallOptions = {}) {
      opts.signal?.throwIfAborted();
      checkKey(key);
      checkValue(value);
      await set(key, value, use());
      notify(key);
    },
    async delete(key: string, opts: StoreCallOptions = {}) {
      opts.signal?.throwIfAborted();
      checkKey(key);
      await del(key, use());
      notify(key);
    },
    async keys(prefix = '', opts: StoreCallOptions = {}) {
      opts.signal?.throwIfAborted();
      const all = await keys<IDBValidKey>(use());
      return all.filter((k): k is string => typeof k === 'string' && k.startsWith(prefix)).sort();
    },
    watch(onChange) {
      watchers.add(onChange);
      if (!channel && typeof BroadcastChannel === 'function') {
        channel = new BroadcastChannel(channelName);
        channel.addEventListener('message', (ev: MessageEvent) => {
          if (typeof ev.data === 'string') for (const w of [...watchers]) w(ev.data);
        });
      }
      return () => {
        watchers.delete(onChange);
        if (watchers.size === 0) {
          channel?.close();
          channel = undefined;
        }
      };
    },
  };
}
