/**
 * Pairing records: who we are paired with and the long-term secret we share
 * with them. The secret lives only inside the store; everything this module
 * returns to callers ({@link PairingInfo}) leaves it out, except
 * {@link Pairings.secret}, which the agent and its clients call to
 * authenticate. Revoking deletes the secret and keeps a tombstone, so a
 * revoked peer is told "revoked" rather than "unknown".
 *
 *   const pairings = new Pairings(kv);
 *   for (const p of await pairings.list()) console.log(p.name, p.id);
 *   await pairings.rename(id, 'Work laptop');
 *   await pairings.revoke(id);
 */
import { checkValue, type JsonValue, type KeyValueStore, type StoreCallOptions } from './kv.js';

/** What the peer is: an agent (seen from a client) or a client (seen from an agent). */
export type PeerRole = 'agent' | 'client';

/** A pairing as callers see it: never the secret. */
export interface PairingInfo {
  /** The peer's identity: 32 lowercase hex characters. */
  readonly id: string;
  /** A label for people; renameable. */
  readonly name: string;
  readonly peerRole: PeerRole;
  /** When the pairing was made (ms since the epoch). */
  readonly createdAt: number;
  /** Last successful authentication (ms since the epoch). */
  readonly lastSeenAt?: number;
  /** Set once revoked: the secret is gone and the peer is refused. */
  readonly revokedAt?: number;
  /** The client's origin as it declared it at pairing (e.g. `chrome-extension://…`); the agent insists on it. */
  readonly origin?: string;
  /** Where the agent listens (e.g. `ws://127.0.0.1:4100/`), as the agent said at pairing. */
  readonly endpoint?: string;
}

/** Identities are 16 random bytes in hex. */
export const IDENTITY_RE = /^[0-9a-f]{32}$/;
/** Longest pairing name. */
export const MAX_NAME_LENGTH = 100;
const SECRET_RE = /^[0-9a-f]{64}$/;
const PREFIX = 'pairing/';
const IDENTITY_KEY = 'identity';

function checkId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !IDENTITY_RE.test(id)) throw new TypeError('id must be 32 lowercase hex characters');
}

/** Trim and bound a name; throws a TypeError naming the argument. */
export function cleanName(name: unknown): string {
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  const trimmed = name.trim().replace(/\s+/g, ' ');
  if (trimmed.length === 0 || trimmed.length > MAX_NAME_LENGTH) throw new RangeError(`name must be 1 to ${MAX_NAME_LENGTH} characters`);
  return trimmed;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function unhex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

type Stored = PairingInfo & { readonly secret?: string };

function parseStored(value: JsonValue | undefined): Stored | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = value as Record<string, JsonValue>;
  if (typeof v['id'] !== 'string' || !IDENTITY_RE.test(v['id'])) return undefined;
  if (typeof v['name'] !== 'string' || (v['peerRole'] !== 'agent' && v['peerRole'] !== 'client') || typeof v['createdAt'] !== 'number') return undefined;
  return {
    id: v['id'],
    name: v['name'],
    peerRole: v['peerRole'],
    createdAt: v['createdAt'],
    ...(typeof v['lastSeenAt'] === 'number' ? { lastSeenAt: v['lastSeenAt'] } : {}),
    ...(typeof v['revokedAt'] === 'number' ? { revokedAt: v['revokedAt'] } : {}),
    ...(typeof v['origin'] === 'string' ? { origin: v['origin'] } : {}),
    ...(typeof v['endpoint'] === 'string' ? { endpoint: v['endpoint'] } : {}),
    ...(typeof v['secret'] === 'string' && SECRET_RE.test(v['secret']) ? { secret: v['secret'] } : {}),
  };
}

function info(stored: Stored): PairingInfo {
  const { secret: _secret, ...rest } = stored;
  return rest;
}

export interface NewPairing {
  readonly id: string;
  readonly name: string;
  readonly peerRole: PeerRole;
  readonly origin?: string;
  readonly endpoint?: string;
}

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
      const stored = parseStored(await this.#kv.get(key, options));
      if (stored) all.push(info(stored));
    }
    return all.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** One pairing, or `undefined`. */
  async get(id: string, options: StoreCallOptions = {}): Promise<PairingInfo | undefined> {
    checkId(id);
    const stored = await this.#read(id, options);
    return stored && info(stored);
  }

  /** Record a new pairing (replacing any earlier one with the same peer). */
  async add(pairing: NewPairing, secret: Uint8Array, options: StoreCallOptions = {}): Promise<PairingInfo> {
    checkId(pairing.id);
    if (pairing.peerRole !== 'agent' && pairing.peerRole !== 'client') throw new TypeError('peerRole must be "agent" or "client"');
    if (!(secret instanceof Uint8Array) || secret.length !== 32) throw new RangeError('secret must be 32 bytes');
    const stored: Stored = {
      id: pairing.id,
      name: cleanName(pairing.name),
      peerRole: pairing.peerRole,
      createdAt: this.#now(),
      ...(pairing.origin !== undefined ? { origin: String(pairing.origin) } : {}),
      ...(pairing.endpoint !== undefined ? { endpoint: String(pairing.endpoint) } : {}),
      secret: hex(secret),
    };
    await this.#write(stored, options);
    return info(stored);
  }

  /** Give a pairing a new name; `undefined` if there is no such pairing. */
  async rename(id: string, name: string, options: StoreCallOptions = {}): Promise<PairingInfo | undefined> {
    checkId(id);
    const clean = cleanName(name);
    const stored = await this.#read(id, options);
    if (!stored) return undefined;
    const next = { ...stored, name: clean };
    await this.#write(next, options);
    return info(next);
  }

  /**
   * Revoke a pairing: its secret is deleted now and the peer is refused from
   * then on (an agent also drops its open connections). `false` if unknown.
   */
  async revoke(id: string, options: StoreCallOptions = {}): Promise<boolean> {
    checkId(id);
    const stored = await this.#read(id, options);
    if (!stored) return false;
    const { secret: _secret, ...rest } = stored;
    await this.#write({ ...rest, revokedAt: stored.revokedAt ?? this.#now() }, options);
    return true;
  }

  /** Forget a pairing entirely (no tombstone). `false` if unknown. */
  async remove(id: string, options: StoreCallOptions = {}): Promise<boolean> {
    checkId(id);
    const existed = (await this.#read(id, options)) !== undefined;
    await this.#kv.delete(PREFIX + id, options);
    return existed;
  }

  /** Note a successful authentication. */
  async touch(id: string, options: StoreCallOptions = {}): Promise<void> {
    checkId(id);
    const stored = await this.#read(id, options);
    if (stored && stored.revokedAt === undefined) await this.#write({ ...stored, lastSeenAt: this.#now() }, options);
  }

  /**
   * The shared secret, for authentication only: `undefined` when there is no
   * such pairing or it was revoked. Never log or display it.
   */
  async secret(id: string, options: StoreCallOptions = {}): Promise<Uint8Array | undefined> {
    checkId(id);
    const stored = await this.#read(id, options);
    return stored?.secret !== undefined && stored.revokedAt === undefined ? unhex(stored.secret) : undefined;
  }

  /**
   * Be told when a pairing may have changed (added, renamed, revoked, removed),
   * also by another process or context sharing the store, where the store can
   * see that. Returns an unsubscribe function; a no-op for stores without `watch`.
   */
  watch(onChange: (id: string) => void): () => void {
    if (!this.#kv.watch) return () => {};
    return this.#kv.watch((key) => {
      if (key.startsWith(PREFIX) && IDENTITY_RE.test(key.slice(PREFIX.length))) onChange(key.slice(PREFIX.length));
    });
  }

  async #read(id: string, options: StoreCallOptions): Promise<Stored | undefined> {
    return parseStored(await this.#kv.get(PREFIX + id, options));
  }

  async #write(stored: Stored, options: StoreCallOptions): Promise<void> {
    const value = JSON.parse(JSON.stringify(stored)) as JsonValue;
    checkValue(value);
    await this.#kv.set(PREFIX + stored.id, value, options);
  }
}

/** This installation's identity (created on first use): 16 random bytes as hex. */
export async function loadIdentity(
  kv: KeyValueStore,
  options: StoreCallOptions & { random?: (n: number) => Uint8Array } = {},
): Promise<string> {
  const existing = await kv.get(IDENTITY_KEY, options);
  if (existing !== null && typeof existing === 'object' && !Array.isArray(existing)) {
    const id = (existing as Record<string, JsonValue>)['id'];
    if (typeof id === 'string' && IDENTITY_RE.test(id)) return id;
  }
  const random = options.random ?? ((n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n)));
  const id = hex(random(16));
  await kv.set(IDENTITY_KEY, { id }, options);
  return id;
}
