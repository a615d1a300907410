import { describe, expect, it } from 'vitest';
import type { WormholeError } from '@burrow/protocol';
import { StreamCore, type StreamControl, type StreamHooks, type StreamWire } from '../src/connection/stream.js';

const WINDOW = 2 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** A receiving StreamCore over a wire that records the credit it grants. */
function receiver(maxReceiveWindow?: number) {
  const credits: number[] = [];
  const violations: WormholeError[] = [];
  const wire: StreamWire = {
    maxChunk: CHUNK,
    ...(maxReceiveWindow === undefined ? {} : { maxReceiveWindow }),
    sendData: () => undefined,
    sendControl: (c: StreamControl) => void (c.type === 'credit' && credits.push(c.increment)),
    ready: () => undefined,
    release: () => undefined,
  };
  const hooks: StreamHooks = {
    window: WINDOW,
    sent: () => undefined,
    received: () => undefined,
    finished: () => undefined,
    violation: (e) => void violations.push(e),
  };
  return { stream: new StreamCore(1, wire, hooks), credits, violations };
}

/** Outstanding credit the peer holds after sending `sent` bytes: its initial window plus every grant, less what it sent. */
const outstanding = (credits: number[], sent: number) => WINDOW + credits.reduce((a, b) => a + b, 0) - sent;

describe('StreamCore receive window', () => {
  it('grows up to maxReceiveWindow while the reader keeps up', async () => {
    const { stream, credits, violations } = receiver(16 * WINDOW);
    const reader = stream.readable.getReader();
    let sent = 0;
    let most = 0;
    // A peer that always sends all the credit it holds, and a reader that takes every chunk at once.
    for (let round = 0; round < 40; round++) {
      const n = Math.floor(outstanding(credits, sent) / CHUNK);
      for (let i = 0; i < n; i++) {
        const read = reader.read();
        stream.onData(new Uint8Array(CHUNK));
        sent += CHUNK;
        expect((await read).value?.length).toBe(CHUNK);
      }
      most = Math.max(most, outstanding(credits, sent));
    }
    expect(violations).toEqual([]);
    expect(Math.max(...credits)).toBeGreaterThan(WINDOW);
    expect(outstanding(credits, sent)).toBeLessThanOrEqual(16 * WINDOW);
    expect(most).toBe(16 * WINDOW);
  });

  it('does not grow while data waits unread, and stays fixed without maxReceiveWindow', async () => {
    for (const max of [16 * WINDOW, undefined]) {
      const { stream, credits, violations } = receiver(max);
      const reader = stream.readable.getReader();
      // The peer fills the whole initial window; the reader lags two chunks behind.
      for (let i = 0; i < WINDOW / CHUNK; i++) stream.onData(new Uint8Array(CHUNK));
      for (let i = 0; i < WINDOW / CHUNK - 2; i++) await reader.read();
      expect(credits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(WINDOW);
      expect(violations).toEqual([]);
      // Beyond the credit granted is a violation.
      const granted = credits.reduce((a, b) => a + b, 0);
      for (let sent = 0; sent <= granted; sent += CHUNK) stream.onData(new Uint8Array(CHUNK));
      expect(violations.map((e) => e.code)).toEqual(['RemoteProtocol']);
    }
  });
});
