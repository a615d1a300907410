/**
 * The in-memory connector: both peers in one JavaScript realm, joined by a
 * {@link MemoryHub}. For tests and the compliance suite; it speaks mux-v1
 * over an in-memory message pipe, so it exercises the same stream code as
 * the relay path. Signalling (`{"memory": BODY}`): the leader sends
 * `{"token": T}`, the follower answers `{"joined": true}`.
 */
import { WormholeError, toHex } from '@burrow/protocol';
import { deferred, type Deferred } from '@burrow/protocol';
import { MuxConnection, memoryPipePair, type MessagePipe } from './mux.js';
import type { ConnectorFactory } from './types.js';

export class MemoryHub {
  readonly #slots = new Map<string, Deferred<MessagePipe>>();

  /** Leader: make a meeting point; returns its token and the leader's end. */
  offer(): { token: string; pipe: Promise<MessagePipe> } {
    const token = toHex(globalThis.crypto.getRandomValues(new Uint8Array(8)));
    const slot = deferred<MessagePipe>();
    this.#slots.set(token, slot);
    return { token, pipe: slot.promise };
  }

  /** Follower: join the leader's meeting point. */
  join(token: string): MessagePipe {
    const slot = this.#slots.get(token);
    if (!slot) throw new WormholeError('Connection', 'no such in-memory connection');
    this.#slots.delete(token);
    const [a, b] = memoryPipePair();
    slot.resolve(a);
    return b;
  }
}

export const memoryConnector: ConnectorFactory<{ hub: MemoryHub }> = ({ hub }) => ({
  name: 'memory',
  async connect(ctx) {
    const signal = ctx.signal ? { signal: ctx.signal } : {};
    if (ctx.role === 'leader') {
      const { token, pipe } = hub.offer();
      ctx.signalling.send({ token });
      const answer = await ctx.signalling.next(signal);
      if (answer['joined'] !== true) throw new WormholeError('RemoteProtocol', 'memory: expected joined');
      return new MuxConnection({ pipe: await pipe, role: 'leader', kind: 'direct', path: 'memory' });
    }
    const offer = await ctx.signalling.next(signal);
    if (typeof offer['token'] !== 'string') throw new WormholeError('RemoteProtocol', 'memory: expected a token');
    const pipe = hub.join(offer['token']);
    ctx.signalling.send({ joined: true });
    return new MuxConnection({ pipe, role: 'follower', kind: 'direct', path: 'memory' });
  },
});
