/**
 * The session of a client met at a remote-v1 rendezvous: served like a local
 * one; a revocation is announced on the control stream the client opened,
 * and the connection closed once the client read it (or after a second).
 */
import type { Connection, DuplexStream } from '@burrow/client';
import { encodeHeader } from '@burrow/protocol/agent';
import type { PairingInfo } from '@burrow/store';
import { writeAll } from './rpc.js';
import type { Session } from './sessions.js';
import { bestEffort, observed } from './ignore.js';

/** The session of a client met at a rendezvous; a revocation is announced on its control stream. */
export function remoteSession(pairing: PairingInfo, connection: Connection): Session {
  let open = true;
  let control: DuplexStream | undefined;
  let noticeSent = false;
  connection.closed.then(
    () => (open = false),
    () => (open = false),
  );
  return {
    pairing,
    origin: pairing.origin ?? '',
    since: Date.now(),
    via: 'remote',
    connection,
    forwards: new Set(),
    abort: new AbortController(),
    live: () => open,
    attachControl: (stream) => void (control = stream),
    revoke: (code, message) => {
      if (!control) return;
      noticeSent = true;
      void writeAll(control.writable, encodeHeader({ ok: false, error: { code, message } }), true).catch(bestEffort);
    },
    end: () => {
      const close = () => void connection.close('the agent ended the session').catch(bestEffort);
      if (!noticeSent || !open) return close();
      // A data channel closed right after a write may lose it: let the client read the
      // notice and hang up itself, for up to a second. Nothing is served meanwhile
      // (the session is gone, its forwards destroyed, every call re-checks the pairing).
      const timer = setTimeout(close, 1000);
      void connection.closed.catch(observed).finally(() => clearTimeout(timer));
    },
  };
}
