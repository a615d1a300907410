/**
 * The agent's open sessions, by pairing: local (agent-v1 over the
 * WebSocket) and remote (a remote-v1 Connection) alike. Adding one reports
 * it and starts serving it; ending one tears down its transport and
 * forwards; dropping a pairing ends all of its sessions at once, telling
 * each client why. `connect()` waits for a pairing's next session.
 */
import type { Socket } from 'node:net';
import type { CallOptions, Connection, DuplexStream } from '@burrow/client';
import { WormholeError } from '@burrow/protocol';
import { shortId } from '@burrow/protocol/agent';
import type { PairingInfo, Pairings } from '@burrow/store';
import type { AgentReporter } from './events.js';
import type { SessionSummary } from './options.js';
import { bestEffort, informational } from './ignore.js';

export interface Session {
  readonly pairing: PairingInfo;
  readonly origin: string;
  readonly since: number;
  readonly via: 'local' | 'remote';
  /** The streams: mux-v1 over the local WebSocket, or the remote Connection. */
  readonly connection: Connection;
  readonly forwards: Set<Socket>;
  readonly abort: AbortController;
  /** Still usable. */
  live(): boolean;
  /** Tell the client it was revoked (best effort) and tear the transport down now. */
  revoke(code: 'Revoked', message: string): void;
  /** Tear the transport down. */
  end(): void;
  /** Remote sessions: the client's control stream, on which a revocation is announced. */
  attachControl?(stream: DuplexStream): void;
}

export interface SessionRegistryHooks {
  /** Serve a new session's calls until it ends. */
  serve(session: Session): void;
  /** A pairing's sessions were dropped (the remote listeners may need to follow). */
  dropped(pairingId: string): void;
}

export class SessionRegistry {
  readonly #store: Pairings;
  readonly #reporter: AgentReporter;
  readonly #hooks: SessionRegistryHooks;
  readonly #sessions = new Map<string, Set<Session>>();
  readonly #waiters = new Map<string, Set<(s: Session) => void>>();

  constructor(store: Pairings, reporter: AgentReporter, hooks: SessionRegistryHooks) {
    this.#store = store;
    this.#reporter = reporter;
    this.#hooks = hooks;
  }

  /** Every open session, for the status. */
  summaries(): SessionSummary[] {
    return [...this.#sessions.values()].flatMap((set) => [...set].map((s) => ({ pairingId: s.pairing.id, name: s.pairing.name, origin: s.origin, since: s.since, via: s.via })));
  }

  /** The connection of a pairing's newest session that is still open (an older one may be closing right now). */
  live(pairingId: string): Connection | undefined {
    const live = [...(this.#sessions.get(pairingId) ?? [])].filter((s) => s.live());
    return live[live.length - 1]?.connection;
  }

  /** Wait for a pairing's next session; rejects with `Aborted` when `signal` fires first. */
  next(pairingId: string, options: CallOptions = {}): Promise<Connection> {
    return new Promise<Connection>((resolve, reject) => {
      const set = this.#waiters.get(pairingId) ?? new Set();
      this.#waiters.set(pairingId, set);
      const onAbort = () => {
        set.delete(waiter);
        reject(new WormholeError('Aborted', 'stopped waiting for the client', { cause: options.signal?.reason }));
      };
      const waiter = (s: Session) => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve(s.connection);
      };
      set.add(waiter);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  add(session: Session): void {
    const { pairing, origin, via } = session;
    const set = this.#sessions.get(pairing.id) ?? new Set();
    set.add(session);
    this.#sessions.set(pairing.id, set);
    void this.#store.touch(pairing.id).catch(informational);
    this.#reporter.log('info', 'agent.connected', { pairing: shortId(pairing.id), name: pairing.name, origin, via, kind: session.connection.kind });
    this.#reporter.publish({ type: 'connected', pairing, origin, via });
    for (const waiter of this.#waiters.get(pairing.id) ?? []) waiter(session);
    this.#waiters.delete(pairing.id);
    session.connection.closed.then(
      () => this.end(session),
      (err: unknown) => this.end(session, err),
    );
    this.#hooks.serve(session);
  }

  end(session: Session, err?: unknown): void {
    const set = this.#sessions.get(session.pairing.id);
    if (!set?.delete(session)) return;
    if (set.size === 0) this.#sessions.delete(session.pairing.id);
    session.abort.abort();
    for (const s of session.forwards) s.destroy();
    session.forwards.clear();
    session.end();
    const error = err instanceof WormholeError ? err.code : err ? 'Error' : undefined;
    this.#reporter.log('info', 'agent.disconnected', { pairing: shortId(session.pairing.id), ...(error ? { error } : {}) });
    this.#reporter.publish({ type: 'disconnected', pairing: session.pairing, ...(error ? { error } : {}) });
  }

  /** Drop every open session of a pairing now, telling the client why. */
  drop(pairingId: string, code: 'Revoked', message: string): void {
    const set = this.#sessions.get(pairingId);
    const sessions = set ? [...set] : [];
    for (const s of sessions) {
      s.revoke(code, message);
      this.end(s, new WormholeError(code, message));
    }
    this.#hooks.dropped(pairingId);
    this.#reporter.log('warn', 'agent.revoked', { pairing: shortId(pairingId), dropped: sessions.length });
    this.#reporter.publish({ type: 'revoked', pairingId, dropped: sessions.length });
  }

  /** Re-read a pairing after the store changed; drop its sessions if it is gone or revoked. */
  async recheck(pairingId: string): Promise<void> {
    if (!this.#sessions.has(pairingId)) return;
    const secret = await this.#store.secret(pairingId).catch(() => undefined);
    if (secret) {
      secret.fill(0);
      return;
    }
    this.drop(pairingId, 'Revoked', 'the pairing was revoked on the agent');
  }

  /** Shutdown: close every session's connection, then end them all. */
  async closeAll(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const set of this.#sessions.values()) {
      for (const s of set) closing.push(s.connection.close('agent shutting down').catch(bestEffort));
    }
    await Promise.all(closing);
    for (const set of this.#sessions.values()) for (const s of set) this.end(s);
  }
}
