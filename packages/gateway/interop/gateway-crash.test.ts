// `burrow serve --data-dir` killed with SIGKILL under load, several rounds:
// every message a client saw echoed and every nameplate a client saw
// claimed is there after the restart (SQLite, durable before echo). Also
// reports the restart time. Heavier: BURROW_CRASH_ROUNDS, _PAIRS, _KB, _MS.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, makeTempDir, removeDir } from '@burrow/testkit';
import { APPID, wsMailboxClient, type RawMailboxClient } from '../test/support/raw-mailbox.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const CHILD = fileURLToPath(new URL('./support/gateway-child.ts', import.meta.url));
const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const ROUNDS = env('BURROW_CRASH_ROUNDS', 3);
const PAIRS = env('BURROW_CRASH_PAIRS', 12);
const BODY = 'ab'.repeat(env('BURROW_CRASH_KB', 20) * 512);
const LOAD_MS = env('BURROW_CRASH_MS', 400);

interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  /** Spawn to listening, ms (Node + TypeScript loader start included). */
  readonly startMs: number;
  /** The store's own open + load, ms. */
  readonly openMs: number;
}

async function startChild(dataDir: string, port = 0): Promise<Running> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, CHILD], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`gateway exited (${code})`)));
  });
  const { port: listening, openMs } = JSON.parse(line) as { port: number; openMs: number };
  return { child, port: listening, startMs: performance.now() - started, openMs };
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

interface Pair {
  nameplate?: string;
  mailbox?: string;
  /** Sides that saw `claimed`. */
  claimed: Set<string>;
  /** Message ids some client saw echoed. */
  echoed: Set<string>;
}

const gone = (): never => {
  throw new Error('the server went away');
};

/** Two clients on a nameplate adding BODY-sized messages as fast as the server echoes them, until the server dies. */
async function loadPair(url: string, index: number, pair: Pair): Promise<void> {
  const sides = [`a${index}`, `b${index}`];
  const clients: RawMailboxClient[] = [];
  try {
    for (const side of sides) {
      const c = await wsMailboxClient(url);
      clients.push(c);
      c.send({ type: 'bind', appid: APPID, side });
      if (!pair.nameplate) {
        c.send({ type: 'allocate' });
        pair.nameplate = (await c.next('allocated'))['nameplate'] as string;
      }
      c.send({ type: 'claim', nameplate: pair.nameplate });
      pair.mailbox = (await c.next('claimed'))['mailbox'] as string;
      pair.claimed.add(side);
      c.send({ type: 'open', mailbox: pair.mailbox });
    }
    let n = 0;
    await Promise.all(
      clients.map(async (c, i) => {
        for (;;) {
          const from = c.frames.length;
          const id = `${sides[i]}-${n++}`;
          c.send({ type: 'add', phase: String(n), body: BODY, id });
          for (let seen = from; ; seen = c.frames.length) {
            const m = await Promise.race([c.next('message', seen), c.closed.then(gone)]);
            pair.echoed.add(m['id'] as string);
            if (m['id'] === id) break;
          }
        }
      }),
    );
  } catch {
    // The server was killed: what was echoed so far is what must survive.
  } finally {
    for (const c of clients) c.close();
  }
}

/** After the restart: the claim holds (same mailbox) and every echoed message is in the mailbox. */
async function check(url: string, index: number, pair: Pair): Promise<{ lostMessages: number; lostClaims: number }> {
  if (!pair.nameplate || pair.claimed.size === 0) return { lostMessages: 0, lostClaims: 0 };
  const side = [...pair.claimed][0]!;
  const c = await wsMailboxClient(url);
  try {
    c.send({ type: 'bind', appid: APPID, side });
    c.send({ type: 'claim', nameplate: pair.nameplate });
    const answer = await Promise.race([c.next('claimed'), c.next('error')]);
    const lostClaims = answer['type'] === 'claimed' && answer['mailbox'] === pair.mailbox ? 0 : 1;
    c.send({ type: 'open', mailbox: pair.mailbox });
    const from = c.frames.length;
    c.send({ type: 'ping', ping: index });
    await c.next('pong', from);
    const stored = new Set(c.frames.filter((f) => f.type === 'message').map((f) => f['id'] as string));
    const lostMessages = [...pair.echoed].filter((id) => !stored.has(id)).length;
    return { lostMessages, lostClaims };
  } finally {
    c.close();
  }
}

describe('gateway --data-dir under SIGKILL', () => {
  const dirs: string[] = [];
  let running: Running | undefined;
  afterAll(async () => {
    if (running) await kill9(running.child);
    for (const d of dirs) removeDir(d);
  });

  it(`loses no echoed message and no claimed mailbox across ${ROUNDS} kill -9 rounds`, async () => {
    assertPrivateNetwork();
    const dataDir = makeTempDir('burrow-crash-');
    dirs.push(dataDir);
    running = await startChild(dataDir);
    const rounds: Record<string, number>[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const url = `ws://127.0.0.1:${running.port}/v1`;
      const pairs: Pair[] = Array.from({ length: PAIRS }, () => ({ claimed: new Set<string>(), echoed: new Set<string>() }));
      const load = Promise.all(pairs.map((p, i) => loadPair(url, round * 1000 + i, p)));
      await new Promise((r) => setTimeout(r, LOAD_MS)); // load runs this long before the kill
      await kill9(running.child);
      await load;
      running = await startChild(dataDir, running.port);
      const results = await Promise.all(pairs.map((p, i) => check(url, i, p)));
      const echoed = pairs.reduce((n, p) => n + p.echoed.size, 0);
      const lostMessages = results.reduce((n, r) => n + r.lostMessages, 0);
      const lostClaims = results.reduce((n, r) => n + r.lostClaims, 0);
      rounds.push({ round, echoed, lostMessages, lostClaims, restartMs: Math.round(running.startMs), storeOpenMs: running.openMs });
      expect(echoed).toBeGreaterThan(0);
      expect({ lostMessages, lostClaims }).toEqual({ lostMessages: 0, lostClaims: 0 });
    }
    console.log('kill -9 rounds (SQLite):', JSON.stringify(rounds));
  }, 120_000);
});
