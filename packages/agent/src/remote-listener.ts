/**
 * remote-v1 on the agent: one listener per client pairing and rendezvous
 * window (windows and codes: `@burrow/protocol/agent` remote-v1), each
 * waiting at its mailbox rendezvous again and again; a client that meets it
 * (the SPAKE2 proves the pairing) becomes a remote session served with the
 * same RPC, forwarding and revocation policy as a local one.
 */
import WebSocket from 'ws';
import type { Connection, DuplexStream, WebSocketConstructor } from '@burrow/client';
import { WormholeError, withSignal, type Logger } from '@burrow/protocol';
import { REMOTE_APPID, encodeHeader, listenWindows, nextListenChange, rendezvous, shortId } from '@burrow/protocol/agent';
import type { PairingInfo, Pairings } from '@burrow/store';
import type { AgentReporter } from './events.js';
import type { AgentOptions, RemoteListenOptions } from './options.js';
import { writeAll } from './rpc.js';
import type { Session } from './sessions.js';
import { abandon, openWormhole } from './wormhole.js';
import { bestEffort, observed } from './ignore.js';

export interface RemoteContext {
  readonly id: string;
  readonly store: Pairings;
  readonly reporter: AgentReporter;
  readonly remote: RemoteListenOptions;
  readonly mailbox: string;
  readonly WebSocket: AgentOptions['WebSocket'];
  readonly transport: AgentOptions['transport'];
  readonly logger: Logger | undefined;
  /** False once the agent is shutting down. */
  running(): boolean;
  addSession(session: Session): void;
}

const MAX_RETRY_MS = 30_000;

/** Wait `ms` (a retry delay), or less if `signal` fires. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export class RemoteListeners {
  readonly #ctx: RemoteContext;
  /** Listeners by `pairingId/window`. */
  readonly #listeners = new Map<string, AbortController>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reconciling = false;
  #again = false;

  constructor(ctx: RemoteContext) {
    this.#ctx = ctx;
    listenWindows(0, ctx.remote); // checks windowMs and skewMs now, not in the background
  }

  /** Rendezvous being listened on. */
  get size(): number {
    return this.#listeners.size;
  }

  /**
   * Keep one listener per client pairing and window: start the missing
   * ones, stop those of revoked pairings and past windows, and come back
   * when the windows change.
   */
  reconcile(): void {
    if (!this.#ctx.running()) return;
    if (this.#reconciling) {
      this.#again = true;
      return;
    }
    this.#reconciling = true;
    void this.#reconcileLoop();
  }

  /** Stop every listener (shutdown). */
  stop(): void {
    clearTimeout(this.#timer);
    for (const c of this.#listeners.values()) c.abort(new WormholeError('Closed', 'the agent is shutting down'));
    this.#listeners.clear();
  }

  async #reconcileLoop(): Promise<void> {
    const { remote, store } = this.#ctx;
    try {
      do {
        this.#again = false;
        const now = (remote.now ?? Date.now)();
        const windows = listenWindows(now, remote);
        const clients = (await store.list()).filter((p) => p.peerRole === 'client' && p.revokedAt === undefined);
        if (!this.#ctx.running()) return;
        const want = new Map<string, { pairingId: string; window: number }>();
        for (const p of clients) for (const window of windows) want.set(`${p.id}/${window}`, { pairingId: p.id, window });
        for (const [key, controller] of this.#listeners) {
          if (want.has(key)) continue;
          controller.abort(new WormholeError('Closed', 'no longer listening on this rendezvous'));
          this.#listeners.delete(key);
        }
        for (const [key, { pairingId, window }] of want) {
          if (this.#listeners.has(key)) continue;
          const controller = new AbortController();
          this.#listeners.set(key, controller);
          void this.#listen(pairingId, window, controller.signal).finally(() => {
            if (this.#listeners.get(key) === controller) this.#listeners.delete(key);
          });
        }
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.reconcile(), Math.max(1, nextListenChange(now, remote) - now));
      } while (this.#again && this.#ctx.running());
    } catch (err) {
      this.#ctx.reporter.log('warn', 'agent.remote-failed', { error: err instanceof WormholeError ? err.code : 'Error' });
    } finally {
      this.#reconciling = false;
    }
  }

  /** Wait at one pairing's rendezvous for its client, again and again, until `signal` fires or the pairing is revoked. */
  async #listen(pairingId: string, window: number, signal: AbortSignal): Promise<void> {
    const ctx = this.#ctx;
    const firstDelay = ctx.remote.retryMs ?? 1000;
    let delay = firstDelay;
    while (!signal.aborted && ctx.running()) {
      let w: Awaited<ReturnType<typeof openWormhole>> | undefined;
      try {
        const secret = await ctx.store.secret(pairingId);
        if (!secret) return; // revoked: reconcile() forgets this listener
        let code: string;
        try {
          code = rendezvous(secret, { agentId: ctx.id, clientId: pairingId, window }).code;
        } finally {
          secret.fill(0);
        }
        w = await openWormhole(
          {
            mailbox: ctx.mailbox,
            appid: REMOTE_APPID,
            WebSocket: ctx.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
            RTCPeerConnection: ctx.remote.RTCPeerConnection ?? null,
            transport: ctx.transport,
            bindSignal: true,
          },
          signal,
        );
        w.setCode(code);
        await withSignal(w.peerVersions, signal);
        const connection = await w.connect({ ...ctx.remote.connect, signal, ...(ctx.logger ? { logger: ctx.logger } : {}) });
        await w.close().catch(bestEffort);
        w = undefined;
        delay = firstDelay;
        // Revoked while we were connecting? Then this client gets nothing.
        const pairing = await ctx.store.get(pairingId);
        const still = await ctx.store.secret(pairingId);
        still?.fill(0);
        if (!pairing || !still || !ctx.running()) {
          ctx.reporter.refuse({ reason: 'revoked', message: 'the pairing was revoked while the client reconnected remotely' }, pairingId);
          await connection.close('revoked').catch(bestEffort);
          continue;
        }
        ctx.addSession(remoteSession(pairing, connection));
      } catch (err) {
        if (w) await abandon(w, err, 'remote rendezvous failed');
        if (signal.aborted || !ctx.running()) return;
        const code = err instanceof WormholeError ? err.code : 'Error';
        if (code === 'WrongPassword') ctx.reporter.refuse({ reason: 'proof', message: 'someone at the remote rendezvous could not prove the pairing' }, pairingId);
        else ctx.reporter.log('warn', 'agent.remote-failed', { pairing: shortId(pairingId), error: code });
        await pause(delay, signal);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }
}

/** The session of a client met at a rendezvous; a revocation is announced on its control stream. */
function remoteSession(pairing: PairingInfo, connection: Connection): Session {
  let open = true;
  let control: DuplexStream | undefined;
  let noticeSent = false;
  connection.closed.then(
    () => (open = false),
    () => (open = false),
  );
  return {
    pairing,
    origin: pairing.origin ?? '',
    since: Date.now(),
    via: 'remote',
    connection,
    forwards: new Set(),
    abort: new AbortController(),
    live: () => open,
    attachControl: (stream) => void (control = stream),
    revoke: (code, message) => {
      if (!control) return;
      noticeSent = true;
      void writeAll(control.writable, encodeHeader({ ok: false, error: { code, message } }), true).catch(bestEffort);
    },
    end: () => {
      const close = () => void connection.close('the agent ended the session').catch(bestEffort);
      if (!noticeSent || !open) return close();
      // A data channel closed right after a write may lose it: let the client read the
      // notice and hang up itself, for up to a second. Nothing is served meanwhile
      // (the session is gone, its forwards destroyed, every call re-checks the pairing).
      const timer = setTimeout(close, 1000);
      void connection.closed.catch(observed).finally(() => clearTimeout(timer));
    },
  };
}
