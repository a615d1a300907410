/**
 * The mailbox transport compliance suite: every MailboxTransport (WebSocket,
 * WebTransport, in-memory) must pass it. The contract is what wormhole.ts
 * relies on (see client/src/transports/types.ts): open before frames, frames
 * in order, binary frames as bytes, large frames whole, sends before open or
 * after close dropped (never thrown), `closed` exactly once and last — after
 * our close (no error), the server's (an error) or a failed open (an error).
 *
 *   mailboxTransportCompliance('memory', { binaryFrames: true }, async () => memoryRig());
 *
 * A rig talks to a mailbox server (the gateway, the in-memory core, or a
 * scripted `ws` server), so the frames checked are server answers:
 * `welcome`, `ack`, `pong`.
 *
 * Capabilities say which cases apply, decided when the suite is registered
 * (a case that does not apply is not registered, never skipped at run time):
 * - `binaryFrames`: the server can send a binary frame (`rig.injectBinary`),
 *   so "a binary frame arrives as bytes" is checked. False where the wire
 *   cannot carry one: WebTransport mailbox frames are length-prefixed UTF-8
 *   JSON on one stream, so the transport only ever hands over text.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FrameConnection, FrameHandlers, MailboxTransport } from '../../src/index.js';

export interface MailboxTransportRig {
  readonly transport: MailboxTransport;
  readonly url: string;
  /** Make the server end `conn` (an open connection made through this rig). */
  serverClose(conn: FrameConnection): void;
  /** A transport and URL whose connection can never be made. */
  readonly unreachable: { readonly transport: MailboxTransport; readonly url: string };
  /** Send `bytes` as a binary frame to the newest connection (required with `binaryFrames`). */
  readonly injectBinary?: (bytes: Uint8Array) => void;
  close?(): Promise<void>;
}

/** What the transport and its servers can do: which cases the suite registers. */
export interface MailboxTransportCapabilities {
  /** The server can send binary frames, and the transport hands them over as bytes. */
  readonly binaryFrames: boolean;
}

type Event = { readonly type: 'open' } | { readonly type: 'frame'; readonly data: string | Uint8Array } | { readonly type: 'closed'; readonly error: unknown };

/** Handlers that record every call, with an event-driven wait. */
export class Recorder implements FrameHandlers {
  readonly events: Event[] = [];
  #wake: (() => void)[] = [];

  open(): void {
    this.#push({ type: 'open' });
  }
  frame(data: string | Uint8Array): void {
    this.#push({ type: 'frame', data });
  }
  closed(error?: unknown): void {
    this.#push({ type: 'closed', error });
  }

  /** Text frames parsed as JSON, in arrival order. */
  get json(): Record<string, unknown>[] {
    return this.events.flatMap((e) => (e.type === 'frame' && typeof e.data === 'string' ? [JSON.parse(e.data) as Record<string, unknown>] : []));
  }

  count(type: Event['type']): number {
    return this.events.filter((e) => e.type === type).length;
  }

  /** Resolve once `check()` holds, re-checking after every event (bounded). */
  async until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = AbortSignal.timeout(ms);
    while (!check()) {
      await new Promise<void>((resolve, reject) => {
        const timedOut = () => reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(this.events.map((e) => e.type))}`));
        deadline.addEventListener('abort', timedOut, { once: true });
        this.#wake.push(() => {
          deadline.removeEventListener('abort', timedOut);
          resolve();
        });
      });
    }
  }

  #push(event: Event): void {
    this.events.push(event);
    for (const wake of this.#wake.splice(0)) wake();
  }
}

const pongs = (r: Recorder): unknown[] => r.json.filter((f) => f['type'] === 'pong').map((f) => f['pong']);

export function mailboxTransportCompliance(name: string, capabilities: MailboxTransportCapabilities, makeRig: () => Promise<MailboxTransportRig>): void {
  describe(`mailbox transport compliance: ${name}`, () => {
    const open: FrameConnection[] = [];
    let rig: MailboxTransportRig | undefined;
    const connect = async (): Promise<{ r: Recorder; conn: FrameConnection }> => {
      rig ??= await makeRig();
      const r = new Recorder();
      const conn = rig.transport(rig.url, r);
      open.push(conn);
      return { r, conn };
    };
    afterEach(async () => {
      for (const c of open.splice(0)) c.close();
      await rig?.close?.();
      rig = undefined;
    });

    it('opens once, then delivers the welcome first', async () => {
      const { r } = await connect();
      await r.until(() => r.json.length > 0, 'the welcome');
      expect(r.events[0]).toEqual({ type: 'open' });
      expect(r.count('open')).toBe(1);
      expect(r.json[0]).toMatchObject({ type: 'welcome' });
    });

    it('delivers frames in the order the server sent them', async () => {
      const { r, conn } = await connect();
      await r.until(() => r.count('open') === 1, 'open');
      const n = 50;
      for (let i = 1; i <= n; i++) conn.send(JSON.stringify({ type: 'ping', ping: i, id: `p${i}` }));
      await r.until(() => pongs(r).length === n, 'every pong');
      expect(pongs(r)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      // every ack comes before its pong, in order too
      const order = r.json.filter((f) => f['type'] !== 'welcome').map((f) => (f['type'] === 'ack' ? `a${String(f['id'])}` : `p${String(f['pong'])}`));
      expect(order).toEqual(Array.from({ length: n }, (_, i) => [`ap${i + 1}`, `p${i + 1}`]).flat());
    });

    it('drops a send made before open (never throws, never delivers it late)', async () => {
      const { r, conn } = await connect();
      expect(() => conn.send(JSON.stringify({ type: 'ping', ping: 'early' }))).not.toThrow();
      await r.until(() => r.count('open') === 1, 'open');
      conn.send(JSON.stringify({ type: 'ping', ping: 'after-open' }));
      await r.until(() => pongs(r).includes('after-open'), 'the pong after open');
      expect(pongs(r)).toEqual(['after-open']);
    });

    it('carries a large frame whole, both ways', async () => {
      const { r, conn } = await connect();
      await r.until(() => r.count('open') === 1, 'open');
      const big = 'burrow '.repeat(30_000); // 210 kB: over every single-write limit, under the server's frame bound
      conn.send(JSON.stringify({ type: 'ping', ping: big }));
      await r.until(() => pongs(r).length === 1, 'the large pong');
      expect(pongs(r)[0] === big).toBe(true);
    });

    it('close(): closed exactly once, without an error, and nothing after it', async () => {
      const { r, conn } = await connect();
      await r.until(() => r.json.length > 0, 'the welcome');
      conn.close();
      conn.close();
      await r.until(() => r.count('closed') > 0, 'closed');
      expect(r.events.at(-1)).toEqual({ type: 'closed', error: undefined });
      expect(() => conn.send(JSON.stringify({ type: 'ping', ping: 'late' }))).not.toThrow();
      conn.close();
      // a second connection proves the transport still works; by then the first would have reported anything late
      const second = await connect();
      await second.r.until(() => second.r.json.length > 0, 'a second welcome');
      expect(r.count('closed')).toBe(1);
      expect(r.events.at(-1)?.type).toBe('closed');
    });

    it('a server-side close: closed exactly once, with an error', async () => {
      const { r, conn } = await connect();
      await r.until(() => r.json.length > 0, 'the welcome');
      rig!.serverClose(conn);
      await r.until(() => r.count('closed') > 0, 'closed');
      const last = r.events.at(-1) as { type: 'closed'; error: unknown };
      expect(last.type).toBe('closed');
      expect(last.error).toBeDefined();
      conn.close();
      const second = await connect();
      await second.r.until(() => second.r.json.length > 0, 'a second welcome');
      expect(r.count('closed')).toBe(1);
    });

    it('a connection that cannot be made: never opens, closed once with an error, opening does not throw', async () => {
      rig ??= await makeRig();
      const r = new Recorder();
      let conn: FrameConnection | undefined;
      expect(() => {
        conn = rig!.unreachable.transport(rig!.unreachable.url, r);
      }).not.toThrow();
      expect(() => conn!.send('{"type":"ping","ping":1}')).not.toThrow();
      await r.until(() => r.count('closed') > 0, 'closed');
      expect(r.count('open')).toBe(0);
      expect(r.count('closed')).toBe(1);
      expect((r.events.at(-1) as { error: unknown }).error).toBeDefined();
      conn!.close();
    });

    if (capabilities.binaryFrames) {
      it('delivers a binary frame as bytes', async () => {
        const { r } = await connect();
        await r.until(() => r.json.length > 0, 'the welcome');
        if (!rig!.injectBinary) throw new Error(`${name}: binaryFrames needs rig.injectBinary`);
        rig!.injectBinary(Uint8Array.of(0x7b, 0x7d, 0xff));
        await r.until(() => r.events.some((e) => e.type === 'frame' && e.data instanceof Uint8Array), 'the binary frame');
        const bin = r.events.find((e) => e.type === 'frame' && e.data instanceof Uint8Array) as { data: Uint8Array };
        expect([...bin.data]).toEqual([0x7b, 0x7d, 0xff]);
      });
    }
  });
}
