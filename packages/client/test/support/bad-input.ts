/**
 * Shared set-up for the bad-input tests (bad-input-server.test.ts,
 * bad-input-peer.test.ts): wormholes on a MemoryMailbox, a way to expect
 * them to end with a code, and a peer played by hand.
 */
import { expect } from 'vitest';
import { decodePakeBody, encodePakeBody, encryptPhaseMessage, startSpake2, toHex, utf8, type SessionKey } from '@burrow/protocol';
import { seededRandom } from '@burrow/testkit';
import { MemoryMailbox } from '../../src/testing.js';
import { createWormhole, DEFAULT_APPID, WormholeError, type Wormhole, type WormholeErrorCode } from '../../src/index.js';
import { rejection } from '../bounded.js';

/** Per-test timeout. */
export const T = 10_000;
export const CODE = '4-purple-sausages';
export const PEER = 'feedfacefe';

/** Wormholes to close after each test (push any made without {@link open}). */
export const opened: Wormhole[] = [];

/** Close every wormhole {@link open} made (each test file runs it in `afterEach`). */
export async function closeOpened(): Promise<void> {
  await Promise.allSettled(opened.splice(0).map((w) => w.close()));
}


/** A wormhole on `server`, closed by {@link closeOpened}. */
export async function open(server: MemoryMailbox, seed = 1): Promise<Wormhole> {
  const w = await createWormhole({
    mailbox: server.url,
    transport: server.transport,
    random: seededRandom(seed),
    reconnect: { initialMs: 1, maxMs: 10, factor: 2 },
  });
  opened.push(w);
  return w;
}

/** One wormhole with CODE set and its mailbox open on the server. */
export async function lone(server = new MemoryMailbox()) {
  const w = await open(server);
  w.setCode(CODE);
  const conn = await server.waitFor(() => {
    const c = server.connectionOf(w.side);
    return c?.received.some((m) => m.type === 'open') ? c : undefined;
  }, 'the mailbox to be opened');
  const mailbox = server.mailboxOf('4')!;
  return { server, w, conn, mailbox };
}

/** Expect the wormhole to end with `code`, through `closed` and a call that was pending. */
export async function expectEnds(w: Wormhole, pending: Promise<WormholeError>, code: WormholeErrorCode): Promise<WormholeError> {
  const err = await rejection(w.closed);
  expect(err).toBeInstanceOf(WormholeError);
  expect(err.code).toBe(code);
  expect((await pending).code).toBe(code);
  expect(w.status).toBe('closed');
  return err;
}

/**
 * A peer played by hand with the protocol primitives, so it can send what a
 * real client never would.
 */
export class ScriptedPeer {
  readonly #spake = startSpake2({ password: utf8(CODE), id: utf8(DEFAULT_APPID), random: seededRandom(99) });
  readonly #random = seededRandom(98);
  key: SessionKey | undefined;

  constructor(
    readonly server: MemoryMailbox,
    readonly mailbox: string,
    readonly w: Wormhole,
  ) {}

  add(phase: string, body: string): void {
    this.server.addMessage(this.mailbox, { side: PEER, phase, body });
  }

  /** Send our pake, finish with theirs. */
  async handshake(): Promise<SessionKey> {
    this.add('pake', encodePakeBody(this.#spake.message));
    const theirs = await this.server.waitFor(
      () => this.server.mailboxes.get(this.mailbox)?.messages.find((m) => m.side === this.w.side && m.phase === 'pake'),
      'their pake',
    );
    this.key = this.#spake.finish(decodePakeBody(theirs.body));
    return this.key;
  }

  encrypted(phase: string, plaintext: Uint8Array | string): void {
    const bytes = typeof plaintext === 'string' ? utf8(plaintext) : plaintext;
    this.add(phase, toHex(encryptPhaseMessage(this.key!, PEER, phase, bytes, this.#random)));
  }
}
