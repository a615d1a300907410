/**
 * The agent's allowlists, as pure checks: which origins may open its
 * WebSocket, which Host values are really the agent (anything else is a
 * DNS-rebinding attempt), and which `host:port` destinations it forwards to.
 * Every check returns a refusal with a sentence for people, or `undefined`.
 */
import { WormholeError } from '@burrow/protocol';

export type RefusalReason = 'origin' | 'host' | 'unpaired' | 'revoked' | 'proof' | 'destination' | 'limit' | 'protocol';

export interface Refusal {
  readonly reason: RefusalReason;
  /** A sentence naming what was refused and why. Never contains a secret. */
  readonly message: string;
}

/** Normalise an origin for comparison: `scheme://host[:port]`, lower-case. Throws `Usage` on anything else. */
export function normalizeOrigin(origin: string): string {
  if (typeof origin !== 'string') throw new TypeError('origin must be a string');
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#\s]+)\/?$/i.exec(origin.trim());
  if (!m) throw new WormholeError('Usage', `'${origin}' is not an origin (expected e.g. chrome-extension://<id> or https://example.com)`);
  return `${m[1]!.toLowerCase()}://${m[2]!.toLowerCase()}`;
}

export interface Destination {
  readonly host: string;
  readonly port: number;
  /** `host:port` (IPv6 in brackets), lower-case: the form allowlists match on. */
  readonly key: string;
}

/** Parse `host:port` (`[::1]:8080` for IPv6). Throws `Usage` with the reason. */
export function parseDestination(text: string): Destination {
  if (typeof text !== 'string') throw new TypeError('destination must be a string');
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+)):(\d{1,5})$/i.exec(text.trim());
  if (!m) throw new WormholeError('Usage', `'${text.slice(0, 100)}' is not host:port`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new WormholeError('Usage', `port ${port} is out of range`);
  const host = (m[1] ?? m[2]!).toLowerCase().replace(/\.$/, '');
  if (host.length === 0 || host.length > 253) throw new WormholeError('Usage', 'bad host name');
  return { host, port, key: `${m[1] !== undefined ? `[${host}]` : host}:${port}` };
}

export class Policy {
  readonly #origins: ReadonlySet<string>;
  readonly #forward: ReadonlyMap<string, Destination>;
  #hosts: ReadonlySet<string> = new Set();

  constructor(allowOrigins: readonly string[], allowForward: readonly string[]) {
    this.#origins = new Set(allowOrigins.map(normalizeOrigin));
    this.#forward = new Map(allowForward.map((d) => {
      const dest = parseDestination(d);
      return [dest.key, dest] as const;
    }));
  }

  /** Once the port is known: the Host values that name this agent. */
  setPort(port: number): void {
    this.#hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  }

  get origins(): string[] {
    return [...this.#origins];
  }

  get destinations(): string[] {
    return [...this.#forward.keys()];
  }

  checkHost(host: string | undefined): Refusal | undefined {
    if (host !== undefined && this.#hosts.has(host.toLowerCase())) return undefined;
    return {
      reason: 'host',
      message: `Host '${String(host ?? '(none)').slice(0, 100)}' is not this agent (only ${[...this.#hosts].join(' or ')}): a DNS-rebinding attempt?`,
    };
  }

  checkOrigin(origin: string | undefined): Refusal | undefined {
    if (origin === undefined) return { reason: 'origin', message: 'no Origin header: only allowlisted browser extensions and apps may connect' };
    let normal: string;
    try {
      normal = normalizeOrigin(origin);
    } catch {
      return { reason: 'origin', message: `origin '${origin.slice(0, 100)}' is not allowed` };
    }
    if (this.#origins.has(normal)) return undefined;
    return { reason: 'origin', message: `origin '${normal.slice(0, 100)}' is not allowed (start the agent with --allow-origin ${normal.slice(0, 100)} to allow it)` };
  }

  /** The allowlisted destination matching `text`, or a refusal. */
  checkDestination(text: unknown): Destination | Refusal {
    let dest: Destination;
    try {
      dest = parseDestination(typeof text === 'string' ? text : '');
    } catch {
      return { reason: 'destination', message: `'${String(text).slice(0, 100)}' is not a host:port destination` };
    }
    return this.#forward.get(dest.key) ?? { reason: 'destination', message: `forwarding to ${dest.key} is not allowed (allowed: ${this.destinations.join(', ') || 'none'})` };
  }
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'reason' in value && 'message' in value;
}
