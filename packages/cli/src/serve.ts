/** `burrow serve`: the gateway (mailbox + transit relay) until interrupted, then a graceful drain. */
import { readFileSync } from 'node:fs';
import { DEFAULT_MAILBOX_SERVICE_LIMITS, DEFAULT_RELAY_LIMITS, startGateway, TrustedProxies, type MailboxServiceLimits, type RelayLimits } from '@burrow/gateway';
import { intFlag, UsageError, type Flags } from './args.js';
import type { Io } from './common.js';
import { jsonLogger } from './log.js';

export async function serve(flags: Flags, io: Io, signal: AbortSignal): Promise<void> {
  const tlsCert = flags['tls-cert'];
  const tlsKey = flags['tls-key'];
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const drainMs = intFlag(flags['drain-seconds'], 'drain-seconds', 10, 0, 3600) * 1000;
  const limits = parseLimits(flags.limit ?? []);
  const wtPort = flags['webtransport-port'] !== undefined ? intFlag(flags['webtransport-port'], 'webtransport-port', 0, 0) : undefined;
  const gateway = await startGateway({
    host: flags.host ?? '127.0.0.1',
    port: intFlag(flags.port, 'port', 4000, 0),
    transitPort: intFlag(flags['transit-port'], 'transit-port', 4001, 0),
    ...(flags['data-dir'] ? { dataDir: flags['data-dir'] } : {}),
    ...(flags.store !== undefined ? { redis: { url: redisUrl(flags.store, flags['data-dir']) } } : {}),
    ...(flags['data-sync'] !== undefined ? { dataSync: dataSync(flags['data-sync']) } : {}),
    ...(flags['public-host'] !== undefined ? { publicHost: flags['public-host'] } : {}),
    ...(flags['trust-proxy'] ? { trustProxy: trustProxy(flags['trust-proxy']) } : {}),
    ...(flags.motd ? { motd: flags.motd } : {}),
    ...(flags['disallow-list'] ? { allowList: false } : {}),
    ...(flags['advertise-version'] !== undefined ? { advertiseVersion: flags['advertise-version'] } : {}),
    ...(flags['signal-error'] !== undefined ? { signalError: flags['signal-error'] } : {}),
    ...(flags.permission !== undefined ? { permission: permission(flags.permission) } : {}),
    ...(flags['usage-log'] !== undefined ? { usageLog: flags['usage-log'] } : {}),
    mailboxLimits: limits.mailbox,
    relayLimits: limits.relay,
    ...(tlsCert && tlsKey ? { tls: { cert: readFileSync(tlsCert), key: readFileSync(tlsKey) } } : {}),
    // WebTransport: native HTTP/3 on UDP R always; HTTP/2 (the ponyfill's) on TCP R when there is TLS.
    ...(wtPort !== undefined ? { http3: { port: wtPort }, ...(tlsCert ? { webtransportPort: wtPort } : {}) } : {}),
    logger: jsonLogger(io.stderr),
  });
  const http = gateway.url.replace(/^ws/, 'http').replace(/\/v1$/, '');
  let onTerm: (() => void) | undefined;
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    onTerm = () => resolve();
    process.once('SIGTERM', onTerm);
    // The banner only once SIGTERM is handled: whoever waits for it may stop us at once.
    io.stdout.write(
      `Burrow gateway\n  mailbox        ${gateway.url}\n  relay (ws)     ${gateway.relayUrl}\n  relay (tcp)    ${gateway.transitHint ?? 'off'}\n  webtransport   ${gateway.webtransportUrl ?? 'off'}${gateway.webtransportUrl ? ' (HTTP/2)' : ''}\n  http/3         ${gateway.http3Url ? `${gateway.http3Url} (certificate sha-256 ${gateway.http3CertificateHash?.value ?? '?'}, also at ${http}/webtransport)` : 'off'}\n  health         ${http}/health\n  metrics        ${http}/metrics\n`,
    );
  });
  if (onTerm) process.off('SIGTERM', onTerm);
  // Stop accepting, let open wormholes finish (bounded), then close: clients still connected get 1001 and reconnect.
  await gateway.shutdown({ drainMs });
}

/** `--limit NAME=N` values, split into mailbox and relay (`relay.NAME`) limits; unknown names are usage errors. */
export function parseLimits(values: readonly string[]): { mailbox: Partial<MailboxServiceLimits>; relay: Partial<RelayLimits> } {
  const mailbox: Record<string, number> = {};
  const relay: Record<string, number> = {};
  for (const value of values) {
    const m = /^(relay\.)?([A-Za-z]+)=(.+)$/.exec(value);
    const n = m ? Number(m[3]) : NaN;
    if (!m || Number.isNaN(n) || n < 0) throw new UsageError(`--limit takes NAME=N with N >= 0, not ${JSON.stringify(value)}`);
    const [into, known] = m[1] ? [relay, DEFAULT_RELAY_LIMITS] : [mailbox, DEFAULT_MAILBOX_SERVICE_LIMITS];
    if (!Object.hasOwn(known, m[2]!)) {
      throw new UsageError(`--limit: unknown ${m[1] ? 'relay ' : ''}limit ${m[2]} (known: ${Object.keys(known).join(', ')})`);
    }
    into[m[2]!] = n;
  }
  return { mailbox: mailbox as Partial<MailboxServiceLimits>, relay: relay as Partial<RelayLimits> };
}

/** `--store redis://HOST:PORT[/DB]` (the one shared store so far); not with --data-dir. */
function redisUrl(value: string, dataDir: string | undefined): string {
  if (dataDir !== undefined) throw new UsageError('--store and --data-dir exclude each other');
  if (!/^rediss?:\/\/[^\s]+$/.test(value)) throw new UsageError(`--store takes redis://HOST:PORT, not ${JSON.stringify(value.slice(0, 60))}`);
  return value;
}

function dataSync(value: string): 'normal' | 'full' {
  if (value === 'normal' || value === 'full') return value;
  throw new UsageError(`--data-sync must be normal or full, not ${JSON.stringify(value.slice(0, 40))}`);
}

/** `--trust-proxy ADDR[/PREFIX]` values, checked here so a typo is a usage error, not a crash. */
export function trustProxy(values: readonly string[]): string[] {
  try {
    new TrustedProxies(values);
  } catch (err) {
    throw new UsageError(`--trust-proxy takes ADDR or ADDR/PREFIX: ${(err as Error).message.replace(/^trustProxy: /, '')}`);
  }
  return [...values];
}

/** `--permission hashcash[:BITS]` (the only method; Python's default is 20 bits). */
export function permission(value: string): { hashcash: { bits: number } } {
  const m = /^hashcash(?::(\d{1,2}))?$/.exec(value);
  const bits = m ? Number(m[1] ?? 20) : NaN;
  if (!m || bits < 1 || bits > 32) throw new UsageError(`--permission takes hashcash or hashcash:BITS (BITS from 1 to 32), not ${JSON.stringify(value.slice(0, 40))}`);
  return { hashcash: { bits } };
}
