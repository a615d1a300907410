/**
 * Gateway benchmark, mailbox half: a protocol-level load generator (raw `ws`
 * clients, no crypto) for wormholes completed per second and the server's CPU
 * time per wormhole, and the server's RSS per idle bound connection; Burrow's
 * gateway against Debian's mailbox server 0.4.1. See gateway.ts.
 */
import WebSocket from 'ws';
import { deferred, type Deferred } from '@burrow/protocol';
import { makeTempDir, removeDir, startMailboxServer } from '@burrow/testkit';
import type { GatewayOptions } from '@burrow/gateway';
import { cpuMs, rssBytes, startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { startRedisClusters } from './gateway-redis.js';
import { randomHex as hex, report } from './lib.js';

const DEBIAN_MAILBOX = 'Debian mailbox 0.4.1';
const BURROW_MAILBOX = 'Burrow gateway';
const BURROW_MAILBOX_DISK = 'Burrow gateway (dataDir)';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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

/** One wormhole's mailbox traffic: two fresh connections (to `url` and `urlB`), like two CLIs exchanging a short text. */
async function wormhole(url: string, urlB = url): Promise<void> {
  const opened = await Promise.allSettled([MailboxClient.open(url), MailboxClient.open(urlB)]);
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

/**
 * `pairs` wormholes at a time, new ones started for `ms`; completed ones per
 * second of wall time. With several `urls` (processes sharing a store), pair
 * k's sides connect to urls[k] and urls[k+1]: every wormhole spans two
 * processes. CPU time is summed over `pids`.
 */
async function wormholeRound(urls: string | readonly string[], pids: number | readonly number[], pairs: number, ms: number): Promise<RateRound> {
  const us = typeof urls === 'string' ? [urls] : urls;
  const ps = typeof pids === 'number' ? [pids] : pids;
  const cpuNow = () => ps.reduce((sum, pid) => sum + cpuMs(pid), 0);
  let done = 0;
  const cpu0 = cpuNow();
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: pairs }, async (_, k) => {
      while (performance.now() < end) {
        await wormhole(us[k % us.length]!, us[(k + 1) % us.length]!);
        done++;
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const cpu = cpuNow() - cpu0;
  return { perSecond: done / (elapsed / 1000), cpuPerWormhole: cpu / done };
}

/** Open `n` connections that `bind` (acked) and then idle; each goes into `into` as soon as it is open. */
export async function openIdle(url: string, n: number, into: MailboxClient[]): Promise<void> {
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


/** Sizes of the mailbox benchmark (see gateway.ts for the env variables). */
export interface MailboxBenchParams {
  readonly pairs: number;
  readonly seconds: number;
  readonly idle: number;
  readonly rounds: number;
}

/** Measure and report 2 (idle memory) then 1 (wormholes per second) of gateway.ts against `gw` and a Debian mailbox server. */
export async function mailboxBench(gw: GatewayProcess, options: GatewayOptions, { pairs, seconds, idle, rounds }: MailboxBenchParams): Promise<void> {
  const debian = await startMailboxServer();
  // Redis clusters (BURROW_BENCH_GW_REDIS=0 skips them): CPU includes redis-server's.
  const redis = process.env['BURROW_BENCH_GW_REDIS'] === '0' ? undefined : await startRedisClusters(options);
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
    const servers: Array<{ name: string; url: string | readonly string[]; pid: number | readonly number[]; rounds: RateRound[] }> = [
      { name: DEBIAN_MAILBOX, url: debian.url, pid: debianPid, rounds: [] },
      { name: BURROW_MAILBOX, url: gw.url, pid: gw.pid, rounds: [] },
      { name: BURROW_MAILBOX_DISK, url: gwDisk.url, pid: gwDisk.pid, rounds: [] },
    ];
    if (redis) {
      for (const n of [1, 2, 3]) {
        const cluster = await redis.cluster(n);
        servers.push({ name: `Burrow gateway (Redis, ${n} process${n > 1 ? 'es' : ''})`, url: cluster.urls, pid: cluster.pids, rounds: [] });
      }
    }
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
    await redis?.stop();
    removeDir(dataDir);
    await debian.stop();
  }
}
