/** One relay connection's state, as the relay (./relay.ts) tracks it. */
import type { RelayEndpoint } from './endpoint.js';

export type Phase = 'handshake' | 'waiting' | 'relaying' | 'closing' | 'closed';
/** Python's usage moods. */
export type Mood = 'errory' | 'lonely' | 'redundant' | 'jilted' | 'happy' | 'timeout';

export interface Conn {
  readonly id: number;
  readonly ep: RelayEndpoint;
  readonly started: number;
  phase: Phase;
  /** Handshake bytes so far. */
  buf: Uint8Array;
  /** The handshake line, kept while waiting (sent on if the half is forwarded). */
  hello: Uint8Array | undefined;
  /** Forwarded here by another process: pair it here or nowhere. */
  readonly forwarded: boolean;
  token: string | undefined;
  buddy: Conn | undefined;
  /** When the current phase's deadline runs from. */
  since: number;
  lastActivity: number;
  /** Bytes this side sent to its buddy. */
  sent: number;
  /** Paused because the buddy's queue is full. */
  paused: boolean;
  /** Paused because the buddy still holds a chunk lent from our read buffer: resume only once its queue is empty. */
  lent: boolean;
  mood: Mood | undefined;
}

/** A connection that has just arrived (`forwarded`: sent here by another process). */
export function newConn(id: number, ep: RelayEndpoint, now: number, forwarded: boolean): Conn {
  return {
    id,
    ep,
    started: now,
    phase: 'handshake',
    buf: new Uint8Array(0),
    hello: undefined,
    forwarded,
    token: undefined,
    buddy: undefined,
    since: now,
    lastActivity: now,
    sent: 0,
    paused: false,
    lent: false,
    mood: undefined,
  };
}
