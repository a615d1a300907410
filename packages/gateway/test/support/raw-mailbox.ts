/**
 * Mailbox clients that speak raw protocol frames (no @burrow/client: the
 * gateway depends on nothing above @burrow/protocol), over a WebSocket or
 * over WebTransport (length-prefixed frames on one bidirectional stream),
 * and the exchange two clients make to pass one message through a mailbox.
 */
import { bestEffort } from '@burrow/protocol';
import WebSocket from 'ws';
import { waitFor, type PonyfillWebTransportCtor } from '@burrow/testkit';
import { encodeFrame, FrameDecoder } from '../../src/index.js';

export type Frame = Record<string, unknown> & { type: string };

export const APPID = 'lothar.com/wormhole/text-or-file-xfer';

/** One raw mailbox connection: every frame received, in order. */
export interface RawMailboxClient {
  readonly frames: Frame[];
  send(frame: Record<string, unknown>): void;
  /** The first frame of `type` received after `from` (an index into `frames`). */
  next(type: string, from?: number): Promise<Frame>;
  /** Resolves with the close code (WebSocket) or 0 (WebTransport) once the connection is gone. */
  readonly closed: Promise<number>;
  close(): void;
}

function client(frames: Frame[], send: (text: string) => void, closed: Promise<number>, close: () => void): RawMailboxClient {
  return {
    frames,
    send: (frame) => send(JSON.stringify(frame)),
    next: (type, from = 0) =>
      waitFor(
        () => {
          const got = frames.slice(from);
          const error = got.find((f) => f.type === 'error' && type !== 'error');
          if (error) throw new Error(`the server answered ${JSON.stringify(error)}`);
          return got.find((f) => f.type === type);
        },
        { message: `a ${type} frame`, intervalMs: 5, fatal: () => true },
      ),
    closed,
    close,
  };
}

/** A raw mailbox client over WebSocket; resolves once the welcome is in. */
export async function wsMailboxClient(url: string, options: WebSocket.ClientOptions = {}): Promise<RawMailboxClient & { readonly ws: WebSocket }> {
  const ws = new WebSocket(url, options);
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  // Decision: errors end in `close`, which `closed` reports.
  ws.on('error', () => {
      /* resets and refusals are part of the test: the outcome is asserted, not the socket error */
    });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const c = client(frames, (text) => ws.send(text), closed, () => ws.close());
  await c.next('welcome');
  return { ...c, ws };
}

/** A raw mailbox client over WebTransport (the ponyfill); resolves once the welcome is in. */
export async function wtMailboxClient(WebTransport: PonyfillWebTransportCtor, url: string): Promise<RawMailboxClient> {
  const wt = new WebTransport(url);
  await wt.ready;
  const stream = await wt.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  const frames: Frame[] = [];
  const reading = (async () => {
    const decoder = new FrameDecoder(1 << 20);
    const reader = stream.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 0;
      for (const f of decoder.push(value)) frames.push(JSON.parse(new TextDecoder().decode(f)) as Frame);
    }
  })().catch(() => 0);
  const send = (text: string): void => {
    // Decision: a write to a closed session fails; the test then times out waiting for the answer.
    writer.write(encodeFrame(new TextEncoder().encode(text))).catch(bestEffort);
  };
  const c = client(frames, send, reading, () => wt.close());
  await c.next('welcome');
  return c;
}

/**
 * Pass `body` (hex) from `a` to `b` through a fresh nameplate and mailbox,
 * then let both release and close, as a real sender and receiver would.
 * Returns the body `b` received.
 */
export async function exchange(a: RawMailboxClient, b: RawMailboxClient, body: string): Promise<string> {
  const { nameplate } = await sendBody(a, body);
  const got = await receiveBody(b, nameplate);
  await leave(a);
  await leave(b);
  return got;
}

/** `a` binds, allocates, claims, opens and adds `body`; returns the nameplate. */
export async function sendBody(a: RawMailboxClient, body: string): Promise<{ nameplate: string; mailbox: string }> {
  a.send({ type: 'bind', appid: APPID, side: 'aaaa' });
  let from = a.frames.length;
  a.send({ type: 'allocate' });
  const nameplate = (await a.next('allocated', from))['nameplate'] as string;
  from = a.frames.length;
  a.send({ type: 'claim', nameplate });
  const mailbox = (await a.next('claimed', from))['mailbox'] as string;
  a.send({ type: 'open', mailbox });
  a.send({ type: 'add', phase: 'pake', body });
  return { nameplate, mailbox };
}

class ServerRefusal extends Error {}

/** `b` binds, claims `nameplate`, opens its mailbox; resolves to the other side's first body (an `error` frame fails at once). */
export async function receiveBody(b: RawMailboxClient, nameplate: string): Promise<string> {
  b.send({ type: 'bind', appid: APPID, side: 'bbbb' });
  const from = b.frames.length;
  b.send({ type: 'claim', nameplate });
  const mailbox = (await b.next('claimed', from))['mailbox'] as string;
  b.send({ type: 'open', mailbox });
  const refused = (f: { type: string }) => f.type === 'error';
  const msg = await waitFor(
    () => {
      const error = b.frames.slice(from).find(refused);
      if (error) throw new ServerRefusal(`the server refused: ${JSON.stringify(error).slice(0, 300)}`);
      return b.frames.find((f) => f.type === 'message' && f['side'] === 'aaaa');
    },
    { message: 'the other side’s message', intervalMs: 5, fatal: (err) => err instanceof ServerRefusal },
  );
  return msg['body'] as string;
}

/** Release the nameplate and close the mailbox (happy), waiting for both answers. */
export async function leave(c: RawMailboxClient): Promise<void> {
  const claimed = [...c.frames].reverse().find((f) => f.type === 'claimed');
  const from = c.frames.length;
  c.send({ type: 'release' });
  await c.next('released', from);
  if (claimed) {
    c.send({ type: 'close', mailbox: claimed['mailbox'], mood: 'happy' });
    await c.next('closed', from);
  }
}
