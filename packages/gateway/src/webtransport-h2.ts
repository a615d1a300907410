/**
 * WebTransport over HTTP/2 and its WebSocket mapping, through
 * @fails-components/webtransport's pure-JS Http2Server: what every browser
 * reaches with that package's ponyfill. (Native HTTP/3 is src/http3/.)
 */
import { bestEffort } from '@burrow/protocol';
import { randomBytes } from 'node:crypto';
import type { WebTransportSessionLike } from './mailbox/webtransport.js';

export interface WebTransportListener {
  readonly port: number;
  close(): void;
}

/** The parts of @fails-components/webtransport's Http2Server we use. */
interface Http2ServerLike {
  startServer(): void;
  stopServer(): void;
  readonly ready: Promise<unknown>;
  address(): { port: number } | null;
  sessionStream(path: string): ReadableStream<WebTransportSessionLike>;
}

/**
 * Load @fails-components/webtransport on first use. At import it tries to
 * load its optional HTTP/3 addon (which cannot be built here) and reports
 * the failure on the console; we do not use HTTP/3, so that report is
 * silenced for the moment of loading.
 */
let webTransportModule: Promise<new (args: Record<string, unknown>) => Http2ServerLike> | undefined;
function loadWebTransport(): Promise<new (args: Record<string, unknown>) => Http2ServerLike> {
  // Once per process: the console is patched only during this first load.
  webTransportModule ??= importWebTransport();
  return webTransportModule;
}

async function importWebTransport(): Promise<new (args: Record<string, unknown>) => Http2ServerLike> {
  const { error, log } = console;
  const quiet = (...args: unknown[]): void => {
    if (!args.some((a) => /quiche|http3/i.test(String(a)))) error(...args);
  };
  console.error = quiet;
  console.log = (...args: unknown[]) => (args.some((a) => /quiche|http3/i.test(String(a))) ? undefined : log(...args));
  try {
    const mod = (await import('@fails-components/webtransport')) as unknown as {
      Http2Server: new (args: Record<string, unknown>) => Http2ServerLike;
      quicheLoaded?: Promise<unknown>;
    };
    await mod.quicheLoaded;
    await new Promise((resolve) => setImmediate(resolve));
    return mod.Http2Server;
  } finally {
    console.error = error;
    console.log = log;
  }
}

export async function listenWebTransport(options: {
  host: string;
  port: number;
  tls: { cert: string | Buffer; key: string | Buffer };
  onMailbox: (session: WebTransportSessionLike) => Promise<void>;
  onRelay: (session: WebTransportSessionLike) => Promise<void>;
}): Promise<WebTransportListener> {
  const Http2Server = await loadWebTransport();
  const server = new Http2Server({
    host: options.host,
    port: options.port,
    cert: String(options.tls.cert),
    privKey: String(options.tls.key),
    // Signs the library's own session tokens; a fresh one per run is fine.
    secret: randomBytes(32).toString('hex'),
  });
  const accept = (path: string, serve: (s: WebTransportSessionLike) => Promise<void>): void => {
    const reader = server.sessionStream(path).getReader();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        void serve(value).catch(bestEffort); // each session logs its own failure
      }
    })().catch(bestEffort); // the listener closed: nothing more to accept
  };
  accept('/v1', options.onMailbox);
  accept('/relay', options.onRelay);
  server.startServer();
  await server.ready;
  const address = server.address();
  return { port: address?.port ?? options.port, close: () => server.stopServer() };
}
