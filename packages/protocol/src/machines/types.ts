/**
 * The vocabulary the session machines share: their environment, the events
 * each one accepts, and the effects that leave the protocol core.
 */
import type { WormholeError } from '../errors.js';
import type { ClientMessage, Mood, Welcome } from '../messages.js';
import type { SessionKey } from '../keys.js';

/** What the machines may use from the outside world: injected, never global. */
export interface SessionEnv {
  /** Our side id: 10 lowercase hex chars, fixed for the life of the wormhole. */
  readonly side: string;
  readonly appid: string;
  /** Cryptographic randomness. */
  readonly random: (n: number) => Uint8Array;
  /** Our `app_versions` for the `version` phase. */
  readonly appVersions: Readonly<Record<string, unknown>>;
  /** Extra top-level keys for the `version` phase (e.g. Burrow abilities). */
  readonly versionExtras?: Readonly<Record<string, unknown>>;
  /** Reconnect backoff: first delay and cap, in ms. */
  readonly reconnect?: { readonly initialMs: number; readonly maxMs: number; readonly factor: number };
}

export type NameplateEvent =
  | { type: 'connected' }
  | { type: 'lost' }
  | { type: 'set_nameplate'; nameplate: string }
  | { type: 'rx_claimed'; mailbox: string }
  | { type: 'rx_released' }
  | { type: 'release' }
  | { type: 'close' };

export type MailboxEvent =
  | { type: 'connected' }
  | { type: 'lost' }
  | { type: 'got_mailbox'; mailbox: string }
  | { type: 'add'; phase: string; body: string }
  | { type: 'rx_message'; side: string; phase: string; body: string }
  /** refined from rx_message: an echo of our own add */
  | { type: 'rx_ours'; phase: string }
  /** refined from rx_message: a message from the other side */
  | { type: 'rx_theirs'; side: string; phase: string; body: string }
  | { type: 'rx_closed' }
  | { type: 'close'; mood: Mood };

export type OrderEvent =
  | { type: 'got_message'; side: string; phase: string; body: string }
  | { type: 'got_pake'; side: string; body: string }
  | { type: 'got_other'; side: string; phase: string; body: string };

export type KeyEvent =
  | { type: 'got_code'; code: string }
  | { type: 'got_pake'; body: string }
  /** refined: the pake body parsed and SPAKE2 finished */
  | { type: 'pake_good'; key: SessionKey }
  | { type: 'pake_bad'; error: WormholeError };

export type ReceiveEvent =
  | { type: 'got_key'; key: SessionKey }
  | { type: 'got_message'; side: string; phase: string; body: string }
  | { type: 'message_good'; phase: string; plaintext: Uint8Array }
  | { type: 'message_bad' };

export type SendEvent =
  | { type: 'send'; phase: string; plaintext: Uint8Array }
  | { type: 'got_verified_key'; key: SessionKey };

export type CodeEvent =
  | { type: 'connected' }
  | { type: 'lost' }
  | { type: 'allocate'; words: number }
  | { type: 'set_code'; code: string }
  | { type: 'rx_allocated'; nameplate: string };

export type TerminatorEvent =
  | { type: 'close'; mood: Mood }
  | { type: 'nameplate_done' }
  | { type: 'mailbox_done' }
  | { type: 'stopped' };

export type RendezvousEvent =
  | { type: 'start' }
  | { type: 'connection_made' }
  | { type: 'connection_lost' }
  /** refined from connection_lost before any connection ever succeeded */
  | { type: 'connection_failed' }
  | { type: 'timer' }
  | { type: 'stop' };

export type BossEvent =
  | { type: 'send'; plaintext: Uint8Array }
  | { type: 'close' }
  | { type: 'got_code'; code: string }
  | { type: 'got_key'; key: SessionKey }
  | { type: 'happy' }
  | { type: 'scared'; error?: WormholeError }
  | { type: 'got_message'; phase: string; plaintext: Uint8Array }
  | { type: 'got_version'; plaintext: Uint8Array }
  | { type: 'got_phase'; phase: number; plaintext: Uint8Array }
  | { type: 'got_unknown_phase' }
  | { type: 'rx_welcome'; welcome: Welcome }
  | { type: 'rx_unwelcome'; error: WormholeError }
  | { type: 'rx_error'; error: WormholeError }
  | { type: 'error'; error: WormholeError }
  /** The caller gave up (AbortSignal): close politely with mood errory. */
  | { type: 'abort'; error: WormholeError }
  | { type: 'closed' };

/** Events addressed to each machine. */
export interface MachineEvents {
  nameplate: NameplateEvent;
  mailbox: MailboxEvent;
  order: OrderEvent;
  key: KeyEvent;
  receive: ReceiveEvent;
  send: SendEvent;
  code: CodeEvent;
  terminator: TerminatorEvent;
  rendezvous: RendezvousEvent;
  boss: BossEvent;
}
export type MachineName = keyof MachineEvents;

/** Effects that leave the core: the driver performs them. */
export type IoEffect =
  | { type: 'connect' }
  | { type: 'disconnect' }
  | { type: 'transmit'; message: ClientMessage }
  | { type: 'set_timer'; ms: number }
  | { type: 'cancel_timer' }
  | { type: 'welcome'; welcome: Welcome }
  | { type: 'code'; code: string }
  | { type: 'key'; key: SessionKey; verifier: Uint8Array }
  | { type: 'versions'; versions: Record<string, unknown> }
  | { type: 'message'; plaintext: Uint8Array }
  /** Closing has begun; `result` is what `closed` will report. */
  | { type: 'closing'; result: 'happy' | WormholeError }
  | { type: 'closed'; result: 'happy' | WormholeError };

/** An effect of one machine: an event for another machine, or I/O. */
export type Routed =
  | { [K in MachineName]: { readonly to: K; readonly event: MachineEvents[K] } }[MachineName]
  | { readonly to: 'io'; readonly effect: IoEffect };

export const to = <K extends MachineName>(machine: K, event: MachineEvents[K]): Routed =>
  ({ to: machine, event }) as Routed;
export const io = (effect: IoEffect): Routed => ({ to: 'io', effect });
