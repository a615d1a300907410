/**
 * Gateway benchmarks: Burrow's mailbox server + transit relay (startGateway,
 * run in its own Node process so its CPU and RSS are its own) against
 * Debian's mailbox server 0.4.1 and transit relay 0.2.1, side by side:
 *
 *  1. Wormholes completed per second: a protocol-level load generator (raw
 *     `ws` clients, no crypto) runs PAIRS wormholes at once, each one two
 *     fresh connections doing what two CLIs exchanging a text do: bind,
 *     allocate/claim, open, pake + version + one message each way (bodies of
 *     the real sizes), release, close. Alternating timed rounds per server.
 *     Also the server's CPU time per wormhole (from /proc/PID/stat), since the
 *     load generator shares the (small) machine with the server.
 *  2. Memory per idle bound connection: on fresh servers, rounds of IDLE
 *     connections that `bind` and then idle (all kept open); the server
 *     process's VmRSS delta per connection (Burrow garbage-collected first).
 *  3. Relay throughput, RELAY_MB MiB one way in 256 KiB writes, both sides
 *     doing `please relay TOKEN for side SIDE\n` and waiting for `ok\n`:
 *     Debian TCP↔TCP (baseline) against Burrow TCP↔TCP, WS→TCP and TCP→WS.
 *
 * The Debian server keeps its state in its SQLite channel database on disk
 * (its normal set-up, in the testkit's temp dir); the gateway in memory by
 * default, so 1 also runs a second gateway with `dataDir` (JSON snapshot +
 * journal on disk). The gateway runs with all its limits at their defaults
 * (fair shares per address and prefix, frame rate, expiry): each client
 * connection comes from its own loopback address in its own /24
 * (127.64.0.1, 127.64.1.1, …), as real clients come from many hosts.
 *
 * Env: BURROW_BENCH_GW_PAIRS (20), BURROW_BENCH_GW_SECONDS (3 per round),
 * BURROW_BENCH_GW_IDLE (500 per round), BURROW_BENCH_RELAY_MB (256),
 * BURROW_BENCH_GW_ONLY=relay (skip 1 and 2).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { connectTcp, makeTempDir, onCleanup, removeDir, startMailboxServer, startTransitRelay, withTimeout } from '@burrow/testkit';
import type { GatewayOptions } from '@burrow/gateway';
import { envNumber, report, type Sample } from './lib.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
// Run with --conditions=source (pnpm bench): the gateway's TypeScript entry.
const GATEWAY_ENTRY = import.meta.resolve('@burrow/gateway');

const DEBIAN_MAILBOX = 'Debian mailbox 0.4.1';
const BURROW_MAILBOX = 'Burrow gateway';
const BURROW_MAILBOX_DISK = 'Burrow gateway (dataDir)';
const DEBIAN_RELAY = 'Debian relay 0.2.1 TCP→TCP';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: Error): void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => { /* awaited later, or not at all */ });
  return { promise, resolve, reject };
}

// ---------------------------------------------------------------------------
// Process helpers

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

let clockTicks: number | undefined;
/** User + system CPU time of a process so far, in ms. */
function cpuMs(pid: number): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

/** The gateway in a child Node process, so its RSS and CPU time are its own. */
interface GatewayProcess {
  readonly pid: number;
  readonly url: string;
  readonly relayUrl: string;
  readonly transitPort: number;
  /** Run a full garbage collection in the gateway process. */
  gc(): Promise<void>;
  stop(): Promise<void>;
}

// Reads commands on stdin ("gc"); closes the gateway and exits when stdin ends.
const CHILD_SCRIPT = `
import { createInterface } from 'node:readline';
const { startGateway } = await import(process.env.BURROW_BENCH_GATEWAY_ENTRY);
const gw = await startGateway(JSON.parse(process.env.BURROW_BENCH_GATEWAY_OPTIONS));
process.stdout.write(JSON.stringify({ url: gw.url, relayUrl: gw.relayUrl, transitPort: gw.transitPort }) + '\\n');
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'gc') { globalThis.gc(); globalThis.gc(); process.stdout.write('gc\\n'); }
});
lines.on('close', () => { gw.close().finally(() => process.exit(0)); });
`;

async function startGatewayProcess(options: GatewayOptions): Promise<GatewayProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--expose-gc', '--conditions=source', '--import', TSX, '--input-type=module', '-e', CHILD_SCRIPT],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {
        ...process.env,
        BURROW_BENCH_GATEWAY_ENTRY: GATEWAY_ENTRY,
        BURROW_BENCH_GATEWAY_OPTIONS: JSON.stringify(options),
      },
    },
  );
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const unregister = onCleanup(kill);

  const lines: string[] = [];
  let waiter: Deferred<string> | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w.resolve(line);
    } else lines.push(line);
  });
  const failed = new Promise<never>((_, rej) => {
    child.once('error', rej);
    child.once('exit', (code, signal) => rej(new Error(`gateway process exited (${code ?? signal})`)));
  });
  failed.catch(() => { /* awaited below; only keeps an early rejection from being unhandled */ });
  const nextLine = (label: string): Promise<string> => {
    const queued = lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    waiter = deferred<string>();
    return withTimeout(Promise.race([waiter.promise, failed]), 30_000, label);
  };

  let info: { url: string; relayUrl: string; transitPort: number };
  try {
    info = JSON.parse(await nextLine('gateway start-up')) as typeof info;
  } catch (err) {
    kill();
    unregister();
    throw err;
  }
  return {
    pid: child.pid!,
    ...info,
    gc: async () => {
      child.stdin!.write('gc\n');
      const line = await nextLine('gateway gc');
      if (line !== 'gc') throw new Error(`unexpected line from the gateway process: ${line}`);
    },
    stop: async () => {
      unregister();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      const timer = setTimeout(kill, 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------
// Mailbox protocol load generator

interface Frame {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** A raw mailbox client: send frames, await frames by predicate. */
class MailboxClient {
  readonly #ws: WebSocket;
  readonly #inbox: Frame[] = [];
  readonly #waiters: Array<{ match: (f: Frame) => boolean; d: Deferred<Frame> }> = [];
  #failure: Error | undefined;
  #id = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) return this.fail(new Error('binary frame from the mailbox server'));
      const frame = JSON.parse(String(data)) as Frame;
      if (frame.type === 'error') return this.fail(new Error(`mailbox error: ${String(frame['error'])}`));
      const i = this.#waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.d.resolve(frame);
      else this.#inbox.push(frame);
    });
    ws.on('close', () => this.fail(new Error('mailbox connection closed')));
    ws.on('error', (err) => this.fail(err));
  }

  static open(url: string): Promise<MailboxClient> {
    return new Promise((res, rej) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: nextAddress() });
      ws.once('open', () => {
        ws.off('error', rej);
        res(new MailboxClient(ws));
      });
      ws.once('error', rej);
    });
  }

  send(frame: Record<string, unknown>): void {
    this.#ws.send(JSON.stringify({ ...frame, id: (this.#id++).toString(16).padStart(4, '0') }));
  }

  next(match: (f: Frame) => boolean): Promise<Frame> {
    if (this.#failure) return Promise.reject(this.#failure);
    const i = this.#inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#inbox.splice(i, 1)[0]!);
    const d = deferred<Frame>();
    this.#waiters.push({ match, d });
    return d.promise;
  }

  nextType(type: string): Promise<Frame> {
    return this.next((f) => f.type === type);
  }

  /** The next `message` frame from `side` in `phase`. */
  message(side: string, phase: string): Promise<Frame> {
    return this.next((f) => f.type === 'message' && f['side'] === side && f['phase'] === phase);
  }

  fail(err: Error): void {
    this.#failure ??= err;
    for (const w of this.#waiters.splice(0)) w.d.reject(err);
  }

  /** A graceful close, as a client that is done. */
  close(): void {
    this.#failure ??= new Error('closed');
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close(1000);
  }

  terminate(): void {
    this.#failure ??= new Error('closed');
    this.#ws.terminate();
  }
}

const APPID = 'lothar.com/wormhole/text-or-file-xfer';
const CLIENT_VERSION = ['python', '0.12.0'];
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
// Body sizes as the CLI sends them (hex of): {"pake_v1": 33-byte point}, and
// secretbox(nonce + MAC + JSON) of the versions, a short text and its answer.
const BODY = { pake: hex(81), version: hex(60), text: hex(60), answer: hex(73) };
const sideId = () => hex(5);
let addresses = 0;
/** A loopback source address in a /24 of its own, cycling through 16 384 of them. */
const nextAddress = (): string => {
  addresses = (addresses + 1) % 16_384;
  return `127.${64 + (addresses >> 8)}.${addresses & 255}.1`;
};

/** One wormhole's mailbox traffic: two fresh connections, like two CLIs exchanging a short text. */
async function wormhole(url: string): Promise<void> {
  const opened = await Promise.allSettled([MailboxClient.open(url), MailboxClient.open(url)]);
  const [a, b] = opened.map((o) => (o.status === 'fulfilled' ? o.value : undefined));
  if (!a || !b) {
    a?.terminate();
    b?.terminate();
    throw opened.find((o): o is PromiseRejectedResult => o.status === 'rejected')!.reason;
  }
  const timer = setTimeout(() => {
    const err = new Error('wormhole timed out after 15 s');
    a.fail(err);
    b.fail(err);
  }, 15_000);
  try {
    const sa = sideId();
    const sb = sideId();
    a.send({ type: 'bind', appid: APPID, side: sa, client_version: CLIENT_VERSION });
    b.send({ type: 'bind', appid: APPID, side: sb, client_version: CLIENT_VERSION });
    a.send({ type: 'allocate' });
    const { nameplate } = await a.nextType('allocated');
    a.send({ type: 'claim', nameplate });
    const { mailbox } = await a.nextType('claimed');
    a.send({ type: 'open', mailbox });
    a.send({ type: 'add', phase: 'pake', body: BODY.pake });
    b.send({ type: 'claim', nameplate });
    const claimed = await b.nextType('claimed');
    if (claimed['mailbox'] !== mailbox) throw new Error('sides got different mailboxes');
    b.send({ type: 'open', mailbox });
    b.send({ type: 'add', phase: 'pake', body: BODY.pake });
    await Promise.all([a.message(sb, 'pake'), b.message(sa, 'pake')]);
    a.send({ type: 'release', nameplate });
    b.send({ type: 'release', nameplate });
    a.send({ type: 'add', phase: 'version', body: BODY.version });
    b.send({ type: 'add', phase: 'version', body: BODY.version });
    a.send({ type: 'add', phase: '0', body: BODY.text });
    await Promise.all([a.nextType('released'), b.nextType('released'), a.message(sb, 'version'), b.message(sa, 'version'), b.message(sa, '0')]);
    b.send({ type: 'add', phase: '0', body: BODY.answer });
    await a.message(sb, '0');
    a.send({ type: 'close', mailbox, mood: 'happy' });
    b.send({ type: 'close', mailbox, mood: 'happy' });
    await Promise.all([a.nextType('closed'), b.nextType('closed')]);
  } finally {
    clearTimeout(timer);
    a.close();
    b.close();
  }
}

interface RateRound {
  readonly perSecond: number;
  /** Server CPU time per completed wormhole, ms. */
  readonly cpuPerWormhole: number;
}

/** `pairs` wormholes at a time, new ones started for `ms`; completed ones per second of wall time. */
async function wormholeRound(url: string, pid: number, pairs: number, ms: number): Promise<RateRound> {
  let done = 0;
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: pairs }, async () => {
      while (performance.now() < end) {
        await wormhole(url);
        done++;
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const cpu = cpuMs(pid) - cpu0;
  return { perSecond: done / (elapsed / 1000), cpuPerWormhole: cpu / done };
}

/** Open `n` connections that `bind` (acked) and then idle; each goes into `into` as soon as it is open. */
async function openIdle(url: string, n: number, into: MailboxClient[]): Promise<void> {
  const batch = 100;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, async () => {
        const c = await MailboxClient.open(url);
        into.push(c);
        const acked = c.nextType('ack');
        c.send({ type: 'bind', appid: APPID, side: sideId(), client_version: CLIENT_VERSION });
        await acked;
      }),
    );
  }
}

/**
 * RSS per idle bound connection: a warm-up batch (opened and closed), then
 * `rounds` rounds of `n` connections, all kept open; one sample per round.
 */
async function idleMemory(url: string, pid: number, n: number, rounds: number, gc: () => Promise<void>): Promise<number[]> {
  const all: MailboxClient[] = [];
  try {
    const warm: MailboxClient[] = [];
    try {
      await openIdle(url, 100, warm);
    } finally {
      for (const c of warm) c.terminate();
    }
    await sleep(500);
    await gc();
    let before = rssBytes(pid);
    const perConn: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await openIdle(url, n, all);
      await sleep(500);
      await gc();
      const after = rssBytes(pid);
      perConn.push((after - before) / n / 1024);
      before = after;
    }
    return perConn;
  } finally {
    for (const c of all) c.terminate();
  }
}

// ---------------------------------------------------------------------------
// Relay

const CHUNK = randomBytes(256 << 10);
const RELAY_SIDE_TX = hex(8);
const RELAY_SIDE_RX = hex(8);

/** One end of a relay connection, past or waiting for the relay's `ok\n`. */
interface RelayEnd {
  /** Resolves when the relay answered `ok\n` (both sides are in). */
  readonly ready: Promise<void>;
  /** Resolves once `n` bytes after the `ok\n` have arrived. */
  receive(n: number): Promise<void>;
  /** Write `n` bytes in CHUNK-sized pieces, with backpressure. */
  send(n: number): Promise<void>;
  close(): void;
}

/** Counts incoming bytes after checking the relay's answer. */
class RelayInput {
  readonly ready = deferred<void>();
  #head: Buffer | undefined = Buffer.alloc(0);
  #got = 0;
  #want = Infinity;
  #done: Deferred<void> | undefined;
  #failure: Error | undefined;

  feed(data: Buffer): void {
    if (this.#head) {
      this.#head = Buffer.concat([this.#head, data]);
      if (this.#head.length < 3) return;
      const answer = this.#head.subarray(0, 3).toString('latin1');
      if (answer !== 'ok\n') return this.fail(new Error(`relay answered ${JSON.stringify(this.#head.toString('latin1'))}`));
      data = this.#head.subarray(3);
      this.#head = undefined;
      this.ready.resolve();
    }
    this.#got += data.length;
    if (this.#got > this.#want) this.fail(new Error(`received ${this.#got} bytes, expected ${this.#want}`));
    else if (this.#got === this.#want) this.#done?.resolve();
  }

  receive(n: number): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    this.#want = this.#got + n;
    this.#done = deferred<void>();
    return this.#done.promise;
  }

  fail(err: Error): void {
    this.#failure ??= err;
    this.ready.reject(err);
    this.#done?.reject(err);
  }
}

async function tcpEnd(port: number, token: string, side: string): Promise<RelayEnd> {
  const socket: Socket = await connectTcp(port);
  socket.setNoDelay(true);
  const input = new RelayInput();
  socket.on('data', (d: Buffer) => input.feed(d));
  socket.on('error', (err) => input.fail(err));
  socket.on('close', () => input.fail(new Error('relay connection closed')));
  socket.write(`please relay ${token} for side ${side}\n`);
  return {
    ready: input.ready.promise,
    receive: (n) => input.receive(n),
    send: (n) =>
      new Promise<void>((res) => {
        let sent = 0;
        const pump = (): void => {
          while (sent < n) {
            const piece = Math.min(CHUNK.length, n - sent);
            sent += piece;
            if (!socket.write(piece === CHUNK.length ? CHUNK : CHUNK.subarray(0, piece))) {
              socket.once('drain', pump);
              return;
            }
          }
          res();
        };
        pump();
      }),
    close: () => socket.destroy(),
  };
}

async function wsEnd(url: string, token: string, side: string): Promise<RelayEnd> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((res, rej) => {
    ws.once('open', () => {
      ws.off('error', rej);
      res();
    });
    ws.once('error', rej);
  });
  const input = new RelayInput();
  ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
    if (!isBinary) return input.fail(new Error('text frame from the relay'));
    input.feed(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer));
  });
  ws.on('error', (err) => input.fail(err));
  ws.on('close', () => input.fail(new Error('relay WebSocket closed')));
  ws.send(Buffer.from(`please relay ${token} for side ${side}\n`, 'latin1'), { binary: true });
  const window = 4 << 20; // bytes handed to ws.send and not yet on the socket
  return {
    ready: input.ready.promise,
    receive: (n) => input.receive(n),
    send: (n) =>
      new Promise<void>((res, rej) => {
        let sent = 0;
        let inflight = 0;
        const pump = (): void => {
          while (sent < n && inflight < window) {
            const piece = Math.min(CHUNK.length, n - sent);
            sent += piece;
            inflight += piece;
            ws.send(piece === CHUNK.length ? CHUNK : CHUNK.subarray(0, piece), { binary: true }, (err) => {
              if (err) return rej(err);
              inflight -= piece;
              if (sent === n && inflight === 0) res();
              else pump();
            });
          }
        };
        pump();
      }),
    close: () => ws.terminate(),
  };
}

type EndFactory = (token: string, side: string) => Promise<RelayEnd>;

/** Move `bytes` from a `tx` end to an `rx` end through a relay; MB/s (10^6), timed from both `ok\n`s to the last byte. */
async function relayRun(tx: EndFactory, rx: EndFactory, bytes: number): Promise<number> {
  const token = hex(32);
  const ends = await Promise.allSettled([tx(token, RELAY_SIDE_TX), rx(token, RELAY_SIDE_RX)]);
  const [a, b] = ends.map((e) => (e.status === 'fulfilled' ? e.value : undefined));
  try {
    for (const e of ends) if (e.status === 'rejected') throw e.reason;
    await withTimeout(Promise.all([a!.ready, b!.ready]), 10_000, 'relay handshake');
    const t0 = performance.now();
    await withTimeout(Promise.all([a!.send(bytes), b!.receive(bytes)]), 120_000, 'relay transfer');
    return bytes / 1e6 / ((performance.now() - t0) / 1000);
  } finally {
    a?.close();
    b?.close();
  }
}

// ---------------------------------------------------------------------------

export async function gatewayBench(): Promise<void> {
  const pairs = envNumber('BURROW_BENCH_GW_PAIRS', 20);
  const seconds = envNumber('BURROW_BENCH_GW_SECONDS', 3);
  const idle = envNumber('BURROW_BENCH_GW_IDLE', 500);
  const relayBytes = envNumber('BURROW_BENCH_RELAY_MB', 256) * (1 << 20);
  const rounds = 3;

  // Mailbox limits at their defaults; the relay's throughput runs come from 127.0.0.1.
  const options: GatewayOptions = {
    port: 0,
    transitPort: 0,
    relayLimits: { maxConnectionsPerAddress: 10_000 },
  };
  const gw = await startGatewayProcess(options);
  try {
    if (process.env['BURROW_BENCH_GW_ONLY'] !== 'relay') await mailboxBench(gw, options, { pairs, seconds, idle, rounds });
    await relayBench(gw, relayBytes, rounds);
  } finally {
    await gw.stop();
  }
}

interface MailboxBenchParams {
  readonly pairs: number;
  readonly seconds: number;
  readonly idle: number;
  readonly rounds: number;
}

async function mailboxBench(gw: GatewayProcess, options: GatewayOptions, { pairs, seconds, idle, rounds }: MailboxBenchParams): Promise<void> {
  const debian = await startMailboxServer();
  const dataDir = makeTempDir('burrow-bench-gateway-');
  let gwDisk: GatewayProcess | undefined;
  try {
    const debianPid = debian.pid;
    if (debianPid === undefined) throw new Error('Debian mailbox server has no pid');

    // 2 first, on fresh processes.
    const memBurrow = await idleMemory(gw.url, gw.pid, idle, rounds, () => gw.gc());
    const memDebian = await idleMemory(debian.url, debianPid, idle, rounds, async () => { /* the Debian server needs no settling between rounds */ });
    report(
      `Mailbox: server RSS per idle bound connection (${rounds} rounds of ${idle}, all kept open)`,
      [
        { name: DEBIAN_MAILBOX, values: memDebian, unit: 'KiB' },
        { name: BURROW_MAILBOX, values: memBurrow, unit: 'KiB' },
      ],
      DEBIAN_MAILBOX,
    );

    // 1: warm up every server, then alternate timed rounds.
    gwDisk = await startGatewayProcess({ ...options, dataDir });
    const servers: Array<{ name: string; url: string; pid: number; rounds: RateRound[] }> = [
      { name: DEBIAN_MAILBOX, url: debian.url, pid: debianPid, rounds: [] },
      { name: BURROW_MAILBOX, url: gw.url, pid: gw.pid, rounds: [] },
      { name: BURROW_MAILBOX_DISK, url: gwDisk.url, pid: gwDisk.pid, rounds: [] },
    ];
    for (const s of servers) await wormholeRound(s.url, s.pid, 4, 1_000);
    for (let r = 0; r < rounds; r++) {
      for (const s of servers) s.rounds.push(await wormholeRound(s.url, s.pid, pairs, seconds * 1000));
    }
    report(
      `Mailbox: wormholes completed per second (${pairs} concurrent pairs, ${rounds} rounds of ${seconds} s, raw protocol, no crypto)`,
      servers.map((s) => ({ name: s.name, values: s.rounds.map((x) => x.perSecond), unit: '/s' })),
      DEBIAN_MAILBOX,
      true,
    );
    report(
      'Mailbox: server CPU time per wormhole (same rounds)',
      servers.map((s) => ({ name: s.name, values: s.rounds.map((x) => x.cpuPerWormhole), unit: 'ms' })),
      DEBIAN_MAILBOX,
    );
  } finally {
    await gwDisk?.stop();
    removeDir(dataDir);
    await debian.stop();
  }
}

async function relayBench(gw: GatewayProcess, relayBytes: number, rounds: number): Promise<void> {
  const relay = await startTransitRelay();
  try {
    const cases: Array<[string, EndFactory, EndFactory]> = [
      [DEBIAN_RELAY, (t, s) => tcpEnd(relay.port, t, s), (t, s) => tcpEnd(relay.port, t, s)],
      ['Burrow TCP→TCP', (t, s) => tcpEnd(gw.transitPort, t, s), (t, s) => tcpEnd(gw.transitPort, t, s)],
      ['Burrow WS→TCP', (t, s) => wsEnd(gw.relayUrl, t, s), (t, s) => tcpEnd(gw.transitPort, t, s)],
      ['Burrow TCP→WS', (t, s) => tcpEnd(gw.transitPort, t, s), (t, s) => wsEnd(gw.relayUrl, t, s)],
    ];
    for (const [, tx, rx] of cases) await relayRun(tx, rx, 16 << 20); // warm-up
    const values = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [name, tx, rx] of cases) values.get(name)!.push(await relayRun(tx, rx, relayBytes));
    }
    const samples: Sample[] = cases.map(([name]) => ({ name, values: values.get(name)!, unit: 'MB/s' }));
    report(`Relay throughput, ${relayBytes >> 20} MiB one way (256 KiB writes)`, samples, DEBIAN_RELAY, true);
  } finally {
    await relay.stop();
  }
}
