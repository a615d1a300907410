/**
 * Pairing records: who we are paired with and the long-term secret we share
 * with them. The record's format is `@burrow/protocol/agent` pairing-record;
 * this module keeps records under `pairing/<id>` in a key-value store and
 * applies the rules for changing them. The secret lives only inside the
 * store; everything this module returns to callers ({@link PairingInfo})
 * leaves it out, except {@link Pairings.secret}, which the agent and its
 * clients call to authenticate. Revoking deletes the secret and keeps a
 * tombstone, so a revoked peer is told "revoked" rather than "unknown".
 *
 *   const pairings = new Pairings(kv);
 *   for (const p of await pairings.list()) console.log(p.name, p.id);
 *   await pairings.rename(id, 'Work laptop');
 *   await pairings.revoke(id);
 */
import { WormholeError, fromHex, type RandomSource } from '@burrow/protocol';
import {
  IDENTITY_RE,
  checkIdentity,
  cleanName,
  encodePairingRecord,
  newIdentityRecord,
  newPairingRecord,
  pairingInfo,
  parseIdentityRecord,
  parsePairingRecord,
  revokedPairingRecord,
  type NewPairing,
  type PairingInfo,
  type PairingRecord,
} from '@burrow/protocol/agent';
import { checkValue, type KeyValueStore, type StoreCallOptions } from './kv.js';

export { IDENTITY_RE, MAX_NAME_LENGTH, cleanName } from '@burrow/protocol/agent';
export type { NewPairing, PairingInfo, PeerRole } from '@burrow/protocol/agent';

const PREFIX = 'pairing/';
const IDENTITY_KEY = 'identity';

export interface PairingsOptions {
  /** Clock for timestamps (default `Date.now`). */
  now?: () => number;
}

export class Pairings {
  readonly #kv: KeyValueStore;
  readonly #now: () => number;

  constructor(kv: KeyValueStore, options: PairingsOptions = {}) {
    if (!kv || typeof kv.get !== 'function') throw new TypeError('kv must be a KeyValueStore');
    this.#kv = kv;
    this.#now = options.now ?? Date.now;
  }

  /** Every pairing (revoked ones too, marked `revokedAt`), oldest first. */
  async list(options: StoreCallOptions = {}): Promise<PairingInfo[]> {
    const keys = await this.#kv.keys(PREFIX, options);
    const all: PairingInfo[] = [];
    for (const key of keys) {
      const stored = parsePairingRecord(await this.#kv.get(key, options));
      if (stored) all.push(pairingInfo(stored));
    }
    return all.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** One pairing, or `undefined`. */
  async get(id: string, options: StoreCallOptions = {}): Promise<PairingInfo | undefined> {
    checkIdentity(id);
    const stored = await this.#read(id, options);
    return stored && pairingInfo(stored);
  }

  /** Record a new pairing (replacing any earlier one with the same peer). */
  async add(pairing: NewPairing, secret: Uint8Array, options: StoreCallOptions = {}): Promise<PairingInfo> {
    const stored = newPairingRecord(pairing, secret, this.#now());
    await this.#write(stored, options);
    return pairingInfo(stored);
  }

  /** Give a pairing a new name; `undefined` if there is no such pairing. */
  async rename(id: string, name: string, options: StoreCallOptions = {}): Promise<PairingInfo | undefined> {
    checkIdentity(id);
    const clean = cleanName(name);
    const stored = await this.#read(id, options);
    if (!stored) return undefined;
    const next = { ...stored, name: clean };
    await this.#write(next, options);
    return pairingInfo(next);
  }

  /**
   * Revoke a pairing: its secret is deleted now and the peer is refused from
   * then on (an agent also drops its open connections). `false` if unknown.
   */
  async revoke(id: string, options: StoreCallOptions = {}): Promise<boolean> {
    checkIdentity(id);
    const stored = await this.#read(id, options);
    if (!stored) return false;
    await this.#write(revokedPairingRecord(stored, this.#now()), options);
    return true;
  }

  /** Forget a pairing entirely (no tombstone). `false` if unknown. */
  async remove(id: string, options: StoreCallOptions = {}): Promise<boolean> {
    checkIdentity(id);
    const existed = (await this.#read(id, options)) !== undefined;
    await this.#kv.delete(PREFIX + id, options);
    return existed;
  }

  /** Note a successful authentication. */
  async touch(id: string, options: StoreCallOptions = {}): Promise<void> {
    checkIdentity(id);
    const stored = await this.#read(id, options);
    if (stored && stored.revokedAt === undefined) await this.#write({ ...stored, lastSeenAt: this.#now() }, options);
  }

  /**
   * The shared secret, for authentication only: `undefined` when there is no
   * such pairing or it was revoked. Never log or display it.
   */
  async secret(id: string, options: StoreCallOptions = {}): Promise<Uint8Array | undefined> {
    checkIdentity(id);
    const stored = await this.#read(id, options);
    return stored?.secret !== undefined && stored.revokedAt === undefined ? fromHex(stored.secret) : undefined;
  }

  /**
   * A revoked client's notice key and when it was revoked (the agent tells
   * the client with it, see `@burrow/protocol/agent` revocation-notice), or
   * `undefined`: not revoked, not a client, or already told.
   */
  async notice(id: string, options: StoreCallOptions = {}): Promise<{ readonly key: Uint8Array; readonly revokedAt: number } | undefined> {
    checkIdentity(id);
    const stored = await this.#read(id, options);
    return stored?.notice !== undefined && stored.revokedAt !== undefined ? { key: fromHex(stored.notice), revokedAt: stored.revokedAt } : undefined;
  }

  /** The revoked client was told: forget its notice key. */
  async noticeDelivered(id: string, options: StoreCallOptions = {}): Promise<void> {
    checkIdentity(id);
    const stored = await this.#read(id, options);
    if (stored?.notice === undefined) return;
    const { notice: _notice, ...rest } = stored;
    await this.#write(rest, options);
  }

  /**
   * Be told when a pairing may have changed (added, renamed, revoked, removed),
   * also by another process or context sharing the store, where the store can
   * see that. Returns an unsubscribe function; a no-op for stores without `watch`.
   */
  watch(onChange: (id: string) => void): () => void {
    if (!this.#kv.watch) return () => {
      /* nothing to unsubscribe */
    };
    return this.#kv.watch((key) => {
      if (key.startsWith(PREFIX) && IDENTITY_RE.test(key.slice(PREFIX.length))) onChange(key.slice(PREFIX.length));
    });
  }

  async #read(id: string, options: StoreCallOptions): Promise<PairingRecord | undefined> {
    return parsePairingRecord(await this.#kv.get(PREFIX + id, options));
  }

  async #write(stored: PairingRecord, options: StoreCallOptions): Promise<void> {
    const value = encodePairingRecord(stored);
    checkValue(value);
    await this.#kv.set(PREFIX + stored.id, value, options);
  }
}

/**
 * Web Crypto's `getRandomValues`, looked up when called. The store cannot
 * import the client's `systemRandom`; callers that can (the agent and its
 * client) pass that instead.
 */
const webCryptoRandom: RandomSource = (length) => {
  const crypto = (globalThis as { crypto?: { getRandomValues<T extends ArrayBufferView>(a: T): T } }).crypto;
  if (!crypto?.getRandomValues) throw new WormholeError('Usage', 'no Web Crypto here: pass options.random to loadIdentity');
  return crypto.getRandomValues(new Uint8Array(length));
};

/**
 * This installation's identity (created on first use): 16 random bytes as
 * hex, from `options.random` (default Web Crypto; a clear `Usage` error
 * where there is none).
 */
export async function loadIdentity(kv: KeyValueStore, options: StoreCallOptions & { random?: RandomSource } = {}): Promise<string> {
  const existing = parseIdentityRecord(await kv.get(IDENTITY_KEY, options));
  if (existing !== undefined) return existing;
  const record = newIdentityRecord(options.random ?? webCryptoRandom);
  await kv.set(IDENTITY_KEY, { id: record.id }, options);
  return record.id;
}
