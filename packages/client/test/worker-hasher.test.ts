// SHA-256 in a hashing Worker (worker-hasher.ts), in Node: a stand-in Worker
// runs the generated record Worker script in a fresh context, messages
// delivered asynchronously as a real Worker's are. The digest matches
// node:crypto across batch boundaries, with WebAssembly (hash-wasm) and
// without (noble); a Worker that cannot start (throws,
// or fails before answering) leaves the hash to this thread with the same
// result; one that fails after answering fails the digest with TransferFailed.
// (The real Worker runs in Chromium: e2e/record-workers.test.ts.)
import { createHash, randomBytes } from 'node:crypto';
import { createContext, runInContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { RECORD_WORKER_SOURCE } from '../src/transit/record-worker-source.js';
import { workerSha256 } from '../src/transit/worker-hasher.js';

type Mode = 'runs' | 'runs without WebAssembly' | 'throws' | 'fails-at-once' | 'fails-later';
const g = globalThis as { Worker?: unknown };
const real = g.Worker;
let made = 0;
let terminated = 0;

function install(mode: Mode): void {
  g.Worker = class {
    onmessage: ((e: { data: unknown }) => void) | null = null;
    onerror: ((e: unknown) => void) | null = null;
    readonly #scope: { onmessage?: (e: { data: unknown }) => void; postMessage: (m: unknown) => void };
    #messages = 0;
    constructor(url: string) {
      if (mode === 'throws') throw new Error('refused by policy');
      expect(url).toMatch(/^blob:/);
      made++;
      this.#scope = { postMessage: (m) => setTimeout(() => this.onmessage?.({ data: m })) };
      const context = createContext(this.#scope);
      // As under a CSP without 'wasm-unsafe-eval': the script hashes with noble.
      if (mode === 'runs without WebAssembly') runInContext('delete globalThis.WebAssembly', context);
      runInContext(RECORD_WORKER_SOURCE, context);
    }
    postMessage(m: { hash: string; data?: Uint8Array }): void {
      const n = ++this.#messages;
      // A structured clone: the Worker gets its own copy of the bytes.
      const copy = m.data ? { ...m, data: new Uint8Array(m.data) } : m;
      setTimeout(() => {
        if ((mode === 'fails-at-once' && n === 1) || (mode === 'fails-later' && n === 2)) this.onerror?.({});
        else this.#scope.onmessage!({ data: copy });
      });
    }
    terminate(): void {
      terminated++;
    }
  };
}

afterEach(() => {
  g.Worker = real;
});

describe('workerSha256', () => {
  const chunks = [0, 1, 100, 262_143, 262_145, 600_000, 16_384].map((n) => new Uint8Array(randomBytes(n)));
  const want = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');

  for (const mode of ['runs', 'runs without WebAssembly', 'throws', 'fails-at-once'] as const) {
    it(`hashes like node:crypto across batch boundaries (Worker ${mode})`, async () => {
      install(mode);
      made = 0;
      const h = workerSha256();
      // Some before the Worker answers, some after.
      for (const c of chunks.slice(0, 3)) h.update(c);
      await new Promise((r) => setTimeout(r, 0));
      for (const c of chunks.slice(3)) h.update(c);
      expect(await h.hexDigest()).toBe(want);
      expect(made).toBe(mode === 'throws' ? 0 : 1);
    });
  }

  it('the empty input', async () => {
    install('runs');
    expect(await workerSha256().hexDigest()).toBe(createHash('sha256').digest('hex'));
  });

  it('dispose stops the Worker of a transfer that failed; after a digest it has stopped already', async () => {
    install('runs');
    terminated = 0;
    const failed = workerSha256();
    failed.update(chunks[3]!);
    failed.dispose();
    expect(terminated).toBe(1);
    await expect(failed.hexDigest()).rejects.toMatchObject({ code: 'TransferFailed' });
    const done = workerSha256();
    done.update(chunks[2]!);
    expect(await done.hexDigest()).toBe(createHash('sha256').update(chunks[2]!).digest('hex'));
    expect(terminated).toBe(2);
    done.dispose();
    expect(terminated).toBe(2);
  });

  it('a Worker failing after it answered fails the digest with TransferFailed', async () => {
    install('fails-later');
    const h = workerSha256();
    await new Promise((r) => setTimeout(r, 5)); // it has answered
    for (const c of chunks) h.update(c);
    await expect(h.hexDigest()).rejects.toMatchObject({ code: 'TransferFailed' });
  });
});
