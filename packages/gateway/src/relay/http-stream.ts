/**
 * The transit relay over plain HTTP, for pages that receive: a browser
 * spends about half the CPU per byte on a streamed download that it spends
 * on WebSocket messages (`pnpm bench page`).
 *
 * - `GET /relay-stream/<id>` is the connection: its response body starts
 *   with {@link RELAY_STREAM_PREAMBLE} (at once: Firefox resolves fetch()
 *   only with a first body byte, and a client can tell a relay from any
 *   other 200), then the relay → page bytes ("ok\n", then the peer's
 *   records) stream for as long as the pair lives; ending or aborting it
 *   closes the connection.
 * - `POST /relay-stream/<id>?seq=N` carries page → relay bytes (the
 *   handshake line, a receiver's Transit handshake and ack): bodies are
 *   taken in order, `seq` 0, 1, 2 … — one at a time, answered 204 once
 *   passed on (held while the relay pauses this side). A body over 1 MiB,
 *   or one that takes over 30 s to arrive, ends the connection.
 * - `<id>` is the client's: random, unguessable (≥ 128 bits), and names one
 *   connection; a second GET for it is refused (409).
 *
 * Flow control: the response is written with the relay's watermarks
 * (`buffered()` is the response's queue); a page that stops reading stops
 * TCP, which stops the peer. CORS: any origin (like the WebSocket relay);
 * requests need no preflight (a POST with a bare byte body is "simple"),
 * preflights are answered anyway. Caps and timeouts are the relay's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@burrow/protocol';
import { remoteAddress } from '../mailbox/ws.js';
import type { RelayEndpointEvents } from './endpoint.js';
import type { TransitRelay } from './relay.js';

/** Where the HTTP relay lives (`<prefix><id>`). */
export const RELAY_STREAM_PREFIX = '/relay-stream/';
/** The first bytes of every stream's body (client: packages/client/src/transit/http-stream.ts). */
export const RELAY_STREAM_PREAMBLE = 'burrow relay-stream v1\n';

const ID = /^[A-Za-z0-9_-]{22,64}$/;
const CORS = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' } as const;

export interface RelayHttpStreamOptions {
  readonly logger?: Logger;
  /** Largest POST body (default 1 MiB, as a WebSocket frame). */
  readonly maxBodyBytes?: number;
  /**
   * Time allowed to receive one POST body (default 30 s). A body that takes
   * longer ends the connection: its bytes would hold the page's next ones.
   */
  readonly bodyTimeoutMs?: number;
}

interface Session {
  readonly events: RelayEndpointEvents;
  /** The `seq` the next POST must carry. */
  seq: number;
  /** A POST is being read or held. */
  busy: boolean;
  paused: boolean;
  /** A POST body waiting for the relay to resume this side. */
  held: (() => void) | undefined;
  /** End the connection (a broken POST). */
  readonly kill: () => void;
}

export class RelayHttpStreamServer {
  readonly #relay: TransitRelay;
  readonly #logger: Logger | undefined;
  readonly #maxBodyBytes: number;
  readonly #bodyTimeoutMs: number;
  readonly #sessions = new Map<string, Session>();

  constructor(relay: TransitRelay, options: RelayHttpStreamOptions = {}) {
    this.#relay = relay;
    this.#logger = options.logger;
    this.#maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
    this.#bodyTimeoutMs = options.bodyTimeoutMs ?? 30_000;
  }

  /** Answer a request under {@link RELAY_STREAM_PREFIX}; `address`: the client's (default the TCP peer's). */
  handle(req: IncomingMessage, res: ServerResponse, address = remoteAddress(req)): void {
    const url = new URL(req.url ?? '/', 'http://relay');
    const id = url.pathname.slice(RELAY_STREAM_PREFIX.length);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' });
      res.end();
    } else if (!ID.test(id)) {
      answer(res, 400, 'bad relay stream id');
    } else if (req.method === 'GET') {
      this.#open(id, res, address);
    } else if (req.method === 'POST') {
      this.#post(id, url.searchParams.get('seq'), req, res);
    } else {
      answer(res, 405, 'GET or POST');
    }
  }

  #open(id: string, res: ServerResponse, address: string): void {
    if (this.#sessions.has(id)) return answer(res, 409, 'relay stream id in use');
    const admitted = this.#relay.admit(address);
    if (!admitted.ok) {
      this.#logger?.warn?.('relay.refused-connection', { kind: 'http', address, reason: admitted.reason, limit: admitted.limit });
      return answer(res, 503, 'relay busy');
    }
    res.writeHead(200, { ...CORS, 'content-type': 'application/octet-stream', 'x-accel-buffering': 'no' });
    res.socket?.setNoDelay(true);
    res.write(RELAY_STREAM_PREAMBLE);
    const session: Session = {
      seq: 0,
      busy: false,
      paused: false,
      held: undefined,
      kill: () => res.destroy(),
      events: this.#relay.attach({
        kind: 'http',
        address,
        write: (data, lent) => {
          // A lent view is reused once we return; the response may queue it (it corks until the next tick): copy.
          if (!res.destroyed && !res.writableEnded) res.write(lent ? Buffer.from(data) : data);
          return false;
        },
        buffered: () => res.writableLength,
        pause: () => void (session.paused = true),
        resume: () => {
          session.paused = false;
          const held = session.held;
          session.held = undefined;
          held?.();
        },
        end: () => res.end(),
        destroy: () => res.destroy(),
      }),
    };
    this.#sessions.set(id, session);
    res.on('drain', () => session.events.drain());
    res.on('close', () => {
      this.#sessions.delete(id);
      session.events.closed();
    });
  }

  #post(id: string, seq: string | null, req: IncomingMessage, res: ServerResponse): void {
    const session = this.#sessions.get(id);
    if (!session) return answer(res, 404, 'no such relay stream');
    if (session.busy || seq !== String(session.seq)) return answer(res, 409, `expected seq ${session.seq}, one at a time`);
    session.busy = true;
    const parts: Buffer[] = [];
    let size = 0;
    const refuse = (status: number, text: string) => {
      clearTimeout(timer);
      answer(res, status, text);
      req.destroy();
      session.kill();
    };
    const timer = setTimeout(() => {
      this.#logger?.warn?.('relay.slow-body', { kind: 'http', bytes: size, timeoutMs: this.#bodyTimeoutMs });
      refuse(408, 'body too slow');
    }, this.#bodyTimeoutMs);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.#maxBodyBytes) return refuse(413, 'body too large');
      parts.push(chunk);
    });
    // A body cut off (the client went away mid-POST) arrives as an error: it breaks the stream.
    req.on('error', () => refuse(400, 'broken body'));
    req.on('close', () => clearTimeout(timer));
    req.on('end', () => {
      clearTimeout(timer);
      const deliver = (): void => {
        session.seq++;
        session.busy = false;
        if (size > 0) session.events.data(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
        answer(res, 204);
      };
      if (session.paused) session.held = deliver;
      else deliver();
    });
  }
}

function answer(res: ServerResponse, status: number, text?: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...CORS, 'content-type': 'text/plain' });
  res.end(text === undefined ? undefined : `${text}\n`);
}
