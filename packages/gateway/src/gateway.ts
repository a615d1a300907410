/**
 * startGateway: one process that serves browsers and native peers alike.
 *
 *   const gw = await startGateway({ port: 4000, transitPort: 4001, dataDir: '.burrow/gateway' });
 *   gw.url          // ws://127.0.0.1:4000/v1     mailbox (magic-wormhole client protocol)
 *   gw.relayUrl     // ws://127.0.0.1:4000/relay  transit relay for browsers
 *   gw.transitHint  // tcp:127.0.0.1:4001         transit relay for native peers
 *   await gw.close();
 *
 * HTTP(S) + WebSocket on `port`: the mailbox at /v1, the relay at /relay,
 * GET /health (JSON counters and store health, no secrets), GET /metrics
 * (Prometheus text). The TCP relay listens on
 * `transitPort`. With `tls` and `webtransportPort`, WebTransport (HTTP/2 and
 * its WebSocket mapping, via @fails-components/webtransport) serves the
 * mailbox and the relay at the same paths. TCP, WebSocket and WebTransport
 * relay clients all meet in one relay, glued by token.
 */
import { bestEffort } from '@burrow/protocol';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from '@burrow/protocol';
import { SqliteMailboxStore } from './mailbox/sqlite-store.js';
import type { UsageRecord, WelcomeOptions } from '@burrow/protocol/server';
import { iceWelcome } from './ice.js';
import { hashcashPermission } from '@burrow/protocol/hashcash';
import { GatewayMetrics, metricsSnapshot, UsageLog } from './metrics.js';
import { MailboxService, type MailboxServiceLimits, type MailboxServiceStats } from './mailbox/service.js';
import type { MailboxStore } from './mailbox/store.js';
import type { RedisEngineOptions } from './mailbox/redis-engine.js';
import { MailboxWebSocketServer, refuseUpgrade } from './mailbox/ws.js';
import { TransitRelay, type RelayLimits, type RelayStats } from './relay/relay.js';
import { listenTcpRelay, type TcpRelayListener } from './relay/tcp.js';
import { RelayShare } from './relay/shared.js';
import { RelayWebSocketServer } from './relay/ws.js';
import { RELAY_STREAM_PREFIX, RelayHttpStreamServer } from './relay/http-stream.js';
import { RELAYS_WELCOME_KEY } from '@burrow/protocol';
import { serveMailboxSession, type WebTransportSessionLike } from './mailbox/webtransport.js';
import { serveRelaySession } from './relay/webtransport.js';
import { listenWebTransport, type WebTransportListener } from './webtransport-h2.js';
import { listenHttp3, webTransportInfo, type Http3Listener } from './http3/listener.js';
import { acceptProxyHeaders, requestAddress, type ProxyHeaderOptions } from './proxy-connection.js';
import { TrustedProxies } from './trust-proxy.js';

export interface GatewayOptions {
  /** Address to bind both listeners to (default 127.0.0.1). */
  host?: string;
  /** HTTP + WebSocket port (default 4000; 0 = any free port). */
  port?: number;
  /** TCP transit relay port (default 4001; 0 = any free port; null = no TCP relay). */
  transitPort?: number | null;
  /** Serve HTTPS/WSS with this PEM certificate and key (the TCP relay stays plain: transit is end-to-end encrypted). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * WebTransport port (HTTP/2 + TLS, and the WebSocket mapping browsers use
   * through the @fails-components ponyfill); needs `tls`. 0 = any free port.
   * Default: no WebTransport.
   */
  webtransportPort?: number;
  /**
   * Native HTTP/3 WebTransport on this UDP port (0 = any free port): the
   * mailbox at /v1 and the relay at /relay on this gateway's own state (Deno
   * terminates QUIC and hands each session over; docs: guide/gateway). The
   * certificate is `tls` (this one's, else the gateway's), else a fresh
   * self-signed ECDSA P-256 one valid 13 days, published with its SHA-256
   * at GET /webtransport. `deno`: the binary (default the npm package's).
   */
  http3?: { port: number; tls?: { cert: string | Buffer; key: string | Buffer }; deno?: string };
  /** Host name to put in the returned URLs and hint (default: `host`, or 127.0.0.1 for a wildcard host). */
  publicHost?: string;
  /**
   * Keep mailbox state in this directory (SQLite, mailbox.sqlite) so a
   * restart — or a crash — loses nothing a client saw acknowledged.
   */
  dataDir?: string;
  /** With `dataDir`: `normal` (default) survives a process crash, `full` also a power loss (fsync per commit). */
  dataSync?: 'normal' | 'full';
  /** A custom mailbox store; overrides `dataDir`. Default: in memory. */
  store?: MailboxStore;
  /** Share the mailboxes with every gateway on this Redis, `{ url: 'redis://HOST:PORT' }` (docs: guide/scaling); excludes `dataDir`, `store`. */
  redis?: RedisEngineOptions;
  /** Shown by every client on connect. */
  motd?: string;
  /** welcome.current_cli_version (older CLIs print an upgrade hint). */
  advertiseVersion?: string;
  /** Make every client fail with this message (server disabled). */
  signalError?: string;
  /** Answer `list` with the nameplates in use (default true). */
  allowList?: boolean;
  /** Ask every client for a hashcash stamp of `bits` zero bits before bind (`permission-required`); off by default. */
  permission?: { hashcash: { bits: number } };
  /** Mailbox limits: frame size, connections, allocations, mailbox sizes (see {@link MailboxServiceLimits}). */
  mailboxLimits?: Partial<MailboxServiceLimits>;
  /** Relay limits: connections, timeouts, watermarks (see {@link RelayLimits}). */
  relayLimits?: Partial<RelayLimits>;
  /** Largest WebSocket frame on /relay (default 1 MiB). */
  relayMaxFrameBytes?: number;
  /** Abandoned nameplates/mailboxes expire after this (default 11 min). */
  expiryMs?: number;
  /** How often to expire them (default 5 min). */
  pruneIntervalMs?: number;
  /** Mailbox WebSocket ping interval; a client silent for a whole interval is dropped (default 60 s). */
  pingIntervalMs?: number;
  /** Structured logs: `logger.info('event.name', { fields })`. Never given codes, message bodies, keys or tokens. */
  logger?: Logger;
  /** Append a usage record (JSON line: app, times, mood) per finished nameplate and mailbox to this file. */
  usageLog?: string;
  /** Called with each usage record. */
  onUsage?: (record: UsageRecord) => void;
  /** STUN servers to announce in the welcome (`burrow-ice-v1`), e.g. `['stun:turn.example.org:3478']`. */
  stunUrls?: string[];
  /**
   * A TURN server run with coturn's `use-auth-secret` and this
   * `static-auth-secret`: each connection's welcome carries its own
   * credential, valid for `ttlSeconds` (default 600).
   */
  turn?: { urls: string[]; secret: string; ttlSeconds?: number };
  /** Proxies (`ADDR` or `ADDR/PREFIX`) whose PROXY v1/v2 headers and X-Forwarded-For name the client (guide/gateway); default none. */
  trustProxy?: readonly string[];
}

export interface GatewayStats {
  mailbox: MailboxServiceStats;
  relay: RelayStats;
}

export interface Gateway {
  /** Mailbox URL: ws(s)://HOST:PORT/v1 */
  readonly url: string;
  /** WebSocket relay URL: ws(s)://HOST:PORT/relay */
  readonly relayUrl: string;
  /** TCP relay as a magic-wormhole hint, `tcp:HOST:PORT` (undefined without a TCP relay). */
  readonly transitHint: string | undefined;
  readonly port: number;
  readonly transitPort: number | undefined;
  /** WebTransport base URL, https://HOST:R (sessions at /v1 and /relay); undefined without WebTransport. */
  readonly webtransportUrl: string | undefined;
  readonly webtransportPort: number | undefined;
  /** Native HTTP/3 WebTransport base URL, https://HOST:R (sessions at /v1 and /relay); undefined without `http3`. */
  readonly http3Url: string | undefined;
  /** Its certificate as `serverCertificateHashes` takes it (hex value); also at GET /webtransport. */
  readonly http3CertificateHash: { readonly algorithm: 'sha-256'; readonly value: string } | undefined;
  stats(): GatewayStats;
  /** The `/metrics` text (Prometheus exposition format). */
  metrics(): string;
  /**
   * Graceful stop: refuse new connections at once, let open ones finish
   * (wormholes close, relayed pairs end) for up to `drainMs` (default 10 s),
   * then {@link close} — remaining clients get close 1001 and reconnect
   * later; with a store, nothing acknowledged is lost.
   */
  shutdown(options?: { drainMs?: number }): Promise<void>;
  /** Stop listening, drop every connection, flush the store. */
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Start the gateway. Rejects if a port is taken or the store cannot be loaded. */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  const metrics = new GatewayMetrics();
  const trusted = options.trustProxy?.length ? new TrustedProxies(options.trustProxy) : undefined;
  // Every component logs through the metrics tap: refusals are counted by the bound that made them.
  const logger = metrics.tap(options.logger);
  const proxies: ProxyHeaderOptions | undefined = trusted && { trust: trusted, logger };
  const usageLog = options.usageLog !== undefined ? new UsageLog(options.usageLog, logger) : undefined;
  const onUsage = (record: UsageRecord): void => {
    metrics.usage(record);
    usageLog?.write(record);
    options.onUsage?.(record);
  };
  if (options.redis && (options.store || options.dataDir)) throw new TypeError('options.redis excludes options.store and options.dataDir');
  const store =
    options.store ??
    (options.dataDir
      ? new SqliteMailboxStore({ dir: options.dataDir, ...(options.dataSync ? { synchronous: options.dataSync } : {}), ...(logger ? { logger } : {}) })
      : undefined);
  const welcome: WelcomeOptions = {
    ...(options.motd !== undefined ? { motd: options.motd } : {}),
    ...(options.advertiseVersion !== undefined ? { currentCliVersion: options.advertiseVersion } : {}),
    ...(options.signalError !== undefined ? { error: options.signalError } : {}),
  };
  const mailbox = await MailboxService.start({
    welcome,
    ...(store ? { store } : {}),
    ...(options.redis ? { redis: options.redis } : {}),
    ...(logger ? { logger } : {}),
    ...(options.allowList !== undefined ? { allowList: options.allowList } : {}),
    ...(options.permission ? { permission: hashcashPermission(options.permission.hashcash.bits) } : {}),
    ...(options.mailboxLimits ? { limits: options.mailboxLimits } : {}),
    ...(options.expiryMs !== undefined ? { expiryMs: options.expiryMs } : {}),
    ...(options.pruneIntervalMs !== undefined ? { pruneIntervalMs: options.pruneIntervalMs } : {}),
    onUsage,
    ...(options.turn || options.stunUrls ? { welcomeFor: iceWelcome(options.stunUrls, options.turn) } : {}),
  });
  const relay = new TransitRelay({ ...(logger ? { logger } : {}), ...(options.relayLimits ? { limits: options.relayLimits } : {}) });
  const mailboxWs = new MailboxWebSocketServer(mailbox, {
    ...(logger ? { logger } : {}),
    ...(options.pingIntervalMs !== undefined ? { pingIntervalMs: options.pingIntervalMs } : {}),
  });
  const relayWs = new RelayWebSocketServer(relay, {
    ...(logger ? { logger } : {}),
    ...(options.relayMaxFrameBytes !== undefined ? { maxFrameBytes: options.relayMaxFrameBytes } : {}),
  });
  const relayHttp = new RelayHttpStreamServer(relay, logger ? { logger } : {});
  const stats = (): GatewayStats => ({ mailbox: mailbox.stats(), relay: relay.stats() });
  let draining = false;
  const http3Status = () => (h3 ? { listening: h3.listening, restarts: h3.restarts, notAfter: h3.notAfter } : undefined);
  const metricsText = (): string => metrics.render(metricsSnapshot({ ...stats(), store: mailbox.storeHealth(), draining, ...(h3 ? { http3: http3Status()! } : {}) }));

  const shown = urlHost(options.publicHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host));
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      // A gateway that cannot save is up but refusing changes: 503, so a load balancer moves clients on.
      const storeHealth = mailbox.storeHealth();
      res.writeHead(storeHealth.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ status: storeHealth.ok ? 'ok' : 'store-failing', ...stats(), store: storeHealth, ...(h3 ? { http3: http3Status() } : {}) }));
    } else if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'cache-control': 'no-store' });
      res.end(metricsText());
    } else if (req.method === 'GET' && path === '/webtransport') {
      // Pages on any origin may ask where WebTransport is and which certificate to trust.
      res.writeHead(h3 ? 200 : 404, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
      res.end(JSON.stringify(h3 ? webTransportInfo(`https://${shown}:${h3.port}`, h3) : { error: 'no HTTP/3 WebTransport on this gateway' }));
    } else if (path?.startsWith(RELAY_STREAM_PREFIX)) {
      relayHttp.handle(req, res, proxies && requestAddress(req, proxies.trust));
    } else if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('Burrow gateway: mailbox at /v1, relay at /relay\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    }
  };
  const http = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, onRequest) : createHttpServer(onRequest);
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {
      /* a reset before or during the upgrade: the ws server or the socket's close ends it */
    });
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/v1') mailboxWs.handleUpgrade(req, socket, head, proxies && requestAddress(req, proxies.trust));
    else if (path === '/relay') relayWs.handleUpgrade(req, socket, head, proxies && requestAddress(req, proxies.trust));
    else refuseUpgrade(socket, 404, 'Not Found');
  });
  http.on('clientError', (_err, socket) => socket.destroy());
  // Behind load balancers: PROXY headers on this port and the TCP relay's, X-Forwarded-For on upgrades.
  if (proxies) acceptProxyHeaders(http, proxies);
  // A client that opens a connection and never finishes its request (or upgrade) is cut fast.
  http.headersTimeout = 10_000;
  http.requestTimeout = 15_000;

  if (options.webtransportPort !== undefined && !options.tls) {
    await mailbox.close();
    relay.close();
    mailboxWs.close();
    relayWs.close();
    throw new TypeError('options.webtransportPort needs options.tls (WebTransport runs over TLS)');
  }

  let tcp: TcpRelayListener | undefined;
  let relayShare: RelayShare | undefined;
  let wt: WebTransportListener | undefined;
  let h3: Http3Listener | undefined;
  let port: number;
  try {
    port = await listen(http, host, options.port ?? 4000);
    const transitPort = options.transitPort === undefined ? 4001 : options.transitPort;
    if (transitPort !== null) tcp = await listenTcpRelay(relay, { host, port: transitPort, ...(logger ? { logger } : {}), ...(proxies ? { proxies } : {}) });
    // Relay pairs across the processes on this Redis (guide/scaling).
    if (options.redis) relayShare = await RelayShare.start(relay, { ...options.redis, host, ...(logger ? { logger } : {}) });
    if (options.webtransportPort !== undefined && options.tls) {
      wt = await listenWebTransport({
        host,
        port: options.webtransportPort,
        tls: options.tls,
        onMailbox: (session) => serveMailboxSession(mailbox, session, logger ? { logger } : {}),
        onRelay: (session) => serveRelaySession(relay, session, logger ? { logger } : {}),
      });
    }
    if (options.http3) {
      h3 = await listenHttp3({
        host,
        port: options.http3.port,
        tls: options.http3.tls ?? options.tls,
        names: [...new Set([options.publicHost ?? host, '127.0.0.1', 'localhost'])],
        deno: options.http3.deno,
        logger,
        onSession: async (path, session) => {
          if (path === '/v1') await serveMailboxSession(mailbox, session, { logger });
          else if (path === '/relay') await serveRelaySession(relay, session, { logger });
          else session.close({ closeCode: 404, reason: 'not found' });
        },
      });
    }
  } catch (err) {
    tcp?.close().catch(bestEffort);
    relayShare?.close().catch(bestEffort);
    wt?.close();
    http.close();
    mailboxWs.close();
    relayWs.close();
    relay.close();
    await mailbox.close();
    throw err;
  }

  const scheme = options.tls ? 'wss' : 'ws';
  // Tell Burrow clients where our relay is, so a browser and a stock CLI
  // meet at it without anyone passing a flag (see RELAYS_WELCOME_KEY).
  mailbox.setWelcomeExtras({
    [RELAYS_WELCOME_KEY]: [
      {
        ...(tcp ? { tcp: `tcp:${shown}:${tcp.port}` } : {}),
        websocket: [`${scheme}://${shown}:${port}/relay`],
        ...(h3 ? { webtransport: [`https://${shown}:${h3.port}/relay`] } : {}),
      },
    ],
  });
  logger?.info?.('gateway.listening', {
    host,
    port,
    transitPort: tcp?.port ?? null,
    webtransportPort: wt?.port ?? null,
    http3Port: h3?.port ?? null,
    tls: Boolean(options.tls),
    persistent: Boolean(store ?? options.redis),
  });

  let closing: Promise<void> | undefined;
  const gateway: Gateway = {
    url: `${scheme}://${shown}:${port}/v1`,
    relayUrl: `${scheme}://${shown}:${port}/relay`,
    transitHint: tcp ? `tcp:${shown}:${tcp.port}` : undefined,
    port,
    transitPort: tcp?.port,
    webtransportUrl: wt ? `https://${shown}:${wt.port}` : undefined,
    webtransportPort: wt?.port,
    http3Url: h3 ? `https://${shown}:${h3.port}` : undefined,
    // A getter: the self-signed certificate is replaced before it expires.
    get http3CertificateHash() {
      return h3?.certificateHash;
    },
    stats,
    metrics: metricsText,
    async shutdown({ drainMs = 10_000 } = {}) {
      if (!closing && !draining) {
        draining = true;
        mailbox.stopAccepting();
        relay.stopAccepting();
        const s = stats();
        logger.info?.('gateway.draining', { drainMs, mailboxConnections: s.mailbox.connections, relayConnections: s.relay.connections });
        const deadline = Date.now() + drainMs;
        const busy = (): boolean => mailbox.stats().connections > 0 || relay.stats().connections > 0;
        // Connections in no wormhole go at once; the others as their wormholes end (or at the deadline).
        while (busy() && Date.now() < deadline) {
          mailbox.closeIdle();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const left = stats();
        logger.info?.('gateway.drained', { mailboxConnections: left.mailbox.connections, relayConnections: left.relay.connections });
      }
      await gateway.close();
    },
    close() {
      closing ??= (async () => {
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        const tcpClosed = tcp?.close();
        wt?.close();
        await h3?.close();
        await mailbox.close();
        mailboxWs.close();
        relayWs.close();
        relay.close();
        await relayShare?.close();
        http.closeAllConnections();
        await Promise.all([httpClosed, tcpClosed, usageLog?.close()]);
        logger?.info?.('gateway.closed', {});
      })();
      return closing;
    },
  };
  return gateway;
}
