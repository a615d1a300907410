/**
 * Drive a MailboxCore by hand: connect clients, send frames, read what the
 * server answered. Deterministic: the clock and randomness are ours.
 * (The gateway's store tests use it too, to get real changes from a core.)
 */
import { MailboxCore, type ConnId, type MailboxCoreOptions, type MailboxEffect } from '../../src/server/index.js';
import { seededRandom } from '../../../testkit/src/random.js';

export type Frame = Record<string, unknown> & { type: string };

export interface TestClient {
  readonly conn: ConnId;
  /** Send a frame (object → JSON, string/bytes as is); returns this client's new frames, acks dropped. */
  send(frame: Record<string, unknown> | string | Uint8Array): Frame[];
  /** Send and return everything (acks included). */
  sendRaw(frame: Record<string, unknown> | string | Uint8Array): Frame[];
  /** Frames received since the last call (from other clients' actions too), acks dropped. */
  take(): Frame[];
  bind(appid?: string, side?: string): void;
  disconnect(): void;
}

export interface Harness {
  readonly core: MailboxCore;
  /** Current time in ms; tests move it. */
  now: number;
  connect(address?: string): TestClient;
  logs: Extract<MailboxEffect, { type: 'log' }>[];
}

export const APPID = 'lothar.com/wormhole/text-or-file-xfer';

export function harness(options: Partial<MailboxCoreOptions> = {}): Harness {
  const inbox = new Map<ConnId, Frame[]>();
  const logs: Extract<MailboxEffect, { type: 'log' }>[] = [];
  const h: Harness = {
    core: undefined as unknown as MailboxCore,
    now: 1_700_000_000_000,
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
  (h as { core: MailboxCore }).core = new MailboxCore({ random: seededRandom(), now: h.now, ...options });
  function run(effects: readonly MailboxEffect[]): void {
    for (const e of effects) {
      if (e.type === 'log') logs.push(e);
      else inbox.get(e.to)?.push(JSON.parse(e.frame) as Frame);
    }
  }
  return h;
}

/** The `error` strings among `frames`. */
export function errors(frames: Frame[]): string[] {
  return frames.filter((f) => f.type === 'error').map((f) => f['error'] as string);
}
