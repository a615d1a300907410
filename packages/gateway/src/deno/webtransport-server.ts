/**
 * Native HTTP/3 WebTransport for the gateway's mailbox and relay, run by Deno.
 *
 * @fails-components/webtransport's HTTP/3 transport cannot be built on every
 * machine; Deno ships a QUIC stack and a server-side WebTransport
 * (`Deno.QuicEndpoint` + `Deno.upgradeWebTransport`, behind `--unstable-net`).
 * This entry runs the same transport-agnostic cores the Node gateway uses
 * (MailboxService + serveMailboxSession, TransitRelay + serveRelaySession)
 * behind Deno's listener:
 *
 *   deno run --no-config --import-map=packages/gateway/src/deno/import_map.json \
 *     --no-npm --no-remote --sloppy-imports --unstable-net \
 *     --allow-net=127.0.0.1 --allow-read=DIR \
 *     packages/gateway/src/deno/webtransport-server.ts --cert DIR/cert.pem --key DIR/key.pem [--host 127.0.0.1] [--port 0]
 *
 * It prints one JSON line, `{"event":"listening","host":…,"port":…}`, then
 * one line per session (path and outcome only: no codes, messages or
 * tokens), and stops on SIGTERM/SIGINT or when its stdin closes. Sessions at
 * `/v1` are mailbox connections, at `/relay` relay connections; any other
 * path is closed with code 404.
 *
 * For Chromium with `serverCertificateHashes`, the certificate must be ECDSA
 * (P-256) and valid for less than 14 days. Deno caveats: closing a stream
 * does not signal its end to the browser (the mailbox frames every message
 * and the relay protocol is framed, so nothing relies on it).
 *
 * Not type-checked against Deno's own declarations: the few Deno APIs used
 * are declared below, so the file also compiles with the Node tsconfig.
 */
import { MailboxService } from '../mailbox/service.js';
import { serveMailboxSession, type BidiStreamLike, type WebTransportSessionLike } from '../mailbox/webtransport.js';
import { TransitRelay } from '../relay/relay.js';
import { serveRelaySession } from '../relay/webtransport.js';

interface DenoNetAddr {
  hostname: string;
  port: number;
}
interface DenoWebTransport {
  readonly url: string;
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  readonly incomingBidirectionalStreams: ReadableStream<BidiStreamLike>;
  close(info?: { closeCode?: number; reason?: string }): void;
}
interface DenoQuicConn {
  readonly remoteAddr: DenoNetAddr;
}
interface DenoQuicIncoming {
  accept(): Promise<DenoQuicConn>;
}
interface DenoQuicListener extends AsyncIterable<DenoQuicIncoming> {
  stop(): void;
}
interface DenoQuicEndpoint {
  readonly addr: DenoNetAddr;
  listen(options: { cert: string; key: string; alpnProtocols: string[] }): DenoQuicListener;
  close(): void;
}
declare const Deno: {
  args: string[];
  QuicEndpoint: new (options: { hostname: string; port: number }) => DenoQuicEndpoint;
  upgradeWebTransport(conn: DenoQuicConn): Promise<DenoWebTransport>;
  readTextFileSync(path: string): string;
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  exit(code?: number): never;
  stdin: { readable: ReadableStream<Uint8Array> };
  stdout: { writeSync(data: Uint8Array): number };
};

function option(name: string, fallback?: string): string {
  const at = Deno.args.indexOf(`--${name}`);
  const value = at >= 0 ? Deno.args[at + 1] : fallback;
  if (value === undefined) throw new TypeError(`missing --${name}`);
  return value;
}

const out = new TextEncoder();
function log(event: string, fields: Record<string, unknown> = {}): void {
  Deno.stdout.writeSync(out.encode(`${JSON.stringify({ event, ...fields })}\n`));
}
const logger = {
  info: (event: string, fields?: Record<string, unknown>) => log(event, fields),
  warn: (event: string, fields?: Record<string, unknown>) => log(event, { level: 'warn', ...fields }),
};

/** Deno's server-side WebTransport as the session shape the cores take. */
function asSession(wt: DenoWebTransport, remote: DenoNetAddr): WebTransportSessionLike {
  return {
    ready: wt.ready,
    closed: wt.closed,
    incomingBidirectionalStreams: wt.incomingBidirectionalStreams,
    peerAddress: remote.hostname.includes(':') ? `[${remote.hostname}]:${remote.port}` : `${remote.hostname}:${remote.port}`,
    close: (info) => {
      try {
        wt.close(info);
      } catch {
        // already closed
      }
    },
  };
}

async function main(): Promise<void> {
  const host = option('host', '127.0.0.1');
  const port = Number(option('port', '0'));
  const cert = Deno.readTextFileSync(option('cert'));
  const key = Deno.readTextFileSync(option('key'));

  const mailbox = await MailboxService.start({ logger });
  const relay = new TransitRelay({ logger });
  const endpoint = new Deno.QuicEndpoint({ hostname: host, port });
  const listener = endpoint.listen({ cert, key, alpnProtocols: ['h3'] });

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    listener.stop();
    endpoint.close();
    relay.close();
    void mailbox.close().finally(() => Deno.exit(0));
  };
  Deno.addSignalListener('SIGTERM', stop);
  Deno.addSignalListener('SIGINT', stop);
  // A parent that goes away closes our stdin: stop with it.
  void Deno.stdin.readable.pipeTo(new WritableStream()).finally(stop);

  log('listening', { host, port: endpoint.addr.port });

  const serve = async (incoming: DenoQuicIncoming): Promise<void> => {
    const conn = await incoming.accept();
    const wt = await Deno.upgradeWebTransport(conn);
    const path = new URL(wt.url).pathname;
    const session = asSession(wt, conn.remoteAddr);
    if (path === '/v1') {
      log('session', { path });
      await serveMailboxSession(mailbox, session, { logger });
    } else if (path === '/relay') {
      log('session', { path });
      await serveRelaySession(relay, session, { logger });
    } else {
      log('session-refused', { path: path.slice(0, 64) });
      await wt.ready.catch(() => {
        /* refused either way: only wait for the session to be closable */
      });
      session.close({ closeCode: 404, reason: 'not found' });
    }
  };
  for await (const incoming of listener) {
    serve(incoming).catch((err: unknown) => log('session-failed', { error: String(err).slice(0, 200) }));
  }
}

main().catch((err: unknown) => {
  log('fatal', { error: String(err) });
  Deno.exit(1);
});
