/**
 * Relay pairs across the processes of a cluster (`burrow serve --store
 * redis://`): two halves of one transit that reach different processes
 * still meet.
 *
 * - The first process to hold a half with no buddy claims its token in Redis
 *   (`SET NX`, with its own peer address, expiring with the relay's lonely
 *   timeout). The half waits there as usual.
 * - A process that gets a half whose token another process holds sends it on:
 *   it dials that process's peer listener (TCP, meant for the cluster's own
 *   network), says who the client is, and writes the client's handshake
 *   line. The owner glues it to the waiting half and answers "ok\n" through
 *   the pipe; from then on the forwarding process copies bytes both ways
 *   like any relayed pair (same backpressure, same idle timeout).
 * - When no half waits under a token any more, its owner deletes the claim.
 *   An owner that cannot be reached (killed) loses its claims to whoever
 *   finds it dead; the half then waits there.
 *
 * The peer listener trusts only dialers that know the cluster's secret
 * (kept in Redis): a forwarded half carries the client's address, which the
 * owner charges against its per-address caps as if the client had come
 * itself.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from '@burrow/protocol';
import { bestEffort } from '@burrow/protocol';
import type { RelayEndpoint, RelayEndpointEvents, RelayLink, RelayPairing } from './endpoint.js';
import type { TransitRelay } from './relay.js';

export interface RelayShareOptions {
  /** `redis://HOST:PORT[/DB]`, the cluster's Redis. */
  readonly url: string;
  /** Key prefix (default `burrow:mailbox`, as the mailbox's). */
  readonly prefix?: string;
  /** Address the peer listener binds to (the gateway's host). */
  readonly host: string;
  /** Its port (default 0: any free port). */
  readonly peerPort?: number;
  /** `HOST:PORT` other processes dial (default: `host`, or this machine's first IPv4 address for a wildcard host, and the bound port). */
  readonly peerAddress?: string;
  /** Time allowed to reach an owner (default 2 s). */
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
}

/** Claim `KEYS[1]` for ARGV[1] unless someone holds it; answer the holder. */
const CLAIM = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return ARGV[1] end
return redis.call('GET', KEYS[1]) or ARGV[1]`;
/** Take `KEYS[1]` over from ARGV[2] (found unreachable) unless it moved on; answer the holder. */
const TAKE_OVER = `local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[2] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3]) return ARGV[1] end
return v`;
/** Delete `KEYS[1]` if ARGV[1] holds it. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The first line a forwarding process sends: `burrow-relay-forward SECRET CLIENT-ADDRESS\n`. */
const PREAMBLE = 'burrow-relay-forward';
const MAX_PREAMBLE_BYTES = 256;
const PREAMBLE_TIMEOUT_MS = 5_000;

function splitHostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(i + 1)) };
}

function defaultPeerHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host.includes(':') ? `[${host}]` : host;
  const v4 = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal);
  return v4?.address ?? '127.0.0.1';
}

/** `socket` as a relay endpoint (what it is told to write goes to the socket). */
function endpointOf(socket: Socket, kind: string, address: string, drained: () => void): RelayEndpoint {
  return {
    kind,
    address,
    write: (data, lent) => {
      if (socket.destroyed) return false;
      socket.write(data, lent ? drained : undefined);
      // A lent chunk the kernel did not take at once stays queued by reference: the sender waits for it.
      return lent === true && socket.writableLength > 0;
    },
    buffered: () => socket.writableLength,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    end: () => socket.end(),
    destroy: () => socket.destroy(),
  };
}

/** Deliver `socket`'s bytes, drains and close to `events`. */
function wire(socket: Socket, events: RelayEndpointEvents): void {
  socket.on('data', (chunk: Buffer) => events.data(chunk));
  socket.on('drain', () => events.drain());
  socket.on('close', () => events.closed());
}

export class RelayShare implements RelayPairing {
  readonly #relay: TransitRelay;
  readonly #redis: Redis;
  readonly #server: Server;
  readonly #prefix: string;
  readonly #logger: Logger | undefined;
  readonly #connectTimeoutMs: number;
  #secret = '';
  #self = '';

  /** Connect to Redis, open the peer listener, and make `relay` pair across the cluster. */
  static async start(relay: TransitRelay, options: RelayShareOptions): Promise<RelayShare> {
    const share = new RelayShare(relay, options);
    try {
      await share.#open(options);
    } catch (err) {
      share.#redis.disconnect();
      share.#server.close();
      throw err;
    }
    relay.pairAcross(share);
    return share;
  }

  private constructor(relay: TransitRelay, options: RelayShareOptions) {
    this.#relay = relay;
    this.#prefix = `${options.prefix ?? 'burrow:mailbox'}:relay`;
    this.#logger = options.logger;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: 2, lazyConnect: true, connectionName: 'burrow-relay' });
    this.#redis.on('error', (err: unknown) => this.#logger?.debug?.('relay-share.redis-error', { error: String(err) }));
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server.on('error', (err) => this.#logger?.warn?.('relay-share.listener-error', { error: String(err) }));
  }

  /** `HOST:PORT` where other processes send halves to this one. */
  get peerAddress(): string {
    return this.#self;
  }

  async claim(token: string, address: string, hello: Uint8Array): Promise<RelayLink | undefined> {
    const key = this.#key(token);
    const ttl = this.#relay.limits.lonelyTimeoutMs;
    let owner = String(await this.#redis.eval(CLAIM, 1, key, this.#self, ttl));
    for (let attempt = 0; owner !== this.#self && attempt < 2; attempt++) {
      try {
        return await this.#dial(owner, address, hello);
      } catch (err) {
        this.#logger?.info?.('relay-share.owner-unreachable', { owner, error: String(err) });
        owner = String(await this.#redis.eval(TAKE_OVER, 1, key, this.#self, owner, ttl));
      }
    }
    return undefined; // the token pairs here (or nowhere else can be reached)
  }

  release(token: string): void {
    this.#redis.eval(RELEASE, 1, this.#key(token), this.#self).catch((err: unknown) => {
      // The claim then lapses with its expiry; a half sent here meanwhile waits alone.
      this.#logger?.debug?.('relay-share.release-failed', { error: String(err) });
    });
  }

  /** Stop the peer listener and leave Redis (the relay closes the connections). */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await this.#redis.quit().catch(bestEffort);
    this.#redis.disconnect();
    await closed;
  }

  async #open(options: RelayShareOptions): Promise<void> {
    await this.#redis.connect();
    const secretKey = `${this.#prefix}:secret`;
    await this.#redis.set(secretKey, randomBytes(24).toString('hex'), 'NX');
    this.#secret = (await this.#redis.get(secretKey)) ?? '';
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: options.host, port: options.peerPort ?? 0, exclusive: true }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const bound = this.#server.address();
    const port = typeof bound === 'object' && bound ? bound.port : 0;
    this.#self = options.peerAddress ?? `${defaultPeerHost(options.host)}:${port}`;
    this.#logger?.info?.('relay-share.listening', { peer: this.#self });
  }

  #key(token: string): string {
    return `${this.#prefix}:token:${token}`;
  }

  /** Open a pipe to the relay of the process at `owner`, carrying the half of the client at `address`. */
  #dial(owner: string, address: string, hello: Uint8Array): Promise<RelayLink> {
    const { host, port } = splitHostPort(owner);
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true, timeout: this.#connectTimeoutMs });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        this.#logger?.debug?.('relay-share.socket-error', { owner, error: err.code ?? err.message });
        reject(err);
      });
      socket.once('timeout', () => socket.destroy(new Error('timed out reaching the owner')));
      socket.once('connect', () => {
        socket.setTimeout(0);
        socket.setKeepAlive(true);
        socket.write(`${PREAMBLE} ${this.#secret} ${address}\n`);
        socket.write(hello);
        resolve({
          attach: (events) => {
            wire(socket, events);
            return endpointOf(socket, 'forward', owner, () => events.drain());
          },
          abandon: () => socket.destroy(),
        });
      });
    });
  }

  /** A half forwarded by another process: check who sent it, then hand it to the relay. */
  #accept(socket: Socket): void {
    let head = Buffer.alloc(0);
    socket.setTimeout(PREAMBLE_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', (err: NodeJS.ErrnoException) => this.#logger?.debug?.('relay-share.socket-error', { error: err.code ?? err.message }));
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) {
        if (head.length > MAX_PREAMBLE_BYTES) socket.destroy();
        return;
      }
      socket.off('data', onData);
      socket.setTimeout(0);
      const [word, secret = '', address = ''] = head.subarray(0, nl).toString('latin1').split(' ');
      const known = Buffer.from(this.#secret);
      const given = Buffer.from(secret);
      if (word !== PREAMBLE || given.length !== known.length || !timingSafeEqual(given, known) || address === '') {
        this.#logger?.warn?.('relay-share.refused-peer', { from: socket.remoteAddress ?? 'unknown' });
        socket.destroy();
        return;
      }
      const admitted = this.#relay.admit(address);
      if (!admitted.ok) {
        this.#logger?.warn?.('relay.refused-connection', { kind: 'forwarded', address, reason: admitted.reason, limit: admitted.limit });
        socket.destroy();
        return;
      }
      let events: RelayEndpointEvents | undefined;
      events = this.#relay.attach(endpointOf(socket, 'forwarded', address, () => events?.drain()), { forwarded: true });
      wire(socket, events);
      const rest = head.subarray(nl + 1);
      if (rest.length > 0) events.data(rest);
    };
    socket.on('data', onData);
  }
}
