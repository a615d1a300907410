/**
 * What the gateway tells its operator: Prometheus metrics (`GET /metrics`)
 * and usage records (one JSON line per finished nameplate and mailbox, like
 * the Python server's usage database).
 *
 * Refusals are counted from the components' own log events (every refusal
 * by a bound is logged with the bound's name), so the mailbox and the relay
 * need no metrics plumbing: {@link GatewayMetrics.tap} wraps the logger they
 * are given. Nothing here sees codes, sides, tokens, keys or bodies.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Logger } from '@burrow/protocol';
import type { UsageRecord } from '@burrow/protocol/server';
import { LATENCY_BUCKETS, type LatencySnapshot } from './mailbox/latency.js';

/** Log events that mean "refused or cut by a bound", with the bound's name (or where to find it). */
const REFUSALS: Record<string, { service: string; limit: string | ((fields: Record<string, unknown>) => string | undefined) }> = {
  'mailbox.limit': { service: 'mailbox', limit: (f) => str(f['limit']) },
  'mailbox.refused-connection': { service: 'mailbox', limit: (f) => str(f['limit']) },
  'mailbox.slow-consumer': { service: 'mailbox', limit: 'buffered-bytes' },
  'mailbox.ping-timeout': { service: 'mailbox', limit: 'ping-timeout' },
  'mailbox.webtransport-no-stream': { service: 'mailbox', limit: 'first-stream' },
  'mailbox.webtransport-frame-too-large': { service: 'mailbox', limit: 'frame-size' },
  'mailbox.websocket-error': { service: 'mailbox', limit: (f) => (f['error'] === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame-size' : undefined) },
  'relay.refused-connection': { service: 'relay', limit: (f) => str(f['limit']) },
  'relay.handshake-timeout': { service: 'relay', limit: 'handshake-timeout' },
  'relay.lonely-timeout': { service: 'relay', limit: 'lonely-timeout' },
  'relay.idle-timeout': { service: 'relay', limit: 'idle-timeout' },
  'relay.websocket-error': { service: 'relay', limit: (f) => (f['error'] === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'frame-size' : undefined) },
  'proxy.bad-header': { service: 'proxy', limit: (f) => (f['reason'] === 'timeout' ? 'proxy-header-timeout' : 'proxy-header') },
};

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Gauges and totals read at scrape time. */
export interface MetricsSnapshot {
  readonly gauges: Readonly<Record<string, { readonly help: string; readonly value: number }>>;
  readonly counters: Readonly<Record<string, { readonly help: string; readonly value: number }>>;
  /** Histograms in seconds, bucketed by {@link LATENCY_BUCKETS}. */
  readonly histograms?: Readonly<Record<string, { readonly help: string; readonly value: LatencySnapshot }>>;
}

export class GatewayMetrics {
  readonly #rejections = new Map<string, number>();
  readonly #outcomes = new Map<string, number>();

  /** A logger that counts refusals, then passes everything on to `inner`. */
  tap(inner: Logger | undefined): Logger {
    const pass = (level: 'info' | 'warn') => (event: string, fields?: Record<string, unknown>) => {
      const refusal = REFUSALS[event];
      if (refusal) {
        const limit = typeof refusal.limit === 'string' ? refusal.limit : refusal.limit(fields ?? {});
        if (limit !== undefined) this.reject(refusal.service, limit);
      }
      inner?.[level]?.(event, fields);
    };
    const out: Logger = { info: pass('info'), warn: pass('warn') };
    // Debug events are never counted: hand them straight through, or not at all.
    if (inner?.debug) out.debug = inner.debug.bind(inner);
    if (inner?.error) out.error = inner.error.bind(inner);
    // Refusals logged at debug (a websocket error that is not a size refusal) need no count.
    return out;
  }

  /** Count one refusal by `limit` of `service`. */
  reject(service: string, limit: string): void {
    const key = `service="${service}",limit="${escape(limit)}"`;
    this.#rejections.set(key, (this.#rejections.get(key) ?? 0) + 1);
  }

  /** Count one finished nameplate or mailbox by its outcome. */
  usage(record: UsageRecord): void {
    const key = `kind="${record.kind}",mood="${record.mood}"`;
    this.#outcomes.set(key, (this.#outcomes.get(key) ?? 0) + 1);
  }

  /** Prometheus text exposition (version 0.0.4). */
  render(snapshot: MetricsSnapshot): string {
    const lines: string[] = [];
    const one = (type: 'gauge' | 'counter', name: string, help: string, value: number): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    };
    for (const [name, g] of Object.entries(snapshot.gauges)) one('gauge', name, g.help, g.value);
    for (const [name, c] of Object.entries(snapshot.counters)) one('counter', name, c.help, c.value);
    for (const [name, h] of Object.entries(snapshot.histograms ?? {})) {
      lines.push(`# HELP ${name} ${h.help}`, `# TYPE ${name} histogram`);
      LATENCY_BUCKETS.forEach((le, i) => lines.push(`${name}_bucket{le="${le}"} ${h.value.buckets[i] ?? 0}`));
      lines.push(`${name}_bucket{le="+Inf"} ${h.value.count}`, `${name}_sum ${h.value.sumSeconds}`, `${name}_count ${h.value.count}`);
    }
    const labelled = (name: string, help: string, values: ReadonlyMap<string, number>): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of [...values].sort()) lines.push(`${name}{${labels}} ${value}`);
    };
    labelled('burrow_rejections_total', 'Connections, frames and requests refused or cut, by the limit that did it.', this.#rejections);
    labelled('burrow_wormholes_total', 'Nameplates and mailboxes finished, by outcome (Python usage-DB moods).', this.#outcomes);
    return `${lines.join('\n')}\n`;
  }
}

function escape(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Appends usage records to a file, one JSON object per line. */
export class UsageLog {
  readonly #out: WriteStream;

  constructor(path: string, logger?: Logger) {
    this.#out = createWriteStream(path, { flags: 'a' });
    this.#out.on('error', (err) => logger?.warn?.('gateway.usage-log-error', { error: err.message }));
  }

  write(record: UsageRecord): void {
    this.#out.write(`${JSON.stringify(record)}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#out.end(resolve));
  }
}

/** The parts of the gateway's stats the metrics read (structural: kept loose on purpose). */
export interface MetricsSources {
  readonly mailbox: { connections: number; addresses: number; nameplates: number; mailboxes: number; messages: number; chars: number };
  readonly relay: { connections: number; waiting: number; pairs: number; pairsTotal: number; bytes: number; addresses: number; forwardedOut?: number; forwardedIn?: number };
  /** The mailbox store's health, when the store reports it. */
  readonly store?: { readonly ok: boolean; readonly commits?: number; readonly failures?: number; readonly pending?: number; readonly latency?: LatencySnapshot };
  readonly draining: boolean;
  /** Native HTTP/3 WebTransport, when the gateway runs it (see {@link Http3Status}). */
  readonly http3?: Http3Status;
}

/** The HTTP/3 listener's state, in /health as it is. */
export interface Http3Status {
  /** Whether its Deno child is running (false while it is restarted). */
  readonly listening: boolean;
  /** Times the Deno child died on its own since start. */
  readonly restarts: number;
  /** When its certificate expires (ISO 8601). */
  readonly notAfter: string;
}

/** Gauges and counters from the gateway's stats. */
export function metricsSnapshot(s: MetricsSources): MetricsSnapshot {
  const g = (help: string, value: number) => ({ help, value });
  return {
    gauges: {
      burrow_mailbox_connections: g('Mailbox client connections open.', s.mailbox.connections),
      burrow_mailbox_addresses: g('Client addresses with a mailbox connection.', s.mailbox.addresses),
      burrow_mailbox_nameplates: g('Nameplates alive.', s.mailbox.nameplates),
      burrow_mailbox_mailboxes: g('Mailboxes alive.', s.mailbox.mailboxes),
      burrow_mailbox_messages: g('Messages held in mailboxes.', s.mailbox.messages),
      burrow_mailbox_stored_chars: g('Characters of phase + body held in mailboxes.', s.mailbox.chars),
      burrow_relay_connections: g('Transit relay connections open (all transports).', s.relay.connections),
      burrow_relay_waiting: g('Relay connections waiting for their buddy.', s.relay.waiting),
      burrow_relay_pairs: g('Relay pairs glued now.', s.relay.pairs),
      burrow_relay_addresses: g('Client addresses with a relay connection.', s.relay.addresses),
      burrow_store_ok: g('1 while the mailbox store saves (0: failing).', s.store ? Number(s.store.ok) : 1),
      burrow_store_pending_changes: g('Mailbox changes not yet saved.', s.store?.pending ?? 0),
      burrow_draining: g('1 while shutting down (new connections refused).', Number(s.draining)),
      ...(s.http3
        ? {
            burrow_http3_listening: g('1 while the HTTP/3 WebTransport listener (Deno child) runs.', Number(s.http3.listening)),
            burrow_http3_certificate_expiry_seconds: g('When the HTTP/3 certificate expires, Unix time in seconds.', Math.floor(Date.parse(s.http3.notAfter) / 1000)),
          }
        : {}),
    },
    counters: {
      burrow_relay_pairs_total: g('Relay pairs glued since start.', s.relay.pairsTotal),
      burrow_relay_bytes_total: g('Bytes relayed since start.', s.relay.bytes),
      burrow_relay_forwarded_out_total: g('Relay halves sent on to the process holding their token (Redis cluster), since start.', s.relay.forwardedOut ?? 0),
      burrow_relay_forwarded_in_total: g('Relay halves other processes sent here (Redis cluster), since start.', s.relay.forwardedIn ?? 0),
      burrow_store_commits_total: g('Mailbox store commits since start.', s.store?.commits ?? 0),
      burrow_store_failures_total: g('Mailbox store commits that failed since start.', s.store?.failures ?? 0),
      ...(s.http3 ? { burrow_http3_restarts_total: g('Times the HTTP/3 listener (Deno child) died and was restarted, since start.', s.http3.restarts) } : {}),
    },
    ...(s.store?.latency
      ? { histograms: { burrow_store_commit_seconds: { help: 'Time the mailbox store took to make a batch durable (SQLite commit, Redis append).', value: s.store.latency } } }
      : {}),
  };
}
