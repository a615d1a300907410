/** Rendezvous machine unit tests: fed one event at a time, with the exact effects it must produce (after magic-wormhole's test_machines.py). */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECONNECT, initialRendezvousCtx, rendezvousMachine } from '../../src/machines/rendezvous.js';
import { io, to, type Routed } from '../../src/machines/types.js';
import { SIDE_A, APPID, envFor, drive, tx, ioEffects } from './support.js';

describe('Rendezvous', () => {
  const online = (['nameplate', 'mailbox', 'code'] as const).map((m) => to(m, { type: 'connected' }));
  const offline = (['nameplate', 'mailbox', 'code'] as const).map((m) => to(m, { type: 'lost' }));
  const bind = tx({ type: 'bind', appid: APPID, side: SIDE_A, client_version: ['burrow', '0.1.0'] });
  const zeros = (n: number) => new Uint8Array(n);
  const timers = (effects: Routed[]) => ioEffects(effects).flatMap((e) => (e.type === 'set_timer' ? [e.ms] : []));

  it('start connects; connection_made binds first, then tells the machines', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    expect(r.send({ type: 'start' })).toEqual([io({ type: 'connect' })]);
    expect(r.send({ type: 'connection_made' })).toEqual([bind, ...online]);
    expect(r.state).toBe('connected');
  });

  it('a first connection that fails is an error, with no retry', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    r.send({ type: 'start' });
    const effects = r.send({ type: 'connection_lost' });
    expect(effects).toHaveLength(1);
    const e = effects[0]!;
    if (e.to !== 'boss' || e.event.type !== 'error') throw new Error('expected boss.error');
    expect(e.event.error.code).toBe('Connection');
    expect(r.state).toBe('stopped');
    expect(r.send({ type: 'timer' })).toEqual([]);
  });

  it('after a loss: offline, then a backoff that grows by the factor and stops at the cap', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    r.send({ type: 'start' });
    r.send({ type: 'connection_made' });
    expect(r.send({ type: 'connection_lost' })).toEqual([...offline, io({ type: 'set_timer', ms: 1000 })]);
    expect(r.state).toBe('waiting');
    const delays: number[] = [1000];
    for (let i = 0; i < 14; i++) {
      expect(r.send({ type: 'timer' })).toEqual([io({ type: 'connect' })]);
      delays.push(...timers(r.send({ type: 'connection_lost' })));
    }
    expect(delays.slice(0, 5)).toEqual([1000, 1500, 2250, 3375, 5063]);
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThanOrEqual(delays[i - 1]!);
    expect(delays.at(-1)).toBe(DEFAULT_RECONNECT.maxMs);
    expect(Math.max(...delays)).toBe(DEFAULT_RECONNECT.maxMs);
    // a successful reconnection resets the backoff
    r.send({ type: 'timer' });
    expect(r.send({ type: 'connection_made' })).toEqual([bind, ...online]);
    expect(timers(r.send({ type: 'connection_lost' }))).toEqual([1000]);
  });

  it('jitter adds at most 10%, from the injected randomness', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: (n) => new Uint8Array(n).fill(255) }));
    r.send({ type: 'start' });
    r.send({ type: 'connection_made' });
    expect(timers(r.send({ type: 'connection_lost' }))).toEqual([1100]);
  });

  it('follows a custom policy', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros, reconnect: { initialMs: 10, maxMs: 35, factor: 2 } }));
    r.send({ type: 'start' });
    r.send({ type: 'connection_made' });
    const delays = timers(r.send({ type: 'connection_lost' }));
    for (let i = 0; i < 3; i++) {
      r.send({ type: 'timer' });
      delays.push(...timers(r.send({ type: 'connection_lost' })));
    }
    expect(delays).toEqual([10, 20, 35, 35]);
  });

  it('stop while connected disconnects and reports stopped once the connection is gone', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    r.send({ type: 'start' });
    r.send({ type: 'connection_made' });
    expect(r.send({ type: 'stop' })).toEqual([io({ type: 'disconnect' })]);
    expect(r.send({ type: 'connection_lost' })).toEqual([to('terminator', { type: 'stopped' })]);
    expect(r.state).toBe('stopped');
    expect(r.send({ type: 'stop' })).toEqual([]);
  });

  it('stop while waiting cancels the timer and is stopped at once', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    r.send({ type: 'start' });
    r.send({ type: 'connection_made' });
    r.send({ type: 'connection_lost' });
    expect(r.send({ type: 'stop' })).toEqual([io({ type: 'cancel_timer' }), to('terminator', { type: 'stopped' })]);
  });

  it('stop while connecting: a connection that opens anyway is closed again', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx, envFor(SIDE_A, 1, { random: zeros }));
    r.send({ type: 'start' });
    expect(r.send({ type: 'stop' })).toEqual([io({ type: 'disconnect' })]);
    expect(r.send({ type: 'connection_made' })).toEqual([io({ type: 'disconnect' })]);
    expect(r.send({ type: 'connection_lost' })).toEqual([to('terminator', { type: 'stopped' })]);
  });

  it('stop before start is stopped at once', () => {
    const r = drive(rendezvousMachine, initialRendezvousCtx);
    expect(r.send({ type: 'stop' })).toEqual([to('terminator', { type: 'stopped' })]);
  });
});
