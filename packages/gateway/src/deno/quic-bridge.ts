/**
 * Native HTTP/3 WebTransport for the gateway: Deno terminates QUIC, the
 * gateway serves the sessions. Started by the gateway (src/http3/listener.ts),
 * never by hand:
 *
 *   deno run --no-config --no-npm --no-remote --unstable-net \
 *     --allow-net=HOST,unix:SOCK --allow-read=DIR --allow-write=SOCK \
 *     quic-bridge.ts --cert DIR/cert.pem --key DIR/key.pem --host HOST --port R --bridge SOCK
 *
 * `Deno.QuicEndpoint` + `Deno.upgradeWebTransport` accept the sessions.
 * For each one the bridge connects to the gateway's Unix socket SOCK and
 * speaks the bridge framing (src/http3/bridge-frames.ts): a `hello` with
 * the session's path and the client's address, `stream` when the client
 * opens its (one) bidirectional stream, then `data`/`end` both ways; the
 * gateway may answer `close` (code, reason). Limits, admission and the
 * mailbox and relay state all live in the gateway; this process holds no
 * state of its own. A session waits for the gateway's verdict on its stream
 * (the gateway times out sessions that never open one).
 *
 * It prints `{"event":"listening","port":…}` once, then only failures, and
 * stops on SIGTERM/SIGINT or when its stdin closes (the gateway went away).
 * Deno caveat: closing a stream does not signal its end to the browser; the
 * mailbox frames its messages and the relay protocol is framed, so nothing
 * relies on it.
 *
 * Standalone on purpose (no imports): it runs from the source tree and from
 * the built package alike. The Deno APIs used are declared below, so the
 * file also compiles with the Node tsconfig.
 */

interface DenoNetAddr {
  hostname: string;
  port: number;
}
interface BidiStream {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
}
interface DenoWebTransport {
  readonly url: string;
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  readonly incomingBidirectionalStreams: ReadableStream<BidiStream>;
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
interface DenoConn {
  readonly readable: ReadableStream<Uint8Array>;
  write(data: Uint8Array): Promise<number>;
  close(): void;
}
declare const Deno: {
  args: string[];
  QuicEndpoint: new (options: { hostname: string; port: number }) => DenoQuicEndpoint;
  upgradeWebTransport(conn: DenoQuicConn): Promise<DenoWebTransport>;
  connect(options: { transport: 'unix'; path: string }): Promise<DenoConn>;
  readTextFileSync(path: string): string;
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  exit(code?: number): never;
  stdin: { readable: ReadableStream<Uint8Array> };
  stdout: { writeSync(data: Uint8Array): number };
};

// Bridge frame types; the gateway's side is src/http3/bridge-frames.ts.
const HELLO = 1;
const STREAM = 2;
const DATA = 3;
const END = 4;
const CLOSE = 5;
/** Largest frame from the gateway (it writes at most 32 KiB of data per frame). */
const MAX_FROM_GATEWAY = 1024 * 1024;
/** Largest data frame we write (the gateway's bound is 64 KiB). */
const MAX_DATA = 32 * 1024;

function option(name: string, fallback?: string): string {
  const at = Deno.args.indexOf(`--${name}`);
  const value = at >= 0 ? Deno.args[at + 1] : fallback;
  if (value === undefined) throw new TypeError(`missing --${name}`);
  return value;
}

const text = new TextEncoder();
function log(event: string, fields: Record<string, unknown> = {}): void {
  Deno.stdout.writeSync(text.encode(`${JSON.stringify({ event, ...fields })}\n`));
}

function frame(type: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length + 1);
  out[4] = type;
  out.set(payload, 5);
  return out;
}

/** A stream's chunks (Deno's streams are async iterable, but the Node tsconfig's DOM types say otherwise). */
async function* chunks(readable: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    yield value;
  }
}

/** Frames from the gateway as { type, payload }, in order; ends when the socket does. */
async function* framesFrom(readable: ReadableStream<Uint8Array>): AsyncGenerator<{ type: number; payload: Uint8Array }> {
  let buffered = new Uint8Array(0);
  for await (const chunk of chunks(readable)) {
    const joined = new Uint8Array(buffered.length + chunk.length);
    joined.set(buffered);
    joined.set(chunk, buffered.length);
    let at = 0;
    while (joined.length - at >= 4) {
      const length = new DataView(joined.buffer, at).getUint32(0);
      if (length < 1 || length > MAX_FROM_GATEWAY) throw new RangeError(`bad bridge frame of ${length} bytes`);
      if (joined.length - at < 4 + length) break;
      yield { type: joined[at + 4]!, payload: joined.slice(at + 5, at + 4 + length) };
      at += 4 + length;
    }
    buffered = joined.slice(at);
  }
}

function closeSession(wt: DenoWebTransport, info?: { closeCode?: number; reason?: string }): void {
  try {
    wt.close(info);
  } catch {
    // already closed
  }
}

/** Refuse every stream after the first (the gateway only ever sees one per session). */
async function refuseMore(streams: ReadableStreamDefaultReader<BidiStream>): Promise<void> {
  for (;;) {
    const extra = await streams.read();
    if (extra.done) return;
    extra.value.readable.cancel().catch(() => undefined);
    extra.value.writable.abort().catch(() => undefined);
  }
}

/** Client → gateway: the stream's bytes as data frames, then `end`. */
async function upstream(stream: BidiStream, conn: DenoConn): Promise<void> {
  for await (const chunk of chunks(stream.readable)) {
    for (let at = 0; at < chunk.length; at += MAX_DATA) await conn.write(frame(DATA, chunk.subarray(at, at + MAX_DATA)));
  }
  await conn.write(frame(END));
}

/** Gateway → client: data onto the stream, `end` closes it, `close` ends the session. */
async function downstream(wt: DenoWebTransport, stream: () => BidiStream | undefined, conn: DenoConn): Promise<void> {
  let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  for await (const { type, payload } of framesFrom(conn.readable)) {
    if (type === CLOSE) {
      const info = JSON.parse(new TextDecoder().decode(payload)) as { code?: number; reason?: string };
      closeSession(wt, { ...(info.code !== undefined ? { closeCode: info.code } : {}), reason: String(info.reason ?? '').slice(0, 100) });
      return;
    }
    const s = stream();
    if (!s) continue;
    writer ??= s.writable.getWriter();
    if (type === DATA) await writer.write(payload);
    else if (type === END) await writer.close();
  }
}

async function serve(incoming: DenoQuicIncoming, bridge: string): Promise<void> {
  const quic = await incoming.accept();
  const wt = await Deno.upgradeWebTransport(quic);
  await wt.ready;
  const peer = quic.remoteAddr.hostname.includes(':') ? `[${quic.remoteAddr.hostname}]:${quic.remoteAddr.port}` : `${quic.remoteAddr.hostname}:${quic.remoteAddr.port}`;
  const conn = await Deno.connect({ transport: 'unix', path: bridge });
  let stream: BidiStream | undefined;
  let over = false;
  const done = (): void => {
    over = true;
    closeSession(wt);
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
  wt.closed.then(done, done);
  try {
    await conn.write(frame(HELLO, text.encode(JSON.stringify({ path: new URL(wt.url).pathname.slice(0, 256), peer }))));
    // The gateway closing the socket (or sending `close`) ends the session.
    const down = downstream(wt, () => stream, conn).finally(done);
    const streams = wt.incomingBidirectionalStreams.getReader();
    const first = await Promise.race([streams.read(), down.then(() => ({ done: true as const, value: undefined }))]);
    if (!first.done) {
      stream = first.value;
      refuseMore(streams).catch(() => undefined);
      await conn.write(frame(STREAM));
      await Promise.all([upstream(stream, conn), down]);
    }
    await down;
  } catch (err) {
    // A session or socket that went away mid-write is the normal end; anything else is worth a line.
    if (!over) throw err;
  } finally {
    done();
  }
}

function main(): void {
  const host = option('host', '127.0.0.1');
  const port = Number(option('port', '0'));
  const bridge = option('bridge');
  const endpoint = new Deno.QuicEndpoint({ hostname: host, port });
  const listener = endpoint.listen({ cert: Deno.readTextFileSync(option('cert')), key: Deno.readTextFileSync(option('key')), alpnProtocols: ['h3'] });
  const stop = (): void => {
    listener.stop();
    endpoint.close();
    Deno.exit(0);
  };
  Deno.addSignalListener('SIGTERM', stop);
  Deno.addSignalListener('SIGINT', stop);
  // The gateway going away closes our stdin: stop with it.
  void Deno.stdin.readable.pipeTo(new WritableStream()).finally(stop);
  log('listening', { host, port: endpoint.addr.port });
  void (async () => {
    for await (const incoming of listener) {
      serve(incoming, bridge).catch((err: unknown) => log('session-failed', { error: String(err).slice(0, 200) }));
    }
  })();
}

try {
  main();
} catch (err) {
  log('fatal', { error: String(err).slice(0, 500) });
  Deno.exit(1);
}
