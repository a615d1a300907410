/**
 * The transit relay: reads each connection's handshake line, glues two
 * connections that name the same token (with different sides), answers
 * both with "ok\n", then copies bytes both ways until either side closes.
 * It behaves like wormhole_transit_relay 0.2.1 (transit_server.py):
 *
 * - "bad handshake\n" and close for a line that can never be a handshake;
 * - "impatient\n" and close for bytes sent after the handshake but before
 *   "ok\n";
 * - extra connections waiting under a matched token are closed (redundant);
 * - when one side goes away the other is closed once its queued bytes are
 *   flushed (no half-close).
 *
 * It adds what Python lacks: timeouts for a handshake that never comes, for
 * a token nobody else claims (lonely) and for an idle pair; connection caps;
 * and backpressure with two watermarks (a side whose buddy cannot keep up is
 * paused until the buddy's queue drains).
 *
 * The data path does no per-chunk work beyond that: a transport may lend
 * the relay a view of its own read buffer (TCP does: no allocation per read,
 * so no garbage to collect at a gigabyte a second); the buddy writes it
 * straight to its socket, and only if the kernel does not take it all at
 * once is the sender paused until it has.
 *
 * Transports (TCP, WebSocket, …) present connections as {@link RelayEndpoint}s,
 * so a WebSocket client and a TCP client meet like any two. The relay never
 * looks inside the bytes: after the handshake everything is ciphertext
 * between the peers.
 *
 * Across processes ({@link TransitRelay.pairAcross}, ./shared.ts): a lonely
 * half whose token another process holds is glued to a pipe to that
 * process's relay, which sees the client's handshake and answers it.
 */
import type { Logger } from '@burrow/protocol';
import { checkHandshake, MAX_HANDSHAKE_BYTES, RELAY_BAD_HANDSHAKE, RELAY_IMPATIENT, RELAY_OK } from '@burrow/protocol/server';
import { TokenMatcher } from './matcher.js';
import { newConn, type Conn, type Mood } from './conn.js';
import { Admission, type AdmitResult } from '../admission.js';
import type { RelayEndpoint, RelayEndpointEvents, RelayLink, RelayPairing } from './endpoint.js';
import { DEFAULT_RELAY_LIMITS, type RelayLimits } from './limits.js';

export type { RelayEndpoint, RelayEndpointEvents, RelayLink, RelayPairing } from './endpoint.js';
export { DEFAULT_RELAY_LIMITS, type RelayLimits } from './limits.js';

export interface TransitRelayOptions {
  readonly logger?: Logger;
  readonly limits?: Partial<RelayLimits>;
  /** Clock, ms (default Date.now). */
  readonly now?: () => number;
}

export interface RelayStats {
  connections: number;
  /** Connections waiting for their buddy. */
  waiting: number;
  /** Distinct tokens waiting. */
  tokens: number;
  /** Glued pairs. */
  pairs: number;
  /** Bytes relayed since start. */
  bytes: number;
  /** Pairs glued since start. */
  pairsTotal: number;
  /** Halves sent on to the process holding their token (see {@link TransitRelay.pairAcross}), since start. */
  forwardedOut: number;
  /** Halves other processes sent here, since start. */
  forwardedIn: number;
  addresses: number;
}

export type RelayAdmitResult = AdmitResult;

/** How long a side whose buddy left may take to flush before it is cut. */
const CLOSING_GRACE_MS = 10_000;

export class TransitRelay {
  readonly #logger: Logger | undefined;
  readonly #limits: RelayLimits;
  readonly #now: () => number;
  readonly #matcher = new TokenMatcher<Conn>();
  readonly #conns = new Set<Conn>();
  readonly #admission: Admission;
  readonly #releases = new Map<number, () => void>();
  #pairsTotal = 0;
  #pairing: RelayPairing | undefined;
  #forwardedOut = 0;
  #forwardedIn = 0;
  readonly #sweeper: NodeJS.Timeout;
  #nextId = 1;
  #pairs = 0;
  #bytes = 0;

  constructor(options: TransitRelayOptions = {}) {
    this.#logger = options.logger;
    this.#limits = { ...DEFAULT_RELAY_LIMITS, ...options.limits };
    this.#admission = new Admission(this.#limits);
    if (this.#limits.lowWaterMark > this.#limits.highWaterMark) throw new RangeError('limits.lowWaterMark must not exceed limits.highWaterMark');
    this.#now = options.now ?? Date.now;
    const shortest = Math.min(this.#limits.handshakeTimeoutMs, this.#limits.lonelyTimeoutMs, this.#limits.idleTimeoutMs);
    this.#sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1_000, Math.floor(shortest / 4))));
    this.#sweeper.unref();
  }

  get limits(): RelayLimits {
    return this.#limits;
  }

  /** Whether one more connection from `address` is allowed. */
  admit(address: string): RelayAdmitResult {
    return this.#admission.admit(address);
  }

  /** Count a connection not attached yet (a WebTransport session waiting for its stream); call the result before `attach`. */
  hold(address: string): () => void {
    return this.#admission.charge(address);
  }

  /** Refuse new connections from now on (draining); glued pairs carry on. */
  stopAccepting(): void {
    this.#admission.close();
  }

  /**
   * Pair tokens across processes: a half with no buddy here is offered to
   * `pairing`, which may send it on to the process holding its token.
   */
  pairAcross(pairing: RelayPairing): void {
    this.#pairing = pairing;
  }

  /**
   * Start relaying for a new connection (check `admit` first). `forwarded`:
   * another process sent this half here; it is paired here or not at all.
   */
  attach(ep: RelayEndpoint, options: { forwarded?: boolean } = {}): RelayEndpointEvents {
    const conn = this.#track(ep, options.forwarded === true);
    this.#releases.set(conn.id, this.#admission.charge(ep.address));
    if (conn.forwarded) this.#forwardedIn++;
    this.#logger?.debug?.('relay.connect', { conn: conn.id, kind: ep.kind, address: ep.address });
    return {
      data: (chunk, lent) => {
        try {
          this.#data(conn, chunk, lent === true);
        } catch (err) {
          // A bug must cost one connection, not the process.
          this.#logger?.warn?.('relay.internal-error', { conn: conn.id, error: String(err) });
          ep.destroy();
        }
      },
      drain: () => this.#drain(conn),
      closed: () => this.#lost(conn),
    };
  }

  #track(ep: RelayEndpoint, forwarded: boolean): Conn {
    const conn = newConn(this.#nextId++, ep, this.#now(), forwarded);
    this.#conns.add(conn);
    return conn;
  }

  /** Apply the timeouts now (also runs on a timer). */
  sweep(): void {
    const now = this.#now();
    const l = this.#limits;
    for (const c of this.#conns) {
      if (c.phase === 'handshake' && now - c.since >= l.handshakeTimeoutMs) {
        this.#logger?.info?.('relay.handshake-timeout', { conn: c.id, address: c.ep.address });
        this.#fail(c, 'timeout');
      } else if (c.phase === 'waiting' && now - c.since >= l.lonelyTimeoutMs) {
        this.#logger?.info?.('relay.lonely-timeout', { conn: c.id, address: c.ep.address });
        this.#fail(c, 'lonely');
      } else if (c.phase === 'relaying' && c.buddy && now - Math.max(c.lastActivity, c.buddy.lastActivity) >= l.idleTimeoutMs) {
        this.#logger?.info?.('relay.idle-timeout', { conn: c.id, address: c.ep.address });
        c.mood = 'timeout';
        c.ep.destroy();
      } else if (c.phase === 'closing' && now - c.since >= CLOSING_GRACE_MS) {
        c.ep.destroy();
      }
    }
  }

  stats(): RelayStats {
    return {
      connections: this.#conns.size,
      waiting: this.#matcher.connections,
      tokens: this.#matcher.tokens,
      pairs: this.#pairs,
      bytes: this.#bytes,
      pairsTotal: this.#pairsTotal,
      forwardedOut: this.#forwardedOut,
      forwardedIn: this.#forwardedIn,
      addresses: this.#admission.addresses,
    };
  }

  /** Close every connection and stop the timers. */
  close(): void {
    this.#admission.close();
    clearInterval(this.#sweeper);
    for (const c of [...this.#conns]) c.ep.destroy();
  }

  #data(c: Conn, chunk: Uint8Array, lent: boolean): void {
    switch (c.phase) {
      case 'relaying': {
        const buddy = c.buddy!;
        c.sent += chunk.length;
        this.#bytes += chunk.length;
        c.lastActivity = this.#now();
        if (buddy.ep.write(chunk, lent) === true && lent) {
          // The buddy queued our read buffer itself: read nothing more until it is flushed.
          c.lent = true;
          if (!c.paused) {
            c.paused = true;
            c.ep.pause();
          }
        } else if (!c.paused && buddy.ep.buffered() > this.#limits.highWaterMark) {
          c.paused = true;
          c.ep.pause();
        }
        return;
      }
      case 'waiting':
        // Python: anything before "ok\n" after the token is impatience.
        this.#logger?.info?.('relay.impatient', { conn: c.id, address: c.ep.address });
        this.#unwait(c);
        this.#refuse(c, RELAY_IMPATIENT);
        return;
      case 'handshake':
        return this.#handshake(c, chunk);
      default:
        // closing/closed: whatever still arrives has nowhere to go.
        return;
    }
  }

  #handshake(c: Conn, chunk: Uint8Array): void {
    const buf = new Uint8Array(c.buf.length + chunk.length);
    buf.set(c.buf);
    buf.set(chunk, c.buf.length);
    // checkHandshake decides as soon as MAX_HANDSHAKE_BYTES are in, so
    // `buf` never outgrows one transport chunk plus a line.
    c.buf = buf;
    const result = checkHandshake(buf);
    switch (result.kind) {
      case 'waiting':
        // Cannot happen (a full-length buffer is always decided); be safe.
        if (buf.length > MAX_HANDSHAKE_BYTES) this.#refuse(c, RELAY_BAD_HANDSHAKE);
        return;
      case 'bad':
        this.#logger?.info?.('relay.bad-handshake', { conn: c.id, address: c.ep.address });
        this.#refuse(c, RELAY_BAD_HANDSHAKE);
        return;
      case 'impatient':
        this.#logger?.info?.('relay.impatient', { conn: c.id, address: c.ep.address });
        this.#refuse(c, RELAY_IMPATIENT);
        return;
      case 'ok':
        c.hello = buf;
        c.buf = new Uint8Array(0);
        return this.#gotToken(c, result.token, result.side);
    }
  }

  #gotToken(c: Conn, token: string, side: string | null): void {
    const now = this.#now();
    c.token = token;
    c.phase = 'waiting';
    c.since = now;
    c.mood = 'lonely';
    const match = this.#matcher.offer(token, side, c);
    if (!match) {
      this.#logger?.debug?.('relay.waiting', { conn: c.id, sided: side !== null });
      if (this.#pairing && !c.forwarded) this.#claim(this.#pairing, c, token);
      return;
    }
    this.#pairing?.release(token);
    for (const spare of match.redundant) {
      spare.mood = 'redundant';
      spare.phase = 'closing';
      spare.since = now;
      spare.ep.end();
    }
    const buddy = match.buddy;
    this.#glue(c, buddy, now);
    c.ep.write(RELAY_OK);
    buddy.ep.write(RELAY_OK);
    this.#pairsTotal++;
    this.#logger?.debug?.('relay.matched', { conns: [buddy.id, c.id], kinds: [buddy.ep.kind, c.ep.kind] });
  }

  /** Ask the cluster where `token` pairs; if elsewhere, send `c` there. */
  #claim(pairing: RelayPairing, c: Conn, token: string): void {
    pairing.claim(token, c.ep.address, c.hello!).then(
      (link) => {
        if (!link) {
          // It pairs here: keep waiting (if `c` left meanwhile, drop a claim made after it did).
          if (c.phase !== 'waiting' && !this.#matcher.has(token)) pairing.release(token);
          return;
        }
        if (c.phase !== 'waiting') {
          link.abandon(); // paired here meanwhile, or gone
          return;
        }
        this.#unwait(c);
        this.#forward(c, link);
      },
      (err: unknown) => this.#logger?.warn?.('relay.pairing-failed', { conn: c.id, error: String(err) }),
    );
  }

  /** Glue `c` to a pipe towards the process holding its token; that process answers "ok\n" through it. */
  #forward(c: Conn, link: RelayLink): void {
    // The link reports nothing before `attach` returns, so `pipe` is set by then.
    let pipe: Conn | undefined;
    const ep = link.attach({
      data: (chunk, lent) => this.#data(pipe!, chunk, lent === true),
      drain: () => this.#drain(pipe!),
      closed: () => this.#lost(pipe!),
    });
    pipe = this.#track(ep, false);
    this.#glue(c, pipe, this.#now());
    this.#forwardedOut++;
    this.#logger?.debug?.('relay.forwarded', { conn: c.id, pipe: pipe.id });
  }

  #glue(a: Conn, b: Conn, now: number): void {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      x.buddy = y;
      x.phase = 'relaying';
      x.mood = 'happy';
      x.lastActivity = now;
      x.hello = undefined;
    }
    this.#pairs++;
  }

  /** `c` stops waiting under its token; the cluster forgets the token once nobody here waits under it. */
  #unwait(c: Conn): void {
    const token = c.token!;
    this.#matcher.remove(token, c);
    if (!this.#matcher.has(token)) this.#pairing?.release(token);
  }

  /** `c`'s outbound queue drained: let its buddy send again. */
  #drain(c: Conn): void {
    const buddy = c.buddy;
    if (buddy?.paused && c.ep.buffered() <= (buddy.lent ? 0 : this.#limits.lowWaterMark)) {
      buddy.paused = false;
      buddy.lent = false;
      if (buddy.phase === 'relaying') buddy.ep.resume();
    }
  }

  #refuse(c: Conn, answer: Uint8Array): void {
    c.mood = 'errory';
    c.phase = 'closing';
    c.since = this.#now();
    c.ep.write(answer);
    c.ep.end();
  }

  #fail(c: Conn, mood: Mood): void {
    if (c.token !== undefined && c.phase === 'waiting') this.#unwait(c);
    c.mood = mood;
    c.phase = 'closing';
    c.since = this.#now();
    c.ep.destroy();
  }

  #lost(c: Conn): void {
    if (c.phase === 'closed') return;
    const wasRelaying = c.phase === 'relaying';
    if (c.phase === 'waiting' && c.token !== undefined) this.#unwait(c);
    c.phase = 'closed';
    this.#conns.delete(c);
    this.#releases.get(c.id)?.();
    this.#releases.delete(c.id);
    const buddy = c.buddy;
    c.buddy = undefined;
    if (wasRelaying && buddy) {
      this.#pairs--;
      this.#logger?.debug?.('relay.pair-closed', {
        conns: [c.id, buddy.id],
        bytes: c.sent + buddy.sent,
        ms: this.#now() - Math.min(c.started, buddy.started),
      });
      if (buddy.phase === 'relaying') {
        // Python's buddy_disconnected: flush, then close. Keep reading (and
        // dropping) so the buddy's close is not stuck behind a pause.
        buddy.mood = 'jilted';
        buddy.phase = 'closing';
        buddy.since = this.#now();
        buddy.buddy = undefined;
        if (buddy.paused) buddy.ep.resume();
        buddy.ep.end();
      }
    }
    this.#logger?.debug?.('relay.disconnect', { conn: c.id, mood: c.mood ?? 'errory', sent: c.sent });
  }
}
