/**
 * An authenticated session with the agent, however it was reached (local
 * agent-v1 or remote-v1): calls, forwards and `fetch`, one stream each
 * (header format: `@burrow/protocol/agent` rpc).
 *
 *   const info = await session.call('info');
 *   const res = await session.fetch('http://127.0.0.1:8080/hello');
 *   await session.close();
 */
import type { CallOptions, Connection, DuplexStream } from '@burrow/client';
import { WormholeError } from '@burrow/protocol';
import { encodeHeader, parseResponse } from '@burrow/protocol/agent';
import type { PairingInfo } from '@burrow/store';
import { readHeader, writeAll } from '../rpc.js';
import { destinationOf, httpOverStream, type AgentFetchInit } from './http.js';
import { bestEffort, observed } from '../ignore.js';

/** An authenticated connection to the agent. */
export class AgentSession {
  /** The agent we are paired with (never the secret). */
  readonly agent: PairingInfo;
  /** The streams themselves; the agent may open streams to us too (`connection.incoming`). */
  readonly connection: Connection;
  /** Resolves on a clean close; rejects with e.g. `Revoked` when the agent dropped us. */
  readonly closed: Promise<void>;

  constructor(agent: PairingInfo, connection: Connection, closed: Promise<void> = connection.closed) {
    this.agent = agent;
    this.connection = connection;
    this.closed = closed;
    closed.catch(observed);
  }

  /** Call `method` on the agent (one stream); resolves with its result or rejects with its error. */
  async call(method: string, params: Record<string, unknown> = {}, options: CallOptions = {}): Promise<unknown> {
    const { rest, result } = await this.#request(method, params, true, options);
    await rest.cancel().catch(bestEffort);
    return result;
  }

  /**
   * Open a byte stream to `destination` (`host:port`, exactly as the agent
   * allowlists it; the agent resolves the name). Rejects with `NotAllowed`
   * if the agent does not allow it.
   */
  async forward(destination: string, options: CallOptions = {}): Promise<DuplexStream> {
    if (typeof destination !== 'string') throw new TypeError('destination must be a "host:port" string');
    const { stream, rest } = await this.#request('forward', { to: destination }, false, options);
    return { id: stream.id, readable: rest, writable: stream.writable };
  }

  /** `fetch` an http:// URL from a local service through the agent (HTTP/1.1, one stream per request). */
  async fetch(input: string | URL, init: AgentFetchInit = {}): Promise<Response> {
    init.signal?.throwIfAborted();
    const url = new URL(input);
    const stream = await this.forward(destinationOf(url), init.signal ? { signal: init.signal } : {});
    return httpOverStream(stream, url, init);
  }

  close(): Promise<void> {
    return this.connection.close('client closed');
  }

  async #request(method: string, params: Record<string, unknown>, closeAfter: boolean, options: CallOptions) {
    options.signal?.throwIfAborted();
    const stream = await this.connection.openStream(options);
    const onAbort = () => {
      stream.writable.abort(options.signal?.reason).catch(bestEffort);
      stream.readable.cancel(options.signal?.reason).catch(bestEffort);
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await writeAll(stream.writable, encodeHeader({ method, params }), closeAfter);
      const { header, rest } = await readHeader(stream.readable);
      const response = parseResponse(header);
      if (!response.ok) {
        await rest.cancel().catch(bestEffort);
        if (!closeAfter) await stream.writable.close().catch(bestEffort);
        throw new WormholeError(response.error.code, response.error.message, { blame: response.error.code === 'NotAllowed' ? 'caller' : 'peer' });
      }
      return { stream, rest, result: response.result };
    } catch (err) {
      if (options.signal?.aborted) throw new WormholeError('Aborted', `${method} was aborted`, { cause: err });
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}
