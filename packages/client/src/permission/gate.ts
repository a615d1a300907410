/**
 * The permission step of one mailbox connection, between the transport and
 * the session: it holds `bind` (the session's `connection_made`) until the
 * welcome has arrived, and when the welcome asks for hashcash it solves the
 * stamp and sends `submit-permissions` first, as magic-wormhole.rs does.
 * Frames that arrive meanwhile are held and delivered in order. Without a
 * `permission-required` welcome this costs nothing but waiting for the
 * welcome, which every mailbox server sends first.
 *
 * Failures end the wormhole with code `Welcome`: a server asking only for
 * methods we cannot do, or refusing our stamp.
 */
import { WormholeError, encodeSubmitPermission, isJsonObject, parseJsonObject, permissionAsk, toHex, type Logger, type Welcome } from '@burrow/protocol';

/** What the gate drives: the connection and the session. */
export interface GateHooks {
  /** Send a raw frame on this connection. */
  send(frame: string): void;
  /** The connection may be used by the session now (feeds `connection_made`). */
  ready(): void;
  /** A server frame for the session. */
  deliver(data: string | Uint8Array): void;
  /** End the wormhole. */
  fail(error: WormholeError): void;
}

export interface GateOptions {
  readonly random: (n: number) => Uint8Array;
  /** The wormhole's own signal: aborting it stops a search. */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

type GateState = 'welcome' | 'solving' | 'submitted' | 'open' | 'done';

export class PermissionGate {
  #state: GateState = 'welcome';
  #held: (string | Uint8Array)[] = [];
  #submitId = '';
  #sawSubmitAck = false;
  readonly #stop = new AbortController();

  constructor(
    readonly hooks: GateHooks,
    readonly options: GateOptions,
  ) {}

  /** One frame from the server. */
  frame(data: string | Uint8Array): void {
    switch (this.#state) {
      case 'open':
        return this.hooks.deliver(data);
      case 'solving':
        return void this.#held.push(data);
      case 'submitted':
        return this.#afterSubmit(data);
      case 'welcome':
        return this.#first(data);
      case 'done':
        return;
    }
  }

  /** The connection ended: stop any search. */
  close(): void {
    this.#state = 'done';
    this.#stop.abort();
  }

  #first(data: string | Uint8Array): void {
    const welcome = typeof data === 'string' ? welcomeOf(data) : undefined;
    const ask = welcome && welcome.error === undefined ? permissionAsk(welcome) : { type: 'none' as const };
    if (ask.type === 'unsupported') {
      this.#state = 'done';
      return this.hooks.fail(new WormholeError('Welcome', `the mailbox server asks for a permission this client cannot give (${ask.methods.join(', ')})`));
    }
    if (ask.type === 'none') return this.#open([data]);
    this.#state = 'solving';
    this.#held = [data];
    const t0 = performance.now();
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, this.#stop.signal]) : this.#stop.signal;
    import('./hashcash.js') // loaded only when a server asks
      .then(({ solveHashcash }) => solveHashcash(ask.challenge, { random: this.options.random, signal }))
      .then(
      (stamp) => {
        if (this.#state !== 'solving') return;
        this.options.logger?.info?.('mailbox asked for hashcash; solved', { bits: ask.challenge.bits, ms: Math.round(performance.now() - t0) });
        this.#submitId = toHex(this.options.random(2));
        this.hooks.send(encodeSubmitPermission(stamp, this.#submitId));
        this.#state = 'submitted';
        this.#open(this.#held.splice(0), 'submitted');
      },
      (err: unknown) => {
        if (this.#state !== 'solving') return; // the connection ended: nothing to report
        this.#state = 'done';
        if (signal.aborted) return; // the wormhole was aborted: it reports that itself
        this.hooks.fail(new WormholeError('Welcome', 'could not solve the mailbox server’s hashcash challenge', { cause: err }));
      },
    );
  }

  /** Hand the connection to the session and deliver what was held. */
  #open(held: (string | Uint8Array)[], state: GateState = 'open'): void {
    this.#state = state;
    this.hooks.ready();
    for (const data of held) this.frame(data);
  }

  /** Between our submit and the server's next ack: watch for a refusal of the stamp. */
  #afterSubmit(data: string | Uint8Array): void {
    const frame = typeof data === 'string' ? objectOf(data) : undefined;
    const orig = frame?.['orig'];
    if (frame?.['type'] === 'error' && isJsonObject(orig) && orig['id'] === this.#submitId) {
      this.#state = 'done';
      return this.hooks.fail(new WormholeError('Welcome', `the mailbox server refused our permission: ${String(frame['error']).slice(0, 200)}`));
    }
    if (frame?.['type'] === 'ack') {
      if (this.#sawSubmitAck) this.#state = 'open';
      this.#sawSubmitAck = true;
    }
    this.hooks.deliver(data);
  }
}

function objectOf(data: string): Record<string, unknown> | undefined {
  try {
    return parseJsonObject(data);
  } catch {
    return undefined; // the session reports bad frames itself
  }
}

function welcomeOf(data: string): Welcome | undefined {
  const frame = objectOf(data);
  return frame?.['type'] === 'welcome' && isJsonObject(frame['welcome']) ? (frame['welcome'] as Welcome) : undefined;
}
