/** Nameplate machine unit tests: fed one event at a time, with the exact effects it must produce (after magic-wormhole's test_machines.py). */
import { describe, expect, it } from 'vitest';
import { nameplateMachine } from '../../src/machines/nameplate.js';
import { to } from '../../src/machines/types.js';
import { drive, tx } from './support.js';

describe('Nameplate', () => {
  const claim = tx({ type: 'claim', nameplate: '4' });
  const release = tx({ type: 'release', nameplate: '4' });
  const done = to('terminator', { type: 'nameplate_done' });

  it('set_nameplate while offline, then connected: exactly one claim', () => {
    const n = drive(nameplateMachine, {});
    expect(n.send({ type: 'set_nameplate', nameplate: '4' })).toEqual([]);
    expect(n.state).toBe('known.offline');
    expect(n.send({ type: 'connected' })).toEqual([claim]);
    expect(n.state).toBe('claiming.online');
  });

  it('connected first, then set_nameplate: claims at once', () => {
    const n = drive(nameplateMachine, {});
    expect(n.send({ type: 'connected' })).toEqual([]);
    expect(n.send({ type: 'set_nameplate', nameplate: '4' })).toEqual([claim]);
  });

  it('lost while claiming, then connected: claims again', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    expect(n.send({ type: 'lost' })).toEqual([]);
    expect(n.state).toBe('claiming.offline');
    expect(n.send({ type: 'connected' })).toEqual([claim]);
  });

  it('rx_claimed hands the mailbox to Mailbox; a reconnect after that does not claim again', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    expect(n.send({ type: 'rx_claimed', mailbox: 'mb1' })).toEqual([to('mailbox', { type: 'got_mailbox', mailbox: 'mb1' })]);
    expect(n.state).toBe('claimed.online');
    expect(n.send({ type: 'lost' })).toEqual([]);
    expect(n.send({ type: 'connected' })).toEqual([]);
    expect(n.state).toBe('claimed.online');
  });

  it('release transmits release; repeats are ignored; rx_released finishes it', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    n.send({ type: 'rx_claimed', mailbox: 'mb1' });
    expect(n.send({ type: 'release' })).toEqual([release]);
    expect(n.state).toBe('releasing.online');
    expect(n.send({ type: 'release' })).toEqual([]);
    expect(n.send({ type: 'rx_claimed', mailbox: 'mb1' })).toEqual([]);
    expect(n.send({ type: 'rx_released' })).toEqual([done]);
    expect(n.state).toBe('released.online');
    expect(n.send({ type: 'release' })).toEqual([]);
    expect(n.send({ type: 'close' })).toEqual([]);
    expect(n.send({ type: 'lost' })).toEqual([]);
    expect(n.send({ type: 'connected' })).toEqual([]);
  });

  it('lost while releasing: the release is sent again on reconnect', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    n.send({ type: 'rx_claimed', mailbox: 'mb1' });
    n.send({ type: 'release' });
    expect(n.send({ type: 'lost' })).toEqual([]);
    expect(n.send({ type: 'close' })).toEqual([]);
    expect(n.send({ type: 'connected' })).toEqual([release]);
    expect(n.send({ type: 'rx_released' })).toEqual([done]);
  });

  it('release while claimed but offline waits for the connection', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    n.send({ type: 'rx_claimed', mailbox: 'mb1' });
    n.send({ type: 'lost' });
    expect(n.send({ type: 'release' })).toEqual([]);
    expect(n.state).toBe('releasing.offline');
    expect(n.send({ type: 'connected' })).toEqual([release]);
  });

  it('close before any nameplate is done at once, online or not', () => {
    const offline = drive(nameplateMachine, {});
    expect(offline.send({ type: 'close' })).toEqual([done]);
    expect(offline.state).toBe('released.offline');
    const online = drive(nameplateMachine, {});
    online.send({ type: 'connected' });
    expect(online.send({ type: 'close' })).toEqual([done]);
    expect(online.state).toBe('released.online');
    const known = drive(nameplateMachine, {});
    known.send({ type: 'set_nameplate', nameplate: '4' });
    expect(known.send({ type: 'close' })).toEqual([done]);
  });

  it('close while claiming releases; a late rx_claimed is ignored', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    expect(n.send({ type: 'close' })).toEqual([release]);
    expect(n.send({ type: 'rx_claimed', mailbox: 'mb1' })).toEqual([]);
    expect(n.send({ type: 'rx_released' })).toEqual([done]);
  });

  it('close while claiming but offline releases on reconnect (no claim)', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    n.send({ type: 'lost' });
    expect(n.send({ type: 'close' })).toEqual([]);
    expect(n.send({ type: 'connected' })).toEqual([release]);
  });

  it('close while claimed releases', () => {
    const n = drive(nameplateMachine, {});
    n.send({ type: 'connected' });
    n.send({ type: 'set_nameplate', nameplate: '4' });
    n.send({ type: 'rx_claimed', mailbox: 'mb1' });
    expect(n.send({ type: 'close' })).toEqual([release]);
  });
});
