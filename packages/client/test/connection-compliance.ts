/**
 * The connection compliance suite: every connector (in-memory, mux-v1 over
 * Transit, WebRTC on node-datachannel, …) must pass it. Register it from a
 * test file with a factory for a connected pair:
 *
 *   connectionCompliance('memory', async () => memoryConnectionPair());
 */
import { bestEffort } from '@burrow/protocol';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { isWormholeError, type Connection, type DuplexStream } from '@burrow/client';
import type { Signalling } from '@burrow/client/testing';
import { waitFor } from '@burrow/testkit';

export type PairFactory = () => Promise<[Connection, Connection]>;

export interface ComplianceOptions {
  /** Bytes per stream in the concurrency test (default 2 MiB). */
  streamBytes?: number;
  /** Expected `kind` of both ends. */
  kind?: Connection['kind'];
}

/** Two in-memory signalling channels joined to each other (bodies are JSON round-tripped, like the wormhole). */
export function signallingPair(): [Signalling, Signalling] {
  const make = () => ({ queue: [] as string[], waiters: [] as ((s: string) => void)[] });
  const a = make();
  const b = make();
  const end = (inbox: ReturnType<typeof make>, outbox: ReturnType<typeof make>): Signalling => ({
    send(body) {
      const text = JSON.stringify(body);
      const w = outbox.waiters.shift();
      if (w) w(text);
      else outbox.queue.push(text);
    },
    next(options = {}) {
      options.signal?.throwIfAborted();
      const ready = inbox.queue.shift();
      if (ready !== undefined) return Promise.resolve(JSON.parse(ready) as Record<string, unknown>);
      return new Promise((resolve, reject) => {
        const waiter = (s: string) => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve(JSON.parse(s) as Record<string, unknown>);
        };
        const onAbort = () => {
          inbox.waiters.splice(inbox.waiters.indexOf(waiter), 1);
          reject(options.signal!.reason);
        };
        inbox.waiters.push(waiter);
        options.signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  });
  return [end(a, b), end(b, a)];
}

export async function readAll(readable: ReadableStream<Uint8Array>): Promise<{ bytes: number; sha256: string; chunks: Uint8Array[] }> {
  const hash = createHash('sha256');
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of readable as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
    if (chunks.length < 64) chunks.push(chunk);
  }
  return { bytes, sha256: hash.digest('hex'), chunks };
}

/** Write `total` pseudo-random bytes in `chunk`-sized writes; returns their sha256. */
export async function writeRandom(writable: WritableStream<Uint8Array>, total: number, chunk = 256 * 1024): Promise<string> {
  const hash = createHash('sha256');
  const writer = writable.getWriter();
  const block = new Uint8Array(randomBytes(chunk));
  for (let sent = 0; sent < total; ) {
    const n = Math.min(chunk, total - sent);
    block[0] = sent & 0xff; // vary the content a little
    const piece = block.slice(0, n);
    hash.update(piece);
    await writer.write(piece);
    sent += n;
  }
  await writer.close();
  return hash.digest('hex');
}

const text = (s: string) => new TextEncoder().encode(s);
const untext = (chunks: Uint8Array[]) => new TextDecoder().decode(Buffer.concat(chunks));

async function nextIncoming(c: Connection): Promise<DuplexStream> {
  const it = c.incoming[Symbol.asyncIterator]();
  const r = await it.next();
  if (r.done) throw new Error('incoming ended');
  return r.value;
}

export function connectionCompliance(name: string, makePair: PairFactory, options: ComplianceOptions = {}): void {
  const streamBytes = options.streamBytes ?? 2 * 1024 * 1024;
  describe(`connection compliance: ${name}`, () => {
    const open: Connection[] = [];
    const pair = async () => {
      const p = await makePair();
      open.push(...p);
      return p;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.close().catch(bestEffort)));
    });

    it('opens a stream each way, with half-close', async () => {
      const [a, b] = await pair();
      if (options.kind) {
        expect(a.kind).toBe(options.kind);
        expect(b.kind).toBe(options.kind);
      }
      const s = await a.openStream();
      const w = s.writable.getWriter();
      await w.write(text('hello '));
      await w.write(text('world'));
      await w.close(); // half-close: a can still read
      const t = await nextIncoming(b);
      expect(t.id).toBe(s.id);
      expect(untext((await readAll(t.readable)).chunks)).toBe('hello world');
      const back = t.writable.getWriter();
      await back.write(text('and back'));
      await back.close();
      expect(untext((await readAll(s.readable)).chunks)).toBe('and back');
    });

    it('moves 8 concurrent streams in both directions with checksums', async () => {
      const [a, b] = await pair();
      const send = async (from: Connection) => {
        const s = await from.openStream();
        const [sha] = await Promise.all([writeRandom(s.writable, streamBytes), s.readable.cancel()]);
        return sha;
      };
      const receive = async (to: Connection, n: number) => {
        const sums: string[] = [];
        const it = to.incoming[Symbol.asyncIterator]();
        const reads: Promise<void>[] = [];
        for (let i = 0; i < n; i++) {
          const r = await it.next();
          if (r.done) throw new Error('incoming ended early');
          const stream = r.value;
          // The sender may already have cancelled its reading side (STOP), which errors this writable.
          await stream.writable.close().catch(bestEffort);
          reads.push(readAll(stream.readable).then((x) => void (expect(x.bytes).toBe(streamBytes), sums.push(x.sha256))));
        }
        await Promise.all(reads);
        return sums.sort();
      };
      const [sentA, sentB, gotB, gotA] = await Promise.all([
        Promise.all(Array.from({ length: 8 }, () => send(a))),
        Promise.all(Array.from({ length: 8 }, () => send(b))),
        receive(b, 8),
        receive(a, 8),
      ]);
      expect(gotB).toEqual([...sentA].sort());
      expect(gotA).toEqual([...sentB].sort());
      const stats = await a.getStats();
      expect(stats.bytesSent).toBeGreaterThanOrEqual(8 * streamBytes);
      expect(stats.bytesReceived).toBeGreaterThanOrEqual(8 * streamBytes);
    });

    it('applies backpressure when the reader does not read', async () => {
      const [a, b] = await pair();
      const s = await a.openStream();
      const writer = s.writable.getWriter();
      const chunk = new Uint8Array(64 * 1024);
      let accepted = 0;
      let blocked = false;
      // Keep writing until a write stays pending for a while: the window (+ transport buffers) is full.
      for (let i = 0; i < 2048; i++) {
        const w = writer.write(chunk).then(() => true);
        const settled = await Promise.race([w, new Promise<false>((r) => setTimeout(() => r(false), 300))]);
        if (!settled) {
          blocked = true;
          break;
        }
        accepted += chunk.length;
      }
      expect(blocked).toBe(true);
      expect(accepted).toBeLessThan(64 * 1024 * 1024);
      // Now read: everything arrives and the writer resumes.
      const t = await nextIncoming(b);
      const reading = readAll(t.readable);
      await writer.write(chunk);
      await writer.close();
      const got = await reading;
      expect(got.bytes).toBe(accepted + 2 * chunk.length);
    });

    it('aborting the writable resets the peer reader with the reason', async () => {
      const [a, b] = await pair();
      const s = await a.openStream();
      const w = s.writable.getWriter();
      await w.write(text('partial'));
      const t = await nextIncoming(b);
      const reader = t.readable.getReader();
      expect(untext([(await reader.read()).value!])).toBe('partial');
      await w.abort(new Error('changed my mind'));
      const err = await reader.read().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isWormholeError(err, 'StreamReset')).toBe(true);
      expect(String((err as Error).message)).toContain('changed my mind');
    });

    it('cancelling the readable stops the peer writer with the reason', async () => {
      const [a, b] = await pair();
      const s = await a.openStream();
      const w = s.writable.getWriter();
      await w.write(text('x'));
      const t = await nextIncoming(b);
      await t.readable.cancel('enough');
      // Keep writing until a write fails: the reset reaches us asynchronously.
      const err = await waitFor(
        () =>
          w.write(new Uint8Array(16 * 1024)).then(
            () => false,
            (e: unknown) => e,
          ),
        { message: 'a write to fail after the cancel', intervalMs: 5, timeoutMs: 2_000 },
      );
      expect(isWormholeError(err, 'StreamReset')).toBe(true);
      expect(String((err as Error).message)).toContain('enough');
    });

    it('close() ends the peer cleanly: closed resolves, incoming ends, open streams error', async () => {
      const [a, b] = await pair();
      const s = await b.openStream();
      const pending = s.readable.getReader().read().then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await a.close();
      await expect(a.closed).resolves.toBeUndefined();
      await expect(b.closed).resolves.toBeUndefined();
      expect(await pending).toMatchObject({ name: 'WormholeError' });
      const it = b.incoming[Symbol.asyncIterator]();
      await expect(it.next()).resolves.toMatchObject({ done: true });
      await expect(b.openStream()).rejects.toMatchObject({ code: 'Closed' });
    });

    it('reports stats: kind, path, bytes, rates, rtt', async () => {
      const [a, b] = await pair();
      const s = await a.openStream();
      const done = Promise.all([writeRandom(s.writable, 1024 * 1024), nextIncoming(b).then((t) => readAll(t.readable))]);
      await done;
      const stats = await a.getStats();
      expect(stats.kind).toBe(a.kind);
      expect(typeof stats.path).toBe('string');
      expect(stats.bytesSent).toBe(1024 * 1024);
      expect(stats.sendRate).toBeGreaterThan(0);
      expect(stats.rttMs === undefined || stats.rttMs >= 0).toBe(true);
      const bs = await b.getStats();
      expect(bs.bytesReceived).toBe(1024 * 1024);
    });
  });
}
