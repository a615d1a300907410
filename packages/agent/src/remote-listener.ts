/**
 * remote-v1 on the agent (windows, candidates and codes:
 * `@burrow/protocol/agent` remote-v1): for each client pairing and window,
 * listeners at the first two candidate rendezvous not known to be squatted, each waiting for its client again and again; a client that
 * meets one (the SPAKE2 proves the pairing) becomes a remote session served
 * with the same RPC, forwarding and revocation policy as a local one.
 *
 * A squat is seen two ways: the client arrives at a later candidate than the
 * lowest (it only moves on when a nameplate is `Crowded`), or the agent's own
 * claim is `Crowded`. Either is logged as a warning and published as a
 * `squat` event, and the listeners move on to the next free candidates. When
 * all are squatted nothing is listened on for that window (logged).
 *
 * Revoked client pairings whose record keeps a notice key get a listener at
 * the notice rendezvous instead (notice-listener.ts).
 */
import { WormholeError, withSignal } from '@burrow/protocol';
import { NOTICE_TTL_MS, REMOTE_CANDIDATES, listenWindows, nextListenChange, rendezvous, shortId } from '@burrow/protocol/agent';
import { listenForNotice } from './notice-listener.js';
import { MAX_RETRY_MS, pause, remoteMailbox, type RemoteContext } from './remote-context.js';
import { remoteSession } from './remote-session.js';
import { abandon, openWormhole } from './wormhole.js';
import { bestEffort } from './ignore.js';

/** What one listener waits for: a client at a candidate rendezvous, or a revoked client to tell. */
type Want = { readonly pairingId: string; readonly window: number; readonly candidate: number } | { readonly pairingId: string; readonly window: number; readonly notice: true };

export type { RemoteContext } from './remote-context.js';

export class RemoteListeners {
  readonly #ctx: RemoteContext;
  /** Listeners by `pairingId/window/candidate` (or `/notice`). */
  readonly #listeners = new Map<string, AbortController>();
  /** The candidates known to be squatted, by `pairingId/window`. */
  readonly #squats = new Map<string, Set<number>>();
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
   * Keep the listeners every client pairing and window needs: start the
   * missing ones, stop those of revoked pairings, past windows and squatted
   * candidates, and come back when the windows change.
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

  async #wanted(now: number): Promise<Map<string, Want>> {
    const { remote, store } = this.#ctx;
    const windows = listenWindows(now, remote);
    const want = new Map<string, Want>();
    for (const p of await store.list()) {
      if (p.peerRole !== 'client') continue;
      if (p.revokedAt === undefined) {
        for (const window of windows) {
          const squatted = this.#squats.get(`${p.id}/${window}`);
          const free = [...Array(REMOTE_CANDIDATES).keys()].filter((c) => !squatted?.has(c)).slice(0, 2);
          for (const candidate of free) want.set(`${p.id}/${window}/${candidate}`, { pairingId: p.id, window, candidate });
        }
      } else if (now - p.revokedAt < NOTICE_TTL_MS && (await store.notice(p.id))) {
        for (const window of windows) want.set(`${p.id}/${window}/notice`, { pairingId: p.id, window, notice: true });
      }
    }
    for (const key of this.#squats.keys()) if (!windows.some((w) => key.endsWith(`/${w}`))) this.#squats.delete(key);
    return want;
  }

  async #reconcileLoop(): Promise<void> {
    const { remote } = this.#ctx;
    try {
      do {
        this.#again = false;
        const now = (remote.now ?? Date.now)();
        const want = await this.#wanted(now);
        if (!this.#ctx.running()) return;
        for (const [key, controller] of this.#listeners) {
          if (want.has(key)) continue;
          controller.abort(new WormholeError('Closed', 'no longer listening on this rendezvous'));
          this.#listeners.delete(key);
        }
        for (const [key, w] of want) {
          if (this.#listeners.has(key)) continue;
          const controller = new AbortController();
          this.#listeners.set(key, controller);
          const run = 'notice' in w ? listenForNotice(this.#ctx, w.pairingId, w.window, controller.signal) : this.#listen(w.pairingId, w.window, w.candidate, controller.signal);
          void run.finally(() => {
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

  /** These candidates of this pairing and window are squatted: say so, loudly, and listen on the next ones. */
  #squatted(pairingId: string, window: number, candidates: readonly number[], how: string): void {
    const key = `${pairingId}/${window}`;
    const set = this.#squats.get(key) ?? new Set<number>();
    this.#squats.set(key, set);
    const fresh = candidates.filter((c) => !set.has(c));
    if (fresh.length === 0) return;
    for (const candidate of fresh) {
      set.add(candidate);
      this.#ctx.reporter.log('warn', 'agent.rendezvous-squatted', { pairing: shortId(pairingId), window, candidate, how });
      this.#ctx.reporter.publish({ type: 'squat', pairingId, window, candidate });
    }
    if (set.size >= REMOTE_CANDIDATES) this.#ctx.reporter.log('warn', 'agent.rendezvous-exhausted', { pairing: shortId(pairingId), window, candidates: REMOTE_CANDIDATES });
    this.reconcile();
  }

  /** Wait at one candidate rendezvous for the pairing's client, again and again, until `signal` fires or the pairing is revoked. */
  async #listen(pairingId: string, window: number, candidate: number, signal: AbortSignal): Promise<void> {
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
          code = rendezvous(secret, { agentId: ctx.id, clientId: pairingId, window, candidate }).code;
        } finally {
          secret.fill(0);
        }
        w = await openWormhole(remoteMailbox(ctx, true), signal);
        w.setCode(code);
        await withSignal(w.peerVersions, signal);
        const connection = await w.connect({ ...ctx.remote.connect, signal, ...(ctx.logger ? { logger: ctx.logger } : {}) });
        await w.close().catch(bestEffort);
        w = undefined;
        delay = firstDelay;
        // The client tries the candidates in order, moving past one only when it is crowded.
        this.#squatted(pairingId, window, [...Array(candidate).keys()], 'the client found it crowded');
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
        if (code === 'Crowded') return this.#squatted(pairingId, window, [candidate], 'our own claim was crowded');
        if (code === 'WrongPassword') ctx.reporter.refuse({ reason: 'proof', message: 'someone at the remote rendezvous could not prove the pairing' }, pairingId);
        else ctx.reporter.log('warn', 'agent.remote-failed', { pairing: shortId(pairingId), error: code });
        await pause(delay, signal);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }
}
