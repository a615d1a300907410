import { describe, expect, it } from 'vitest';
import { EventHub } from '../src/events.js';

describe('EventHub', () => {
  it('delivers events published after subscribing, in order, to every subscriber; ends after end()', async () => {
    const hub = new EventHub<number>();
    hub.publish(0);
    const a = hub.subscribe();
    const b = hub.subscribe();
    hub.publish(1);
    hub.publish(2);
    hub.end();
    const all = async (it: AsyncIterable<number>) => {
      const out: number[] = [];
      for await (const n of it) out.push(n);
      return out;
    };
    expect(await all(a)).toEqual([1, 2]);
    expect(await all(b)).toEqual([1, 2]);
    expect(await all(hub.subscribe())).toEqual([]);
  });

  it('keeps only the newest events for a subscriber that does not read, and stops on abort', async () => {
    const hub = new EventHub<number>(3);
    const controller = new AbortController();
    const it = hub.subscribe({ signal: controller.signal });
    for (let i = 0; i < 10; i++) hub.publish(i);
    expect((await it.next()).value).toBe(7);
    controller.abort();
    expect((await it.next()).done).toBe(true); // 8 and 9 are dropped: the reader stopped

    const c2 = new AbortController();
    const idle = hub.subscribe({ signal: c2.signal });
    const waiting = idle.next();
    c2.abort();
    expect((await waiting).done).toBe(true);
  });
});
