/**
 * Argument parsing for `burrow`. Flag names follow the `wormhole` CLI where
 * the two overlap; global flags may come before or after the command.
 */
import { parseArgs } from 'node:util';

export const DEFAULT_RELAY_URL = 'ws://relay.magic-wormhole.io:4000/v1';
export const DEFAULT_TRANSIT_HELPER = 'tcp:transit.magic-wormhole.io:4001';

export const OPTIONS = {
  'relay-url': { type: 'string' },
  'transit-helper': { type: 'string' },
  appid: { type: 'string' },
  code: { type: 'string' },
  'code-length': { type: 'string' },
  text: { type: 'string' },
  verify: { type: 'boolean' },
  'hide-progress': { type: 'boolean' },
  'accept-file': { type: 'boolean' },
  'output-file': { type: 'string', short: 'o' },
  'no-listen': { type: 'boolean' },
  'no-webrtc': { type: 'boolean' },
  'no-direct-first': { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  'transit-port': { type: 'string' },
  'webtransport-port': { type: 'string' },
  motd: { type: 'string' },
  'disallow-list': { type: 'boolean' },
  'advertise-version': { type: 'string' },
  'signal-error': { type: 'string' },
  permission: { type: 'string' },
  'usage-log': { type: 'string' },
  'drain-seconds': { type: 'string' },
  limit: { type: 'string', multiple: true },
  'data-dir': { type: 'string' },
  store: { type: 'string' },
  'data-sync': { type: 'string' },
  'public-host': { type: 'string' },
  'trust-proxy': { type: 'string', multiple: true },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  'allow-origin': { type: 'string', multiple: true },
  'allow-forward': { type: 'string', multiple: true },
  pair: { type: 'boolean' },
  remote: { type: 'boolean' },
  name: { type: 'string' },
} as const;

export type Flags = ReturnType<typeof parse>['values'];

export function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Parse a positive integer flag, with a usage error naming the flag. */
export function intFlag(value: string | undefined, name: string, fallback: number, min = 1, max = 65535): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** Exit statuses of `burrow`, as documented in {@link HELP} and docs-site/guide/cli.md. */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** The transfer failed: wrong code, rejected, peer or server error, timeout. */
  failed: 1,
  /** The command line was wrong. */
  usage: 2,
  /** A bug in burrow. */
  internal: 70,
  /** Interrupted by Ctrl-C (SIGINT). */
  interrupted: 130,
} as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const HELP = `Usage: burrow [--relay-url URL] [--transit-helper tcp:HOST:PORT] [--appid ID] COMMAND [options]

Commands:
  send [PATH…]         send a text (--text TEXT), or files and directories (several at once)
  receive [CODE]       receive a text, or files and directories (resuming a partial transfer)
  serve                run the gateway: mailbox (WebSocket) and transit relay (TCP + WebSocket)
  agent                run the local agent for paired extensions and apps (see agent options)

send options:
  --text TEXT          text to send
  --code CODE          use this code instead of allocating one
  --code-length N      number of words in an allocated code (default 2)
  --verify             show the verifier and ask before sending
  --hide-progress      no progress bar
  --no-listen          do not listen for direct connections (use the relay)
  --no-webrtc          Burrow peers: no WebRTC, files go over direct TCP or the relay
                       (WebRTC is what crosses NATs)
  --no-direct-first    Burrow peers: go straight to WebRTC (by default direct TCP gets
                       a 1 s head start: on one machine or a LAN it is much faster)
  --json               one JSON object per line on stdout: code, progress, done (or error)

receive options:
  --verify             show the verifier and ask before accepting
  --accept-file        accept a file or directory without asking
  -o, --output-file P  where to write the received file or directory; for files from
                       burrow send: the folder to receive into (default: here)
  --hide-progress      no progress bar
  --no-webrtc          Burrow peers: no WebRTC (direct TCP or the relay)
  --no-direct-first    Burrow peers: go straight to WebRTC, without the direct-TCP head start
  --json               one JSON object per line on stdout: offer, resume, progress, done

serve options:
  --host H             bind address (default 127.0.0.1)
  --port P             HTTP + WebSocket port: mailbox at /v1, relay at /relay (default 4000)
  --transit-port Q     TCP transit relay port (default 4001)
  --motd TEXT          message of the day for clients
  --disallow-list      answer "list" with no nameplates (as the Python server's flag)
  --advertise-version V  tell clients the current CLI version (older ones print a hint)
  --signal-error TEXT  make every client fail with TEXT (server disabled)
  --permission hashcash[:BITS]  clients must send a hashcash stamp (default 20 bits)
                       before bind; Burrow clients solve it, wormhole 0.12 cannot
  --usage-log FILE     append a usage record (JSON line) per finished nameplate/mailbox
  --drain-seconds N    on SIGTERM/SIGINT, let open wormholes finish for up to N s (default 10)
  --limit NAME=N       set a limit, e.g. maxConnectionsPerAddress=50 (mailbox) or
                       relay.maxConnectionsPerPrefix=400 (repeatable; see the gateway guide)
  --data-dir PATH      keep mailbox state here (SQLite) so a restart or crash loses
                       nothing acknowledged (default: in memory)
  --store redis://HOST:PORT  share the mailboxes with every gateway on this Redis
                       (several processes, one service; see the scaling guide)
  --data-sync MODE     normal (survives a process crash; default) or full (also a
                       power loss: fsync on every commit)
  --public-host NAME   the host name clients reach (behind a TLS proxy): used in the
                       relay hints announced in the welcome and in printed URLs
  --trust-proxy ADDR[/PREFIX]  a load balancer whose PROXY protocol v1/v2 header and
                       X-Forwarded-For name the client (limits, stats, logs see the
                       client's address); repeatable; everyone else's are refused/ignored
  --tls-cert F --tls-key F   serve wss:// and https:// with this PEM pair
  --webtransport-port R WebTransport (mailbox /v1, relay /relay, same state): native
                       HTTP/3 on UDP R (a self-signed certificate without --tls-cert,
                       its SHA-256 at GET /webtransport), and with TLS also HTTP/2 on TCP R

agent options:
  --port P             agent port on 127.0.0.1 (default 4100)
  --allow-origin O     let origin O connect, e.g. chrome-extension://ID (repeatable)
  --allow-forward H:P  let paired clients forward to H:P (repeatable; names resolved by the agent)
  --pair               also print a pairing code and pair one client through --relay-url
  --remote             also meet paired clients through --relay-url (no code; Transit via
                       --transit-helper, direct TCP when reachable)
  --name TEXT          how paired clients list this agent
  --data-dir PATH      identity and pairings (default ~/.local/state/burrow/agent)
  agent pair           only pair one client by code, then exit (the running agent sees it)
  agent list           list pairings
  agent rename ID NAME / agent revoke ID   (a running agent drops a revoked client at once)

Global:
  --relay-url URL      mailbox server (default ${DEFAULT_RELAY_URL})
  --transit-helper H   transit relay (default ${DEFAULT_TRANSIT_HELPER})
  --appid ID           application id (default lothar.com/wormhole/text-or-file-xfer)
  -h, --help           this help
  --version            print the version

Typing the code at the prompt: Tab completes the words of the code.

Exit status: 0 done; 1 transfer failed (wrong code, rejected, peer or server error);
2 usage error; 70 internal error; 130 interrupted (Ctrl-C).
`;
