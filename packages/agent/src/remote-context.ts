/**
 * What the agent's remote-v1 listeners share: the context they run in, the
 * mailbox options of their wormholes, and the retry pause.
 */
import WebSocket from 'ws';
import type { WebSocketConstructor } from '@burrow/client';
import type { Logger } from '@burrow/protocol';
import { REMOTE_APPID } from '@burrow/protocol/agent';
import type { Pairings } from '@burrow/store';
import type { AgentReporter } from './events.js';
import type { AgentOptions, RemoteListenOptions } from './options.js';
import type { Session } from './sessions.js';
import type { MailboxOptions } from './wormhole.js';

export interface RemoteContext {
  readonly id: string;
  readonly store: Pairings;
  readonly reporter: AgentReporter;
  readonly remote: RemoteListenOptions;
  readonly mailbox: string;
  readonly WebSocket: AgentOptions['WebSocket'];
  readonly transport: AgentOptions['transport'];
  readonly logger: Logger | undefined;
  /** False once the agent is shutting down. */
  running(): boolean;
  addSession(session: Session): void;
}

export const MAX_RETRY_MS = 30_000;

/** Wait `ms` (a retry delay), or less if `signal` fires. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The mailbox options of every remote-v1 wormhole the agent opens. */
export function remoteMailbox(ctx: RemoteContext, rtc: boolean): MailboxOptions {
  return {
    mailbox: ctx.mailbox,
    appid: REMOTE_APPID,
    WebSocket: ctx.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
    RTCPeerConnection: rtc ? (ctx.remote.RTCPeerConnection ?? null) : null,
    transport: ctx.transport,
    bindSignal: true,
  };
}
