/**
 * Drive a mailbox server core (@burrow/protocol's `MailboxCore`) by hand:
 * connect clients, send frames, read what the server answered.
 * Deterministic: the clock and randomness are ours. Used by protocol's
 * server tests and the gateway's store tests (real changes from a real core).
 *
 * The core is passed in (typed by the shape used here), so the testkit keeps
 * no dependency on @burrow/protocol (which devDepends on the testkit):
 *
 *   const h = mailboxHarness((base) => new MailboxCore({ ...base, ...options }));
 */
import { seededRandom } from './random.js';

/** A server frame as the harness hands it back. */
export type Frame = Record<string, unknown> & { type: string };

/** What the core emits: frames to send to a connection, and log lines. */
export type CoreEffect =
  | { readonly type: 'send'; readonly to: number; readonly frame: string }
  | { readonly type: 'log'; readonly level: string; readonly event: string; readonly fields: Record<string, unknown> };

/** The part of `MailboxCore` the harness drives. */
export interface MailboxCoreLike {
  connect(address: string, now: number): { conn: number; effects: readonly CoreEffect[] };
  receive(conn: number, data: string | Uint8Array, now: number): readonly CoreEffect[];
  disconnect(conn: number): readonly CoreEffect[];
}

export interface TestClient {
  readonly conn: number;
  /** Send a frame (object → JSON, string/bytes as is); returns this client's new frames, acks dropped. */
  send(frame: Record<string, unknown> | string | Uint8Array): Frame[];
  /** Send and return everything (acks included). */
  sendRaw(frame: Record<string, unknown> | string | Uint8Array): Frame[];
  /** Frames received since the last call (from other clients' actions too), acks dropped. */
  take(): Frame[];
  bind(appid?: string, side?: string): void;
  disconnect(): void;
}

export interface MailboxHarness<C extends MailboxCoreLike> {
  readonly core: C;
  /** Current time in ms; tests move it. */
  now: number;
  connect(address?: string): TestClient;
  readonly logs: Extract<CoreEffect, { type: 'log' }>[];
}

/** The application id of `wormhole send` (text-or-file transfers). */
export const APPID = 'lothar.com/wormhole/text-or-file-xfer';

/** What `makeCore` gets: a seeded random source and the harness's start time. */
export interface CoreBase {
  readonly random: (n: number) => Uint8Array;
  readonly now: number;
}

/** A harness around the core `makeCore` builds. */
export function mailboxHarness<C extends MailboxCoreLike>(makeCore: (base: CoreBase) => C): MailboxHarness<C> {
  const inbox = new Map<number, Frame[]>();
  const logs: Extract<CoreEffect, { type: 'log' }>[] = [];
  const run = (effects: readonly CoreEffect[]): void => {
    for (const e of effects) {
      if (e.type === 'log') logs.push(e);
      else inbox.get(e.to)?.push(JSON.parse(e.frame) as Frame);
    }
  };
  const now = 1_700_000_000_000;
  const h: MailboxHarness<C> = {
    core: makeCore({ random: seededRandom(), now }),
    now,
    logs,
    connect(address = '192.0.2.1') {
      const { conn, effects } = h.core.connect(address, h.now);
      inbox.set(conn, []);
      run(effects);
      const take = (): Frame[] => {
        const got = inbox.get(conn) ?? [];
        inbox.set(conn, []);
        return got;
      };
      const sendRaw = (frame: Record<string, unknown> | string | Uint8Array): Frame[] => {
        take();
        const data = typeof frame === 'string' || frame instanceof Uint8Array ? frame : JSON.stringify(frame);
        run(h.core.receive(conn, data, h.now));
        return take();
      };
      const client: TestClient = {
        conn,
        sendRaw,
        send: (frame) => sendRaw(frame).filter((f) => f.type !== 'ack'),
        take: () => take().filter((f) => f.type !== 'ack'),
        bind(appid = APPID, side = `side${conn}`) {
          const got = client.send({ type: 'bind', appid, side, client_version: ['python', '0.12.0'], id: 'b1' });
          if (got.length > 0) throw new Error(`bind failed: ${JSON.stringify(got)}`);
        },
        disconnect() {
          run(h.core.disconnect(conn));
          inbox.delete(conn);
        },
      };
      return client;
    },
  };
  return h;
}

/** A client bound as `side` that allocated, claimed and opened a nameplate's mailbox. */
export function openMailbox<C extends MailboxCoreLike>(h: MailboxHarness<C>, side = 'aaaa'): { a: TestClient; nameplate: string; mailbox: string } {
  const a = h.connect();
  a.bind(APPID, side);
  const [allocated] = a.send({ type: 'allocate' });
  const nameplate = allocated!['nameplate'] as string;
  const [claimed] = a.send({ type: 'claim', nameplate });
  const mailbox = claimed!['mailbox'] as string;
  a.send({ type: 'open', mailbox });
  return { a, nameplate, mailbox };
}

/** The `error` strings among `frames`. */
export function errors(frames: readonly Frame[]): string[] {
  return frames.filter((f) => f.type === 'error').map((f) => f['error'] as string);
}

/**
 * After a restart: on the restored harness `h`, side `bbbb` claims `nameplate`
 * and opens `mailbox`, then side `cccc` tries to claim the nameplate too.
 * Returns what each step answered, for the test to check.
 */
export function rejoinRestored(h: MailboxHarness<MailboxCoreLike>, nameplate: string, mailbox: string): { claimed: Frame[]; opened: Frame[]; thirdErrors: string[] } {
  const b = h.connect();
  b.bind(APPID, 'bbbb');
  const claimed = b.send({ type: 'claim', nameplate });
  const opened = b.send({ type: 'open', mailbox });
  const c = h.connect();
  c.bind(APPID, 'cccc');
  return { claimed, opened, thirdErrors: errors(c.send({ type: 'claim', nameplate })) };
}
