/**
 * The key-value contract every Burrow store honours (IndexedDB through
 * idb-keyval in browsers, a directory of files in Node, memory in tests),
 * checked by one compliance suite (packages/store/test/compliance.ts).
 *
 *   const kv = memoryStore();
 *   await kv.set('identity', { id: 'ab12…' });
 *   const value = await kv.get('identity');
 *
 * Values are JSON values: every store can keep them, and what comes back is
 * a copy (mutating it changes nothing stored).
 */

/** What a store can keep. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface StoreCallOptions {
  signal?: AbortSignal;
}

export interface KeyValueStore {
  /** The value under `key`, or `undefined`. */
  get(key: string, options?: StoreCallOptions): Promise<JsonValue | undefined>;
  /** Store `value` under `key` (replacing what was there). Resolves once it is durable. */
  set(key: string, value: JsonValue, options?: StoreCallOptions): Promise<void>;
  /** Remove `key`; removing a missing key is not an error. */
  delete(key: string, options?: StoreCallOptions): Promise<void>;
  /** Every key, or those starting with `prefix`, sorted. */
  keys(prefix?: string, options?: StoreCallOptions): Promise<string[]>;
  /**
   * Optional: called with a key whenever it may have changed, including by
   * another process or tab sharing the same storage. Returns an unsubscribe
   * function. Stores that cannot observe outside writers notify only their own.
   */
  watch?(onChange: (key: string) => void): () => void;
}

/** Longest key any store accepts (a file store turns keys into file names). */
export const MAX_KEY_LENGTH = 80;

const KEY_RE = /^[\x21-\x7e]+$/;

/** Check a key: 1 to {@link MAX_KEY_LENGTH} printable ASCII characters, no spaces. */
export function checkKey(key: unknown): asserts key is string {
  if (typeof key !== 'string') throw new TypeError('key must be a string');
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw new RangeError(`key must be 1 to ${MAX_KEY_LENGTH} characters`);
  if (!KEY_RE.test(key)) throw new RangeError('key must be printable ASCII without spaces');
}

/** Check that `value` is a JSON value (no undefined, functions, bytes, cycles, non-finite numbers). */
export function checkValue(value: unknown, path = 'value', seen = new Set<object>()): asserts value is JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${path} must be a finite number`);
    return;
  }
  if (typeof value !== 'object') throw new TypeError(`${path} must be a JSON value, got ${typeof value}`);
  if (seen.has(value)) throw new TypeError(`${path} is circular`);
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkValue(v, `${path}[${i}]`, seen));
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new TypeError(`${path} must be a plain object or array`);
    for (const [k, v] of Object.entries(value)) checkValue(v, `${path}.${k}`, seen);
  }
  seen.delete(value);
}
