/**
 * Fair shares, sans I/O: budgets charged to a client's address *and* to the
 * network prefix it comes from, so one host cannot take everything and
 * neither can one network (one IPv4 /24, one IPv6 site).
 *
 * Scopes (see {@link addressScopes}):
 * - IPv4: the address itself ("address"), and its /24 ("prefix").
 * - IPv6: the /64 ("address": one host or LAN gets 2^64 addresses, so any
 *   finer budget is free to dodge), and the /48 ("prefix", one site).
 * - Anything else (a test transport's "memory-3"): the string, as "address".
 *
 * Two kinds: {@link CountBudget} for things held (connections, allocations,
 * stored characters; charge on create, release on delete) and
 * {@link RateBudget} for things per second (frames), as token buckets on a
 * clock the caller passes in.
 */

/** Which scope ran out: the client's own address, or the prefix it shares. */
export type BudgetScope = 'address' | 'prefix';

/** Limits for one budget: per address (IPv6: per /64) and per prefix (IPv4 /24, IPv6 /48). */
export interface ScopeLimits {
  readonly perAddress: number;
  readonly perPrefix: number;
}

/** The keys a client's address is charged under, finest first: `[address]` or `[address, prefix]`. */
export function addressScopes(address: string): readonly string[] {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) return [address, `${v4[1]}.${v4[2]}.${v4[3]}.0/24`];
  const groups = ipv6Groups(address);
  if (!groups) return [address];
  const hex = groups.map((g) => g.toString(16));
  return [`${hex.slice(0, 4).join(':')}::/64`, `${hex.slice(0, 3).join(':')}::/48`];
}

/** The eight 16-bit groups of an IPv6 address (zone and embedded IPv4 allowed), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  if (!address.includes(':') || address.length > 64) return undefined;
  let text = address.replace(/%.*$/, '');
  const v4tail = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4tail) {
    const [a, b, c, d] = v4tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  return [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
}

function limitFor(limits: ScopeLimits, level: number): number {
  return level === 0 ? limits.perAddress : limits.perPrefix;
}

/**
 * Amounts held, per address and per prefix.
 *
 * @example
 *   const conns = new CountBudget({ perAddress: 2, perPrefix: 3 });
 *   conns.charge('192.0.2.1');           // undefined: charged
 *   conns.charge('192.0.2.1');
 *   conns.charge('192.0.2.1');           // 'address': refused, nothing charged
 *   conns.release('192.0.2.1');
 */
export class CountBudget {
  readonly #limits: ScopeLimits;
  readonly #held = new Map<string, number>();

  constructor(limits: ScopeLimits) {
    this.#limits = limits;
  }

  /** The scope `amount` more would overflow, or undefined if it fits. */
  check(address: string, amount = 1): BudgetScope | undefined {
    const scopes = addressScopes(address);
    for (let i = 0; i < scopes.length; i++) {
      if ((this.#held.get(scopes[i]!) ?? 0) + amount > limitFor(this.#limits, i)) return i === 0 ? 'address' : 'prefix';
    }
    return undefined;
  }

  /** Charge `amount` if it fits; returns the scope that refused it otherwise (and charges nothing). */
  charge(address: string, amount = 1): BudgetScope | undefined {
    const over = this.check(address, amount);
    if (over === undefined) this.force(address, amount);
    return over;
  }

  /** Charge without checking (things restored, or already admitted). */
  force(address: string, amount = 1): void {
    for (const key of addressScopes(address)) this.#held.set(key, (this.#held.get(key) ?? 0) + amount);
  }

  /** Give back what {@link charge} or {@link force} took. */
  release(address: string, amount = 1): void {
    for (const key of addressScopes(address)) {
      const n = (this.#held.get(key) ?? 0) - amount;
      if (n > 0) this.#held.set(key, n);
      else this.#held.delete(key);
    }
  }

  /** What `address` itself holds. */
  held(address: string): number {
    return this.#held.get(addressScopes(address)[0]!) ?? 0;
  }

  /** Addresses and prefixes holding something. */
  get keys(): number {
    return this.#held.size;
  }
}

/** Token-bucket limits per scope: a sustained rate and a burst. */
export interface RateLimits {
  /** Per second, sustained, per address (IPv6: per /64). */
  readonly perAddress: number;
  /** Per second, sustained, per prefix (IPv4 /24, IPv6 /48). */
  readonly perPrefix: number;
  /** How many seconds of the rate may arrive at once (bucket size = rate × burstSeconds). */
  readonly burstSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Events per second, per address and per prefix, as token buckets. Time is
 * passed in (ms). Full buckets are forgotten by {@link sweep}, so memory
 * follows the active senders.
 *
 * @example
 *   const frames = new RateBudget({ perAddress: 50, perPrefix: 200, burstSeconds: 4 });
 *   frames.take('192.0.2.1', now);   // undefined while within budget, else 'address' or 'prefix'
 */
export class RateBudget {
  readonly #limits: RateLimits;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limits: RateLimits) {
    this.#limits = limits;
  }

  /** Take `n` tokens from every scope of `address`; the scope that ran dry, or undefined. */
  take(address: string, now: number, n = 1): BudgetScope | undefined {
    const scopes = addressScopes(address);
    const buckets: Bucket[] = [];
    for (let i = 0; i < scopes.length; i++) {
      const rate = limitFor(this.#limits, i);
      const size = rate * this.#limits.burstSeconds;
      let b = this.#buckets.get(scopes[i]!);
      if (!b) {
        b = { tokens: size, at: now };
        this.#buckets.set(scopes[i]!, b);
      } else {
        b.tokens = Math.min(size, b.tokens + (Math.max(0, now - b.at) * rate) / 1000);
        b.at = now;
      }
      if (b.tokens < n) return i === 0 ? 'address' : 'prefix';
      buckets.push(b);
    }
    for (const b of buckets) b.tokens -= n;
    return undefined;
  }

  /** Forget buckets that would be full by `now` (nothing to remember about them). */
  sweep(now: number): void {
    // Any bucket refills from empty in burstSeconds.
    const refill = this.#limits.burstSeconds * 1000;
    for (const [key, b] of this.#buckets) if (now - b.at >= refill) this.#buckets.delete(key);
  }

  /** Buckets remembered. */
  get size(): number {
    return this.#buckets.size;
  }
}
