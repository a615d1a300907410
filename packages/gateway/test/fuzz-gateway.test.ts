// Fuzz: more than 10,000 malformed frames at the mailbox and at the relay
// (random JSON shapes, wrong types, huge strings, deep nesting, binary,
// truncated and nearly-valid handshake lines), over real sockets. The gateway
// must not crash, must keep serving a real transfer, and must end with no
// connection, listener, waiting token or expired state left behind.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { seededRandom, waitFor } from '@burrow/testkit';
import { startGateway, type Gateway } from '../src/index.js';
import { exchange, wsMailboxClient } from './support/raw-mailbox.js';

const bytes = seededRandom(0xc0ffee);
/** Uniform integer in [0, n). */
function int(n: number): number {
  const b = bytes(4);
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) % n;
}
function pick<T>(items: readonly T[]): T {
  return items[int(items.length)]!;
}

const TYPES = ['bind', 'list', 'allocate', 'claim', 'release', 'open', 'add', 'close', 'ping', 'welcome', 'ack', '', 'BIND', '__proto__', 'constructor'];
const KEYS = ['type', 'id', 'appid', 'side', 'nameplate', 'mailbox', 'phase', 'body', 'mood', 'ping', 'client_version', '__proto__', 'toString'];

function randomValue(depth = 0): unknown {
  switch (int(depth > 3 ? 6 : 9)) {
    case 0:
      return null;
    case 1:
      return int(2) === 0;
    case 2:
      return pick([0, -1, 1e308, -0, 3.5, 2 ** 53 + 1]);
    case 3:
      return pick(['', 'x', '1', 'happy', 'lothar.com/wormhole/text-or-file-xfer', '\u0000', '\ud800', '🦫']);
    case 4:
      return String(int(1000));
    case 5:
      return 'z'.repeat(int(20_000));
    case 6:
      return Array.from({ length: int(5) }, () => randomValue(depth + 1));
    case 7:
      return randomObject(depth + 1);
    default:
      return pick(TYPES);
  }
}

function randomObject(depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = int(6);
  for (let i = 0; i < n; i++) o[pick(KEYS)] = randomValue(depth);
  if (int(3) > 0) o['type'] = int(4) === 0 ? randomValue(depth) : pick(TYPES);
  return o;
}

/** One malformed (or merely odd) mailbox frame. */
function mailboxFrame(): string | Buffer {
  switch (int(10)) {
    case 0:
      return Buffer.from(bytes(int(500))); // binary garbage
    case 1:
      return JSON.stringify(randomObject()).slice(0, int(60)); // truncated JSON
    case 2:
      return JSON.stringify(randomValue()); // not an object
    case 3: {
      const depth = 1_000 + int(40_000);
      return `{"type":"ping","ping":${'['.repeat(depth)}${']'.repeat(depth)}}`; // deep nesting
    }
    case 4:
      return JSON.stringify({ type: 'add', phase: randomValue(), body: randomValue(), id: randomValue() });
    default:
      return JSON.stringify(randomObject());
  }
}

/** Handshake-ish bytes for the relay. */
function relayChunk(): Buffer {
  const token = Buffer.from(bytes(32)).toString('hex');
  switch (int(8)) {
    case 0:
      return Buffer.from(bytes(int(300)));
    case 1:
      return Buffer.from(`please relay ${token} for side ${'0'.repeat(int(20))}\n`);
    case 2:
      return Buffer.from(`please relay ${token.slice(0, int(64))}`);
    case 3:
      return Buffer.from(`please relay ${token}\n`.repeat(1 + int(3)));
    case 4:
      return Buffer.from('\n'.repeat(int(10)));
    case 5:
      return Buffer.from(`please relay ${token} for side ${'a'.repeat(16)}\nimpatient bytes`);
    case 6:
      return Buffer.alloc(int(200_000), 0x41);
    default:
      return Buffer.from(`please relay ${token} for side ${Buffer.from(bytes(8)).toString('hex')}\n`);
  }
}

describe('fuzz', () => {
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startGateway({
      port: 0,
      transitPort: 0,
      // Abandoned fuzz state expires quickly — but not within the gap between a well-behaved
      // client's claim and its open (expiry 1 ms let a prune tick land there under load and
      // delete the mailbox the check below was about to use).
      expiryMs: 2_000,
      pruneIntervalMs: 100,
      // The parser is under test, not the per-address budgets (every fuzz
      // connection comes from 127.0.0.1, and random frames allocate and store;
      // under load, pruning the abandoned ones can lag behind the flood): lift them.
      mailboxLimits: {
        maxFrameBytes: 128 * 1024,
        framesPerSecondPerAddress: 1e9,
        framesPerSecondPerPrefix: 1e9,
        maxAllocationsPerAddress: Number.POSITIVE_INFINITY,
        maxAllocationsPerPrefix: Number.POSITIVE_INFINITY,
        maxCharsPerAddress: Number.POSITIVE_INFINITY,
        maxCharsPerPrefix: Number.POSITIVE_INFINITY,
      },
      relayLimits: { handshakeTimeoutMs: 500, lonelyTimeoutMs: 500 },
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('survives 12,000 malformed mailbox frames and leaks nothing', async () => {
    const workers = 24;
    const perWorker = 500;
    let sent = 0;
    let answers = 0;
    let oversizedCloses = 0;
    await Promise.all(
      Array.from({ length: workers }, async () => {
        let left = perWorker;
        while (left > 0) {
          const ws = new WebSocket(gw.url);
          ws.on('error', () => {
      /* resets and refusals are part of the test: the outcome is asserted, not the socket error */
    });
          ws.on('message', () => answers++);
          await new Promise((resolve, reject) => {
            ws.once('open', resolve);
            ws.once('unexpected-response', () => reject(new Error('refused')));
          });
          const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
          // Half the connections bind properly first, to reach deeper states.
          if (int(2) === 0) ws.send(JSON.stringify({ type: 'bind', appid: 'fuzz', side: Buffer.from(bytes(5)).toString('hex') }));
          while (left > 0 && ws.readyState === WebSocket.OPEN) {
            // Now and then a frame over the limit (128 KiB: answered with an
            // error) or far over it (over 4×: the connection is dropped).
            const roll = int(400);
            const frame = roll === 0 ? 'x'.repeat(600_000) : roll < 3 ? 'x'.repeat(200_000) : mailboxFrame();
            ws.send(frame);
            sent++;
            left--;
            if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
          }
          ws.close();
          if ((await closed) === 1009) oversizedCloses++;
        }
      }),
    );
    expect(sent).toBeGreaterThanOrEqual(10_000);
    expect(answers).toBeGreaterThan(sent / 2);
    expect(oversizedCloses).toBeGreaterThan(0);

    // Still serving well-behaved clients.
    const [a, b] = await Promise.all([wsMailboxClient(gw.url), wsMailboxClient(gw.url)]);
    expect(await exchange(a, b, 'af7e2')).toBe('af7e2');
    a.close();
    b.close();

    // Nothing left: every connection gone, and abandoned state expired.
    await nothingLeft(() => gw.stats().mailbox, ['connections', 'listeners', 'nameplates', 'mailboxes', 'apps', 'owners', 'addresses']);
  });

  it('survives 10,000 malformed relay chunks over TCP and WebSocket and leaks nothing', async () => {
    let sent = 0;
    const target = 10_000;
    const worker = async (): Promise<void> => {
      while (sent < target) {
        const useWs = int(2) === 0;
        if (useWs) {
          const ws = new WebSocket(gw.relayUrl);
          ws.on('error', () => {
      /* resets and refusals are part of the test: the outcome is asserted, not the socket error */
    });
          const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
          await new Promise((resolve) => {
            ws.once('open', resolve);
            ws.once('close', resolve);
          });
          for (let i = 0; i < 5 && ws.readyState === WebSocket.OPEN; i++) {
            if (int(20) === 0) ws.send('text frame');
            else ws.send(relayChunk());
            sent++;
          }
          if (int(3) === 0) ws.terminate();
          else ws.close();
          await closed;
        } else {
          const socket = connect(gw.transitPort!, '127.0.0.1');
          socket.on('error', () => {
      /* resets and refusals are part of the test: the outcome is asserted, not the socket error */
    });
          socket.resume(); // read (and drop) the relay's answers, so its close arrives
          const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
          await new Promise((resolve) => {
            socket.once('connect', resolve);
            socket.once('close', resolve);
          });
          for (let i = 0; i < 5 && socket.writable; i++) {
            socket.write(relayChunk());
            sent++;
          }
          if (int(3) === 0) socket.destroy();
          else socket.end();
          await closed;
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    expect(sent).toBeGreaterThanOrEqual(target);
    await nothingLeft(() => gw.stats().relay, ['connections', 'waiting', 'tokens', 'pairs', 'addresses']);
  });
});

/** Wait until every counter in `keys` is zero; on timeout the error shows the last stats. */
async function nothingLeft<S extends object>(stats: () => S, keys: readonly (keyof S)[]): Promise<void> {
  await waitFor(
    () => {
      const s = stats();
      if (keys.some((k) => s[k] !== 0)) throw new Error(JSON.stringify(s));
      return true;
    },
    { timeoutMs: 15_000, message: 'a clean gateway after fuzzing' },
  );
}
