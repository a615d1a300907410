// The encrypted session pipe over a WebSocket, with an in-memory socket pair:
// records round-trip; a tampered, replayed or reordered record kills the
// session; control messages and close codes surface as the right errors.
import { describe, expect, it } from 'vitest';
import { recordKey, type RecordKey } from '@burrow/protocol';
import { AgentSocket, type SocketLike } from '../src/socket.js';
import { encodeControl } from '@burrow/protocol/agent';

type Listener = (ev: never) => void;

/** Two connected fake WebSockets; `tap` sees (and may rewrite or drop) what `a` sends. */
function socketPair(tap: (data: string | Uint8Array) => (string | Uint8Array)[] = (d) => [d]) {
  const make = () => {
    const listeners = new Map<string, Set<Listener>>();
    const emit = (type: string, ev: unknown) => {
      for (const l of listeners.get(type) ?? []) (l as (e: unknown) => void)(ev);
    };
    const s = {
      binaryType: 'blob',
      bufferedAmount: 0,
      readyState: 1,
      peer: undefined as unknown as { emit: typeof emit; s: { readyState: number } },
      send(data: string | Uint8Array) {
        const out = this === (a.s as unknown) ? tap(data) : [data];
        for (const d of out) {
          const copy = typeof d === 'string' ? d : d.slice().buffer;
          queueMicrotask(() => this.peer.emit('message', { data: copy }));
        }
      },
      close(code = 1000, reason = '') {
        if (s.readyState === 3) return;
        s.readyState = 3;
        this.peer.s.readyState = 3;
        queueMicrotask(() => {
          emit('close', { code, reason });
          this.peer.emit('close', { code, reason });
        });
      },
      addEventListener(type: string, l: Listener) {
        if (!listeners.has(type)) listeners.set(type, new Set());
        listeners.get(type)!.add(l);
      },
      removeEventListener(type: string, l: Listener) {
        listeners.get(type)?.delete(l);
      },
    };
    return { s, emit };
  };
  const a = make();
  const b = make();
  a.s.peer = b as never;
  b.s.peer = a as never;
  return [a.s as unknown as SocketLike, b.s as unknown as SocketLike] as const;
}

/** These tests send no control messages. */
function noControl(): void {
  /* nothing to do */
}

/** Writes after the receiver hung up may fail: the reader's error is what the tests check. */
function ignoreDeadPipe(): void {
  /* expected */
}

const K1 = recordKey(new Uint8Array(32).fill(1)) as RecordKey;
const K2 = recordKey(new Uint8Array(32).fill(2)) as RecordKey;

async function firstError(readable: ReadableStream<Uint8Array>): Promise<unknown> {
  const reader = readable.getReader();
  for (;;) {
    try {
      const { done } = await reader.read();
      if (done) return 'done';
    } catch (err) {
      return err;
    }
  }
}

describe('AgentSocket records', () => {
  it('carry frames both ways, encrypted, in order', async () => {
    const sent: (string | Uint8Array)[] = [];
    const [wa, wb] = socketPair((d) => (sent.push(d), [d]));
    const a = new AgentSocket(wa).records(K1, K2, noControl);
    const b = new AgentSocket(wb).records(K2, K1, noControl);
    const writer = a.writable.getWriter();
    await writer.write(new TextEncoder().encode('one'));
    await writer.write(new TextEncoder().encode('two'));
    const reader = b.readable.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('one');
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('two');
    expect(sent).toHaveLength(2);
    for (const wire of sent) expect(new TextDecoder().decode(wire as Uint8Array)).not.toContain('one');
  });

  it('die on a tampered, replayed or dropped record', async () => {
    for (const attack of ['flip', 'replay', 'drop'] as const) {
      let n = 0;
      const [wa, wb] = socketPair((d) => {
        n++;
        if (typeof d === 'string') return [d];
        if (attack === 'flip' && n === 2) {
          const x = d.slice();
          x[x.length - 1]! ^= 1;
          return [x];
        }
        if (attack === 'replay' && n === 2) return [d, d];
        if (attack === 'drop' && n === 1) return [];
        return [d];
      });
      const a = new AgentSocket(wa).records(K1, K2, noControl);
      const b = new AgentSocket(wb).records(K2, K1, noControl);
      const writer = a.writable.getWriter();
      // The receiver hangs up on the bad record, so later writes may fail: that is the point.
      for (const word of ['x', 'y', 'z']) await writer.write(new TextEncoder().encode(word)).catch(ignoreDeadPipe);
      const err = await firstError(b.readable);
      expect(err, attack).toMatchObject({ code: 'RemoteProtocol' });
    }
  });

  it('hand control messages to the callback, not to the stream; our close codes become errors', async () => {
    const [wa, wb] = socketPair();
    const seen: unknown[] = [];
    const a = new AgentSocket(wa).records(K1, K2, noControl);
    const bSocket = new AgentSocket(wb);
    const b = bSocket.records(K2, K1, (m) => seen.push(m));
    a.sendControl(encodeControl({ type: 'revoked', message: 'bye' }));
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([{ type: 'revoked', message: 'bye' }]);
    wa.close(4004, 'revoked');
    expect(await firstError(b.readable)).toMatchObject({ code: 'Revoked', message: 'revoked' });
    void a;
  });

  it('turn a text message after the handshake into a protocol error', async () => {
    const [wa, wb] = socketPair();
    const b = new AgentSocket(wb).records(K2, K1, noControl);
    wa.send('{"type":"hello"}');
    expect(await firstError(b.readable)).toMatchObject({ code: 'RemoteProtocol' });
  });

  it('queue handshake messages and reject waiting readers when the socket closes', async () => {
    const [wa, wb] = socketPair();
    const b = new AgentSocket(wb);
    wa.send('first');
    expect(await b.next()).toBe('first');
    const waiting = b.next();
    wa.close(4001, 'nope');
    await expect(waiting).rejects.toMatchObject({ code: 'Unpaired', message: 'nope' });
    await expect(b.next(AbortSignal.abort())).rejects.toBeDefined();
  });
});
