/**
 * The receiving end of the Node ↔ Node benchmarks, in a process of its own
 * (bench/files.ts `nodeFiles` with BENCH_FILES_PROCESSES=2): each end then
 * has its own JavaScript thread, as two real peers do. Commands come over
 * the fork IPC channel; each case answers once all its bytes are in.
 *
 * - `raw`: answer the parent's offer, count the bytes of the first data
 *   channel (candidates travel over IPC);
 * - `stream`: join `code`, take the first connect() stream and read it out;
 * - `files`: join `code`, accept the files offer into a sink that keeps
 *   nothing, and report the result.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { Hasher } from '@burrow/protocol';
import { createWormhole, receiveOffer, sendFiles, type FilesSink, type RTCPeerConnectionConstructor, type SendItem, type WebSocketConstructor } from '@burrow/client';
import { nodeSha256 } from '@burrow/client/node';
import { loadNodeDataChannel, rtcConstructor, sendRaw } from './webrtc.js';

export type PeerCommand =
  | { type: 'raw'; bytes: number }
  | { type: 'offer'; sdp: string }
  | { type: 'candidate'; candidate: string; sdpMid: string | null }
  | { type: 'stream' | 'files'; mailbox: string; code: string; bytes: number; nohash: boolean };

export type PeerReply =
  | { type: 'answer'; sdp: string }
  | { type: 'candidate'; candidate: string; sdpMid: string | null }
  | { type: 'done'; cpuUs: number; elapsedMs?: number; via?: string };

const WS = WebSocket as unknown as WebSocketConstructor;
const LOOPBACK = { rtcConfiguration: { bindAddress: '127.0.0.1' } };
const reply = (m: PeerReply) => process.send!(m);

/** A sink that keeps nothing (the path's speed, not the disk's). */
export const discardSink: FilesSink = {
  async open() {
    return {
      held: 0,
      readHeld: () => new ReadableStream({ start: (c) => c.close() }),
      write: async () => new WritableStream<Uint8Array>(),
      commit: async () => undefined,
      discard: async () => undefined,
    };
  },
  mkdir: async () => undefined,
};

async function raw(RTC: RTCPeerConnectionConstructor, bytes: number, commands: AsyncIterator<PeerCommand>): Promise<void> {
  const pc = new RTC({ iceServers: [], bindAddress: '127.0.0.1' } as unknown as RTCConfiguration);
  pc.addEventListener('icecandidate', (e) => {
    const c = (e as RTCPeerConnectionIceEvent).candidate;
    if (c?.candidate) reply({ type: 'candidate', candidate: c.candidate, sdpMid: c.sdpMid });
  });
  const c0 = process.cpuUsage();
  const received = new Promise<void>((resolve) => {
    pc.addEventListener('datachannel', (e) => {
      let n = 0;
      (e as RTCDataChannelEvent).channel.addEventListener('message', (m) => {
        n += ((m as MessageEvent).data as ArrayBuffer).byteLength;
        if (n >= bytes) resolve();
      });
    });
  });
  onCandidate = (c) => void pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid }).catch(() => undefined);
  const offer = await commands.next();
  if (offer.value?.type !== 'offer') throw new Error('expected the offer');
  await pc.setRemoteDescription({ type: 'offer', sdp: offer.value.sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  reply({ type: 'answer', sdp: pc.localDescription!.sdp });
  await received;
  onCandidate = undefined;
  const c = process.cpuUsage(c0);
  reply({ type: 'done', cpuUs: c.user + c.system });
  pc.close();
}

async function viaWormhole(RTC: RTCPeerConnectionConstructor, cmd: Extract<PeerCommand, { type: 'stream' | 'files' }>): Promise<void> {
  const w = await createWormhole({ mailbox: cmd.mailbox, WebSocket: WS, RTCPeerConnection: RTC });
  try {
    w.setCode(cmd.code);
    const c0 = process.cpuUsage();
    if (cmd.type === 'stream') {
      const conn = await w.connect(LOOPBACK);
      const first = await conn.incoming[Symbol.asyncIterator]().next();
      const s = first.value!;
      s.writable.close().catch(() => undefined); // the peer may have cancelled its side already
      let n = 0;
      for await (const chunk of s.readable as unknown as AsyncIterable<Uint8Array>) n += chunk.length;
      if (n !== cmd.bytes) throw new Error(`got ${n} of ${cmd.bytes} bytes`);
      const c = process.cpuUsage(c0);
      reply({ type: 'done', cpuUs: c.user + c.system });
      await conn.close();
      return;
    }
    const offer = await receiveOffer(w, { connect: LOOPBACK });
    if (offer.type !== 'files') throw new Error(`expected files, got ${offer.type}`);
    const createHash = cmd.nohash ? () => ({ update: () => undefined, hexDigest: () => '0'.repeat(64) }) : nodeSha256;
    const result = await offer.accept(discardSink, { createHash });
    const c = process.cpuUsage(c0);
    reply({ type: 'done', cpuUs: c.user + c.system, elapsedMs: result.elapsedMs, via: result.via });
  } finally {
    await w.close().catch(() => undefined);
  }
}

/** Where the raw case's ICE candidates go while it runs. */
let onCandidate: ((c: Extract<PeerCommand, { type: 'candidate' }>) => void) | undefined;

/** Commands in arrival order (candidates go straight to `onCandidate`). */
function commandQueue(): AsyncIterator<PeerCommand> {
  const queue: PeerCommand[] = [];
  const waiters: ((r: IteratorResult<PeerCommand>) => void)[] = [];
  process.on('message', (m: PeerCommand) => {
    if (m.type === 'candidate') return onCandidate?.(m);
    const w = waiters.shift();
    if (w) w({ value: m, done: false });
    else queue.push(m);
  });
  return {
    next: () => (queue.length ? Promise.resolve({ value: queue.shift()!, done: false }) : new Promise((r) => waiters.push(r))),
  };
}

/** One timed run: MB/s, and the CPU time of both processes (µs). */
export interface PairRun {
  mbps: number;
  cpuUs: number;
}

const NO_HASH: Hasher = { update: () => undefined, hexDigest: () => '0'.repeat(64) };

/**
 * The three Node ↔ Node cases with the receiver in a child process: a raw
 * RTCDataChannel pair, one connect() stream, and `sendFiles` of `file`.
 */
export function twoProcessRuns(mailboxUrl: string, bytes: number, file: () => SendItem, nohash: boolean): { raw: () => Promise<PairRun>; stream: () => Promise<PairRun>; files: () => Promise<PairRun>; close: () => void } {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--conditions=source', '--import', 'tsx'],
    env: { ...process.env, BURROW_NODE_PEER: '1' },
  });
  let onCandidate: ((c: Extract<PeerReply, { type: 'candidate' }>) => void) | undefined;
  const waiters: ((r: PeerReply) => void)[] = [];
  child.on('message', (m: PeerReply) => {
    if (m.type === 'candidate') onCandidate?.(m);
    else waiters.shift()?.(m);
  });
  const nextReply = () => new Promise<PeerReply>((r) => waiters.push(r));
  const send = (c: PeerCommand) => child.send(c);
  const block = new Uint8Array(64 * 1024).fill(7);
  const RTC = rtcConstructor();

  const raw = async (): Promise<PairRun> => {
    const c0 = process.cpuUsage();
    const pc = new RTC({ iceServers: [], bindAddress: '127.0.0.1' } as unknown as RTCConfiguration);
    // Candidates go both ways once both descriptions are set (the child has set ours once it answers).
    const mine: PeerCommand[] = [];
    const theirs: Extract<PeerReply, { type: 'candidate' }>[] = [];
    let answered = false;
    pc.addEventListener('icecandidate', (e) => {
      const c = (e as RTCPeerConnectionIceEvent).candidate;
      if (!c?.candidate) return;
      const cmd: PeerCommand = { type: 'candidate', candidate: c.candidate, sdpMid: c.sdpMid };
      if (answered) send(cmd);
      else mine.push(cmd);
    });
    onCandidate = (c) => (answered ? void pc.addIceCandidate(c).catch(() => undefined) : theirs.push(c));
    const dc = pc.createDataChannel('raw');
    send({ type: 'raw', bytes });
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: 'offer', sdp: pc.localDescription!.sdp });
    const answer = await nextReply();
    if (answer.type !== 'answer') throw new Error(`expected the answer, got ${answer.type}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    answered = true;
    for (const c of mine.splice(0)) send(c);
    for (const c of theirs.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
    if (dc.readyState !== 'open') await new Promise((r) => dc.addEventListener('open', r, { once: true }));
    const t0 = performance.now();
    const done = nextReply();
    await sendRaw(dc, block, bytes);
    const reply = await done;
    const mbps = bytes / 1e6 / ((performance.now() - t0) / 1000);
    onCandidate = undefined;
    pc.close();
    const c = process.cpuUsage(c0);
    return { mbps, cpuUs: c.user + c.system + (reply.type === 'done' ? reply.cpuUs : 0) };
  };

  const viaWormhole = async (type: 'stream' | 'files'): Promise<PairRun> => {
    const c0 = process.cpuUsage();
    const w = await createWormhole({ mailbox: mailboxUrl, WebSocket: WS, RTCPeerConnection: RTC });
    try {
      const code = await w.allocateCode();
      send({ type, mailbox: mailboxUrl, code, bytes, nohash });
      const done = nextReply();
      let t0 = 0;
      if (type === 'stream') {
        const conn = await w.connect(LOOPBACK);
        const s = await conn.openStream();
        s.readable.cancel().catch(() => undefined);
        t0 = performance.now();
        const writer = s.writable.getWriter();
        for (let sent = 0; sent < bytes; sent += block.length) await writer.write(block);
        await writer.close();
        await done;
        await conn.close();
      } else {
        await sendFiles(w, [file()], { connect: LOOPBACK, createHash: nohash ? () => NO_HASH : nodeSha256 });
      }
      const reply = await done;
      if (reply.type !== 'done') throw new Error(`expected done, got ${reply.type}`);
      if (type === 'files' && reply.via !== 'webrtc') throw new Error(`expected webrtc, got ${reply.via}`);
      const ms = type === 'files' ? reply.elapsedMs! : performance.now() - t0;
      const c = process.cpuUsage(c0);
      return { mbps: bytes / 1e6 / (ms / 1000), cpuUs: c.user + c.system + reply.cpuUs };
    } finally {
      await w.close().catch(() => undefined);
    }
  };

  return { raw, stream: () => viaWormhole('stream'), files: () => viaWormhole('files'), close: () => void child.kill() };
}

if (process.env['BURROW_NODE_PEER'] === '1' && process.send) {
  await loadNodeDataChannel();
  const RTC = rtcConstructor();
  const commands = commandQueue();
  process.on('disconnect', () => process.exit(0));
  for (;;) {
    const { value: cmd } = await commands.next();
    if (cmd.type === 'raw') await raw(RTC, cmd.bytes, commands);
    else if (cmd.type === 'stream' || cmd.type === 'files') await viaWormhole(RTC, cmd);
  }
}
