/**
 * What the playground shows about a connection: the route (direct, TURN or
 * relay), and — polled from `connection.getStats()` once a second — the
 * live rate, the round trip and the time left.
 */
import type { Connection, ConnectionStats } from '@burrow/client';
import { formatBytes, formatDuration } from './files.js';

/** The route a person cares about, from a stats snapshot. */
export function routeOf(stats: Pick<ConnectionStats, 'kind' | 'localCandidateType' | 'remoteCandidateType'>): { route: 'direct' | 'TURN' | 'relay'; detail: string } {
  if (stats.kind === 'relay') return { route: 'relay', detail: 'Transit relay (WebRTC could not connect)' };
  if (stats.kind === 'direct') return { route: 'direct', detail: 'direct TCP (Transit)' };
  if (stats.localCandidateType === 'relay' || stats.remoteCandidateType === 'relay') return { route: 'TURN', detail: 'WebRTC through a TURN server' };
  return { route: 'direct', detail: `WebRTC, peer to peer (${stats.localCandidateType ?? '?'} ⇄ ${stats.remoteCandidateType ?? '?'})` };
}

/** Where the transfer stands, for the time left. */
export interface Remaining {
  bytes: number;
  total: number;
  /** Average rate of the whole transfer, shown once it is done. */
  bytesPerSecond?: number;
  done?: boolean;
}

/**
 * A line under a transfer: route · rate · RTT · time left, refreshed every
 * second from the current connection's `getStats()`. `stop()` ends it.
 */
export class StatsLine {
  readonly element = document.createElement('div');
  #conn: Connection | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #remaining: Remaining = { bytes: 0, total: 0 };
  #direction: 'send' | 'receive';
  #rtt: number | undefined;

  constructor(direction: 'send' | 'receive') {
    this.#direction = direction;
    this.element.className = 'stats';
  }

  /** Follow this connection from now on (a reconnect brings a new one). */
  follow(conn: Connection): void {
    this.#conn = conn;
    this.#timer ??= setInterval(() => void this.refresh(), 1000);
    void this.refresh();
  }

  progress(remaining: Remaining): void {
    this.#remaining = remaining;
  }

  async refresh(): Promise<void> {
    const conn = this.#conn;
    if (!conn) return;
    let stats: ConnectionStats;
    try {
      stats = await conn.getStats();
    } catch {
      return; // closed meanwhile: the last line stays
    }
    const { route, detail } = routeOf(stats);
    const done = this.#remaining.done === true || this.#remaining.bytes >= this.#remaining.total;
    // Once done the connection is idle: show the transfer's average rate and the last RTT measured.
    const rate = done && this.#remaining.bytesPerSecond !== undefined ? this.#remaining.bytesPerSecond : this.#direction === 'send' ? stats.sendRate : stats.receiveRate;
    this.#rtt = stats.rttMs ?? this.#rtt;
    const left = rate > 0 ? (this.#remaining.total - this.#remaining.bytes) / rate : Infinity;
    this.element.innerHTML = '';
    const part = (testid: string, text: string, title?: string) => {
      const span = Object.assign(document.createElement('span'), { textContent: text });
      span.dataset['testid'] = testid;
      if (title) span.title = title;
      this.element.append(span, ' · ');
    };
    part('route', `Route: ${route}`, `${detail}\n${stats.path}`);
    part('rate', `${formatBytes(rate)}/s${done ? ' average' : ''}`);
    part('rtt', `RTT ${this.#rtt === undefined ? '…' : `${this.#rtt.toFixed(0)} ms`}`);
    part('left', done ? 'done' : `${formatDuration(left)} left`);
    this.element.lastChild?.remove();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
