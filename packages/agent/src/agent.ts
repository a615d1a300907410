/**
 * The local agent (Node): a WebSocket endpoint on 127.0.0.1 that paired
 * clients (a browser extension, an app) reach without a code.
 *
 *   const agent = await startAgent({
 *     store: fileStore(dir),
 *     allowOrigins: ['chrome-extension://abcdefghijklmnopabcdefghijklmnop'],
 *     allowForward: ['127.0.0.1:8080'],
 *     mailbox: 'ws://127.0.0.1:4000/v1',
 *   });
 *   const offer = agent.pair();          // show `await offer.code` to the user
 *   await offer.paired;
 *   for await (const e of agent.events()) console.log(e.type);
 *   await agent.shutdown();
 *
 * This module only composes the parts, each one concern:
 *
 *   upgrade.ts          HTTP server; Host, Origin, path and limit checks on every upgrade
 *   handshake.ts        agent-v1 on an accepted socket → a local session
 *   sessions.ts         the open sessions by pairing; drop on revocation
 *   dispatch.ts         one RPC call per stream: info, forward, control, methods
 *   forward.ts          TCP connect and splice for `forward`
 *   remote-listener.ts  remote-v1 rendezvous per client pairing → remote sessions
 *   offer.ts            pairing by code (pair-v1)
 *   events.ts           typed events and log lines (never a secret, code, nonce or proof)
 *
 * The wire formats themselves live in `@burrow/protocol/agent`.
 */
import { hostname } from 'node:os';
import { systemRandom, type CallOptions, type Connection } from '@burrow/client';
import { WormholeError } from '@burrow/protocol';
import { AGENT_PATH } from '@burrow/protocol/agent';
import { Pairings, loadIdentity } from '@burrow/store';
import { serve } from './dispatch.js';
import { AgentReporter, type AgentEvent } from './events.js';
import { acceptClient } from './handshake.js';
import { offerPairing } from './offer.js';
import { DEFAULT_AGENT_PORT, type AgentOptions, type AgentPairings, type AgentStatus, type PairingOffer } from './options.js';
import { Policy } from './policy.js';
import { RemoteListeners } from './remote-listener.js';
import { SessionRegistry } from './sessions.js';
import { UpgradeServer } from './upgrade.js';
import type { Refusal } from './policy.js';
import type { SocketLike } from './socket.js';
import { observed } from './ignore.js';

export { DEFAULT_AGENT_PORT } from './options.js';
export type { AgentOptions, AgentPairings, AgentStatus, PairingOffer, RemoteListenOptions, RpcHandler } from './options.js';
export type { AgentEvent } from './events.js';

/** Start the agent; resolves once it listens. Rejects with `Usage` on a bad allowlist entry. */
export async function startAgent(options: AgentOptions, callOptions: CallOptions = {}): Promise<Agent> {
  callOptions.signal?.throwIfAborted();
  if (!options?.store) throw new WormholeError('Usage', 'options.store is required (memoryStore() or fileStore(dir))');
  const policy = new Policy(options.allowOrigins ?? [], options.allowForward ?? []);
  const id = await loadIdentity(options.store, { ...callOptions, random: options.random ?? systemRandom });
  const agent = new Agent(options, policy, id);
  if (options.port === null) agent.started();
  else await agent.listen(options.port ?? DEFAULT_AGENT_PORT);
  return agent;
}

export class Agent {
  /** This agent's identity (public: clients know it from pairing). */
  readonly id: string;
  readonly name: string;
  /** Pairings: list, rename, revoke (revoking drops open connections at once), remove. */
  readonly pairings: AgentPairings;
  /** Resolves once shut down. */
  readonly closed: Promise<void>;

  readonly #options: AgentOptions;
  readonly #policy: Policy;
  readonly #store: Pairings;
  readonly #reporter: AgentReporter;
  readonly #sessions: SessionRegistry;
  readonly #http: UpgradeServer;
  readonly #pairingAborts = new Set<AbortController>();
  readonly #unwatch: () => void;
  #remote: RemoteListeners | undefined;
  #port = 0;
  #state: 'running' | 'stopped' = 'running';
  #resolveClosed!: () => void;

  /** Use {@link startAgent}. */
  constructor(options: AgentOptions, policy: Policy, id: string) {
    this.#options = options;
    this.#policy = policy;
    this.id = id;
    this.name = options.name ?? `Burrow agent on ${hostname()}`;
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    const store = (this.#store = new Pairings(options.store));
    const reporter = (this.#reporter = new AgentReporter(options.logger));
    const running = () => this.#state === 'running';

    const sessions = (this.#sessions = new SessionRegistry(store, reporter, {
      serve: (session) => void serve(dispatch, session),
      dropped: () => this.#remote?.reconcile(),
    }));
    const dispatch = {
      id,
      name: this.name,
      store,
      policy,
      reporter,
      methods: options.methods ?? {},
      connectTimeoutMs: options.forwardConnectTimeoutMs ?? 10_000,
      drop: (pairingId: string, code: 'Revoked', message: string) => sessions.drop(pairingId, code, message),
    };
    const timeoutMs = options.handshakeTimeoutMs ?? 3_000;
    const handshake = { id, store, reporter, random: options.random ?? systemRandom, timeoutMs, addSession: sessions.add.bind(sessions) };
    const maxSessions = options.maxConnections ?? 32;
    this.#http = new UpgradeServer({
      policy,
      reporter,
      limits: {
        maxSessions,
        maxSessionsPerOrigin: options.maxConnectionsPerOrigin ?? Math.max(1, Math.ceil(maxSessions / 2)),
        maxPending: 32,
        maxPendingPerOrigin: 8,
        preAuthMs: timeoutMs + 500,
      },
      running,
      accepted: (socket, origin, slot) => void acceptClient(handshake, socket, origin, slot),
    });

    this.pairings = {
      list: (o) => store.list(o),
      get: (pid, o) => store.get(pid, o),
      rename: (pid, name, o) => store.rename(pid, name, o),
      revoke: async (pid, o) => {
        const done = await store.revoke(pid, o);
        sessions.drop(pid, 'Revoked', 'the pairing was revoked on the agent');
        return done;
      },
      remove: async (pid, o) => {
        const done = await store.remove(pid, o);
        sessions.drop(pid, 'Revoked', 'the pairing was removed on the agent');
        return done;
      },
    };
    // Another process (`burrow agent revoke`) or another handle on the store may revoke too.
    this.#unwatch = store.watch((pid) => {
      void sessions.recheck(pid);
      this.#remote?.reconcile();
    });
  }

  /** @internal */
  async listen(port: number): Promise<void> {
    this.#port = await this.#http.listen(port);
    this.#policy.setPort(this.#port);
    this.#reporter.log('info', 'agent.listening', { url: this.url, origins: this.#policy.origins, forward: this.#policy.destinations });
    this.#reporter.publish({ type: 'listening', url: this.url });
    this.started();
  }

  /**
   * Serve one client on a socket that did not come through the agent's
   * HTTP endpoint (native messaging: `socket` from native-socket.ts), from
   * `origin` as the browser vouches for it: the same policy, handshake and
   * session as a WebSocket. Returns the refusal when the origin is not allowed.
   */
  accept(socket: SocketLike, origin: string | undefined): Refusal | undefined {
    return this.#http.adopt(socket, origin);
  }

  /** @internal Start what runs beside the endpoint (remote listeners). */
  started(): void {
    const remote = this.#options.remote;
    if (remote) {
      const mailbox = remote.mailbox ?? this.#options.mailbox;
      if (!mailbox) throw new WormholeError('Usage', 'options.remote needs a mailbox: pass options.remote.mailbox or options.mailbox');
      this.#remote = new RemoteListeners({
        id: this.id,
        store: this.#store,
        reporter: this.#reporter,
        remote,
        mailbox,
        WebSocket: this.#options.WebSocket,
        transport: this.#options.transport,
        logger: this.#options.logger,
        running: () => this.#state === 'running',
        addSession: (session) => this.#sessions.add(session),
      });
      this.#remote.reconcile();
    }
  }

  get port(): number {
    return this.#port;
  }

  /** The endpoint clients connect to: `ws://127.0.0.1:PORT/v1`. */
  get url(): string {
    return `ws://127.0.0.1:${this.#port}${AGENT_PATH}`;
  }

  /** A snapshot of the agent. */
  status(): AgentStatus {
    return {
      state: this.#state,
      id: this.id,
      name: this.name,
      url: this.url,
      port: this.#port,
      allowOrigins: this.#policy.origins,
      allowForward: this.#policy.destinations,
      sessions: this.#sessions.summaries(),
      remoteListeners: this.#remote?.size ?? 0,
    };
  }

  /** Events from now on, as an async iterable; ends at shutdown or when `signal` fires. */
  events(options: CallOptions = {}): AsyncIterableIterator<AgentEvent> {
    return this.#reporter.events.subscribe(options);
  }

  /**
   * Offer a pairing by code through the mailbox: show `code` to the user, who
   * types it into the client. One offer pairs one client.
   */
  pair(options: CallOptions & { codeLength?: number } = {}): PairingOffer {
    const controller = new AbortController();
    this.#pairingAborts.add(controller);
    const offer = offerPairing(
      {
        id: this.id,
        name: this.name,
        url: this.url,
        options: this.#options,
        policy: this.#policy,
        store: this.#store,
        reporter: this.#reporter,
        running: () => this.#state === 'running',
        paired: () => this.#remote?.reconcile(),
      },
      controller,
      options,
    );
    void offer.paired.catch(observed).finally(() => this.#pairingAborts.delete(controller));
    return offer;
  }

  /**
   * The live connection of a paired client: open streams to it, see its
   * stats. Waits until that client connects (bound it with `signal`).
   */
  connect(pairingId: string, options: CallOptions = {}): Promise<Connection> {
    options.signal?.throwIfAborted();
    const live = this.#sessions.live(pairingId);
    if (live) return Promise.resolve(live);
    if (this.#state !== 'running') return Promise.reject(new WormholeError('Closed', 'the agent is shut down'));
    return this.#sessions.next(pairingId, options);
  }

  /** Stop listening, drop every session and pending pairing, end `events`. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.#state === 'stopped') return this.closed;
    this.#state = 'stopped';
    this.#unwatch();
    this.#remote?.stop();
    for (const c of this.#pairingAborts) c.abort(new WormholeError('Closed', 'the agent is shutting down'));
    await this.#sessions.closeAll();
    await this.#http.close();
    this.#reporter.log('info', 'agent.shutdown', {});
    this.#reporter.publish({ type: 'shutdown' });
    this.#reporter.events.end();
    this.#resolveClosed();
  }
}
