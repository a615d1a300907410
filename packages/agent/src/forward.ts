/**
 * `forward`: open a TCP connection to an allowlisted `host:port` (the name
 * resolved here, on the agent) and splice it with the call's stream, both
 * ways, with backpressure each way.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { DuplexStream } from '@burrow/client';
import type { WormholeErrorCode } from '@burrow/protocol';
import { encodeHeader, shortId } from '@burrow/protocol/agent';
import type { AgentReporter } from './events.js';
import { isRefusal, type Destination, type Policy } from './policy.js';
import { writeAll } from './rpc.js';
import type { Session } from './sessions.js';
import { bestEffort } from './ignore.js';

export interface ForwardContext {
  readonly policy: Policy;
  readonly reporter: AgentReporter;
  /** Bound on the TCP connect, in ms. */
  readonly connectTimeoutMs: number;
}

/** Answer a call with an error and close it. */
export type FailCall = (code: WormholeErrorCode, message: string) => Promise<void>;

/**
 * Serve a `forward` call: check the destination, connect, answer
 * `{ok: true, result: {to}}`, then carry bytes until either end closes.
 */
export async function forward(ctx: ForwardContext, session: Session, stream: DuplexStream, rest: ReadableStream<Uint8Array>, params: Record<string, unknown>, fail: FailCall): Promise<void> {
  const dest = ctx.policy.checkDestination(params['to']);
  if (isRefusal(dest)) {
    ctx.reporter.refuse(dest, session.pairing.id);
    await rest.cancel().catch(bestEffort);
    return fail('NotAllowed', dest.message);
  }
  let tcp: Socket;
  try {
    tcp = await dial(dest, ctx.connectTimeoutMs);
  } catch (err) {
    await rest.cancel().catch(bestEffort);
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    ctx.reporter.log('warn', 'agent.forward-failed', { pairing: shortId(session.pairing.id), to: dest.key, error: why });
    return fail('Connection', `could not connect to ${dest.key}: ${why}`);
  }
  if (session.abort.signal.aborted) {
    tcp.destroy();
    return;
  }
  session.forwards.add(tcp);
  tcp.once('close', () => session.forwards.delete(tcp));
  ctx.reporter.log('info', 'agent.forward', { pairing: shortId(session.pairing.id), to: dest.key });
  ctx.reporter.publish({ type: 'forward', pairing: session.pairing, to: dest.key });
  await writeAll(stream.writable, encodeHeader({ ok: true, result: { to: dest.key } }));
  await splice(tcp, stream.writable, rest);
}

/** A connected TCP socket to `dest`, or a rejection after `timeoutMs`. */
function dial(dest: Destination, timeoutMs: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s = netConnect({ host: dest.host, port: dest.port, timeout: timeoutMs });
    s.once('connect', () => {
      s.setTimeout(0);
      s.off('error', reject);
      resolve(s);
    });
    s.once('timeout', () => {
      s.destroy();
      reject(new Error('timed out'));
    });
    s.once('error', reject);
  });
}

/**
 * Join a TCP socket and a stream both ways, with backpressure each way;
 * resolves when the socket is closed. Either side failing tears down both.
 */
export function splice(tcp: Socket, writable: WritableStream<Uint8Array>, readable: ReadableStream<Uint8Array>): Promise<void> {
  const writer = writable.getWriter();
  const reader = readable.getReader();
  const teardown = (reason?: unknown) => {
    tcp.destroy();
    writer.abort(reason).catch(bestEffort);
    reader.cancel(reason).catch(bestEffort);
  };
  tcp.on('data', (chunk: Buffer) => {
    writer.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)).catch(teardown);
    if ((writer.desiredSize ?? 1) <= 0) {
      tcp.pause();
      writer.ready.then(() => tcp.resume(), teardown);
    }
  });
  tcp.on('end', () => void writer.close().catch(bestEffort));
  tcp.on('error', (err) => teardown(err));
  const done = new Promise<void>((resolve) => tcp.once('close', () => resolve()));
  void (async () => {
    try {
      for (;;) {
        const { value, done: ended } = await reader.read();
        if (ended) {
          tcp.end();
          return;
        }
        if (!tcp.write(value)) await drained(tcp);
        if (tcp.destroyed) return;
      }
    } catch (err) {
      teardown(err);
    }
  })();
  return done.then(() => {
    reader.cancel().catch(bestEffort);
    writer.releaseLock();
  });
}

/** Resolves once `tcp` drains or closes. */
function drained(tcp: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const go = () => {
      tcp.off('drain', go);
      tcp.off('close', go);
      resolve();
    };
    tcp.on('drain', go);
    tcp.on('close', go);
  });
}
