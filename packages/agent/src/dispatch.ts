/**
 * RPC dispatch: every stream a paired client opens is one call (header
 * format: `@burrow/protocol/agent` rpc). Built in: `info`, `forward`, and
 * for remote sessions `control` (the stream a revocation is announced on);
 * the rest go to the embedder's methods. The pairing is re-checked on every
 * call, since a store the agent cannot watch may have revoked it.
 */
import type { DuplexStream } from '@burrow/client';
import { WormholeError, type WormholeErrorCode } from '@burrow/protocol';
import { AGENT_PROTOCOL_VERSION, encodeHeader, parseRequest, type RpcResponse } from '@burrow/protocol/agent';
import type { JsonValue, Pairings } from '@burrow/store';
import { forward, type ForwardContext } from './forward.js';
import type { RpcHandler } from './options.js';
import { readHeader, writeAll } from './rpc.js';
import type { Session } from './sessions.js';
import { bestEffort } from './ignore.js';

export interface DispatchContext extends ForwardContext {
  readonly id: string;
  readonly name: string;
  readonly store: Pairings;
  readonly methods: Readonly<Record<string, RpcHandler>>;
  /** Drop the pairing's sessions (it was revoked). */
  drop(pairingId: string, code: 'Revoked', message: string): void;
}

/** Serve a session's calls until its connection ends. */
export async function serve(ctx: DispatchContext, session: Session): Promise<void> {
  try {
    for await (const stream of session.connection.incoming) void call(ctx, session, stream);
  } catch {
    // the session ended; the registry reports it
  }
}

async function call(ctx: DispatchContext, session: Session, stream: DuplexStream): Promise<void> {
  const respond = async (body: RpcResponse, close: boolean) => writeAll(stream.writable, encodeHeader(body), close);
  const fail = async (code: WormholeErrorCode, message: string) => {
    await respond({ ok: false, error: { code, message } }, true).catch(bestEffort);
    stream.readable.cancel().catch(bestEffort);
  };
  try {
    const { header, rest } = await readHeader(stream.readable);
    const request = parseRequest(header);
    // The pairing may have been revoked by a store this agent cannot watch: check on every call.
    if (!(await ctx.store.secret(session.pairing.id))) {
      await fail('Revoked', 'the pairing was revoked');
      ctx.drop(session.pairing.id, 'Revoked', 'the pairing was revoked on the agent');
      return;
    }
    if (request.method === 'forward') return await forward(ctx, session, stream, rest, request.params, fail);
    if (request.method === 'control' && session.attachControl) {
      // remote-v1: the client keeps this stream open; a revocation is announced on it.
      await writeAll(stream.writable, encodeHeader({ ok: true, result: { id: ctx.id, name: ctx.name } }));
      session.attachControl(stream);
      await rest.pipeTo(new WritableStream()).catch(bestEffort);
      return;
    }
    await rest.cancel().catch(bestEffort);
    if (request.method === 'info') {
      return await respond({ ok: true, result: { id: ctx.id, name: ctx.name, version: AGENT_PROTOCOL_VERSION, forward: ctx.policy.destinations, methods: ['info', 'forward', ...Object.keys(ctx.methods)] } }, true);
    }
    const handler = Object.hasOwn(ctx.methods, request.method) ? ctx.methods[request.method] : undefined;
    if (!handler) return await fail('Usage', `no such method '${request.method.slice(0, 100)}'`);
    let result: JsonValue;
    try {
      result = await handler(request.params, { pairing: session.pairing, signal: session.abort.signal });
    } catch (err) {
      const code = err instanceof WormholeError ? err.code : 'Rejected';
      return await fail(code, err instanceof Error ? err.message : 'the method failed');
    }
    await respond({ ok: true, result }, true);
  } catch (err) {
    if (err instanceof WormholeError && err.code === 'RemoteProtocol') await fail('RemoteProtocol', err.message);
    else stream.writable.abort(err).catch(bestEffort);
  }
}
