/**
 * Who may connect: connection counts in total, per client address and per
 * prefix (IPv4 /24, IPv6 /64 as "address" and /48 as "prefix"; see
 * `addressScopes` in @burrow/protocol/server), for the mailbox and the relay
 * alike. `admit` asks, `charge` counts a connection that was accepted,
 * `hold` counts one that is not attached yet (a WebTransport session waiting
 * for its first stream) so waiting sessions cannot dodge the caps.
 */
import { CountBudget } from '@burrow/protocol/server';

export interface AdmissionLimits {
  /** Connections at once. */
  readonly maxConnections: number;
  /** Connections at once from one address (IPv6: one /64). */
  readonly maxConnectionsPerAddress: number;
  /** Connections at once from one prefix (IPv4 /24, IPv6 /48). */
  readonly maxConnectionsPerPrefix: number;
}

/** Why a connection was refused; `limit` names the bound (`connections.prefix` …) for logs and metrics. */
export type AdmitResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'server-full' | 'address-full' | 'prefix-full' | 'closed'; readonly limit: string };

export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #budget: CountBudget;
  readonly #addresses = new Map<string, number>();
  #total = 0;
  #closed = false;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
    this.#budget = new CountBudget({ perAddress: limits.maxConnectionsPerAddress, perPrefix: limits.maxConnectionsPerPrefix });
  }

  /** Refuse everyone from now on (shutting down). */
  close(): void {
    this.#closed = true;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether one more connection from `address` is allowed (nothing is counted). */
  admit(address: string): AdmitResult {
    if (this.#closed) return { ok: false, reason: 'closed', limit: 'shutdown' };
    if (this.#total >= this.#limits.maxConnections) return { ok: false, reason: 'server-full', limit: 'connections.total' };
    const over = this.#budget.check(address);
    if (over === 'address') return { ok: false, reason: 'address-full', limit: 'connections.address' };
    if (over === 'prefix') return { ok: false, reason: 'prefix-full', limit: 'connections.prefix' };
    return { ok: true };
  }

  /** Count a connection from `address` (admitted); returns its release, which is safe to call twice. */
  charge(address: string): () => void {
    this.#total++;
    this.#budget.force(address);
    this.#addresses.set(address, (this.#addresses.get(address) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      this.#budget.release(address);
      const n = (this.#addresses.get(address) ?? 1) - 1;
      if (n > 0) this.#addresses.set(address, n);
      else this.#addresses.delete(address);
    };
  }

  /** Connections counted now (attached and held). */
  get connections(): number {
    return this.#total;
  }

  /** Distinct client addresses with a connection. */
  get addresses(): number {
    return this.#addresses.size;
  }
}
