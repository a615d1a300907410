/** Boss machine unit tests: fed one event at a time, with the exact effects it must produce (after magic-wormhole's test_machines.py). */
import { describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from '../../src/bytes.js';
import { WormholeError } from '../../src/errors.js';
import { bossMachine, initialBossCtx, MAX_PHASE_GAP } from '../../src/machines/boss.js';
import { io, to, type Routed } from '../../src/machines/types.js';
import { CODE, drive, ioEffects, scaredError } from './support.js';

describe('Boss', () => {
  const msg = (phase: string, text: string) => ({ type: 'got_message', phase, plaintext: utf8(text) }) as const;
  const delivered = (effects: Routed[]) =>
    ioEffects(effects).map((e) => {
      if (e.type !== 'message') throw new Error(`expected io.message, got ${e.type}`);
      return fromUtf8(e.plaintext);
    });
  const happyBoss = () => {
    const b = drive(bossMachine, initialBossCtx);
    b.send({ type: 'got_code', code: CODE });
    b.send({ type: 'happy' });
    expect(b.state).toBe('happy');
    return b;
  };

  it('got_code tells the driver; sends are numbered from 0 whatever the state', () => {
    const b = drive(bossMachine, initialBossCtx);
    expect(b.send({ type: 'send', plaintext: utf8('a') })).toEqual([to('send', { type: 'send', phase: '0', plaintext: utf8('a') })]);
    expect(b.send({ type: 'got_code', code: CODE })).toEqual([io({ type: 'code', code: CODE })]);
    expect(b.state).toBe('lonely');
    expect(b.send({ type: 'send', plaintext: utf8('b') })).toEqual([to('send', { type: 'send', phase: '1', plaintext: utf8('b') })]);
    b.send({ type: 'happy' });
    expect(b.send({ type: 'send', plaintext: utf8('c') })).toEqual([to('send', { type: 'send', phase: '2', plaintext: utf8('c') })]);
  });

  it('the version phase becomes the versions effect (an unparsable one advertises nothing)', () => {
    const b = happyBoss();
    expect(b.send(msg('version', '{"app_versions":{"x":1}}'))).toEqual([io({ type: 'versions', versions: { app_versions: { x: 1 } } })]);
    expect(b.send(msg('version', 'not json'))).toEqual([io({ type: 'versions', versions: {} })]);
    expect(b.send(msg('version', '[1]'))).toEqual([io({ type: 'versions', versions: {} })]);
  });

  it('delivers phases in order across gaps and drops duplicates', () => {
    const b = happyBoss();
    expect(delivered(b.send(msg('1', 'one')))).toEqual([]);
    expect(delivered(b.send(msg('0', 'zero')))).toEqual(['zero', 'one']);
    expect(delivered(b.send(msg('3', 'three')))).toEqual([]);
    expect(delivered(b.send(msg('3', 'three again')))).toEqual([]);
    expect(delivered(b.send(msg('1', 'one again')))).toEqual([]);
    expect(delivered(b.send(msg('2', 'two')))).toEqual(['two', 'three']);
    expect(delivered(b.send(msg('4', 'four')))).toEqual(['four']);
    expect(b.ctx.rxPhases.size).toBe(0);
  });

  it('unknown phases are ignored (forward compatibility)', () => {
    const b = happyBoss();
    for (const phase of ['dilate-0', 'hello', '-1', '1.5', '0x1', '']) {
      expect(b.send(msg(phase, 'x'))).toEqual([]);
      expect(b.handled).toBe(true);
    }
    expect(delivered(b.send(msg('0', 'zero')))).toEqual(['zero']);
  });

  it(`a phase more than ${MAX_PHASE_GAP} ahead: scared with RemoteProtocol (nothing buffered)`, () => {
    const b = happyBoss();
    expect(b.send(msg(String(MAX_PHASE_GAP), 'ok, at the bound'))).toEqual([]);
    const error = scaredError(b.send(msg(String(MAX_PHASE_GAP + 1), 'too far')));
    expect(error?.code).toBe('RemoteProtocol');
    expect(b.ctx.rxPhases.size).toBe(1);
    expect(b.send({ type: 'scared', ...(error ? { error } : {}) })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'scary' })]);
    expect(b.send({ type: 'closed' })).toEqual([io({ type: 'closed', result: error! })]);
  });

  it('a 15-digit phase is a gap, not a crash', () => {
    const b = happyBoss();
    expect(scaredError(b.send(msg('999999999999999', 'x')))?.code).toBe('RemoteProtocol');
  });

  it('close while lonely: mood lonely, result Lonely', () => {
    const b = drive(bossMachine, initialBossCtx);
    b.send({ type: 'got_code', code: CODE });
    expect(b.send({ type: 'close' })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'lonely' })]);
    expect(b.state).toBe('closing');
    const [closed] = ioEffects(b.send({ type: 'closed' }));
    expect(closed).toMatchObject({ type: 'closed', result: { code: 'Lonely', blame: 'caller' } });
    expect(b.state).toBe('closed');
  });

  it('close before a code: lonely too', () => {
    const b = drive(bossMachine, initialBossCtx);
    expect(b.send({ type: 'close' })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'lonely' })]);
  });

  it('close while happy: mood happy, result happy; everything after is ignored', () => {
    const b = happyBoss();
    expect(b.send({ type: 'close' })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'happy' })]);
    for (const ev of [{ type: 'send', plaintext: utf8('x') }, { type: 'close' }, { type: 'scared' }, msg('0', 'x'), msg('version', '{}')] as const) {
      expect(b.send(ev)).toEqual([]);
      expect(b.handled).toBe(true);
    }
    expect(b.send({ type: 'closed' })).toEqual([io({ type: 'closed', result: 'happy' })]);
    expect(b.send({ type: 'closed' })).toEqual([]);
  });

  it('scared (a message failed to decrypt): mood scary, result WrongPassword', () => {
    for (const setup of [[], [{ type: 'happy' }]] as const) {
      const b = drive(bossMachine, initialBossCtx);
      b.send({ type: 'got_code', code: CODE });
      for (const ev of setup) b.send(ev);
      expect(b.send({ type: 'scared' })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'scary' })]);
      expect(ioEffects(b.send({ type: 'closed' }))[0]).toMatchObject({ result: { code: 'WrongPassword', blame: 'peer' } });
    }
  });

  it('rx_error: mood errory; rx_unwelcome: mood unwelcome; the result is their error', () => {
    const serverError = new WormholeError('ServerError', 'mailbox server error: nope');
    const a = drive(bossMachine, initialBossCtx);
    expect(a.send({ type: 'rx_error', error: serverError })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'errory' })]);
    expect(ioEffects(a.send({ type: 'closed' }))).toEqual([{ type: 'closed', result: serverError }]);

    const welcome = new WormholeError('Welcome', 'go away');
    const b = happyBoss();
    expect(b.send({ type: 'rx_unwelcome', error: welcome })).toEqual([io({ type: 'closing', result: expect.anything() }), to('terminator', { type: 'close', mood: 'unwelcome' })]);
    expect(b.send({ type: 'rx_error', error: serverError })).toEqual([]);
    expect(ioEffects(b.send({ type: 'closed' }))).toEqual([{ type: 'closed', result: welcome }]);
  });

  it('error (local failure): closed at once, stopping the connection', () => {
    for (const setup of [[], [{ type: 'got_code', code: CODE }], [{ type: 'got_code', code: CODE }, { type: 'happy' }], [{ type: 'close' }]] as const) {
      const b = drive(bossMachine, initialBossCtx);
      for (const ev of setup) b.send(ev);
      const error = new WormholeError('ServerProtocol', 'bad frame');
      expect(b.send({ type: 'error', error })).toEqual([to('rendezvous', { type: 'stop' }), io({ type: 'closed', result: error })]);
      expect(b.state).toBe('closed');
      expect(b.send({ type: 'error', error })).toEqual([]);
      expect(b.send({ type: 'closed' })).toEqual([]);
    }
  });

  it('the welcome goes to the driver in every state', () => {
    const b = drive(bossMachine, initialBossCtx);
    const welcome = { motd: 'hi' };
    expect(b.send({ type: 'rx_welcome', welcome })).toEqual([io({ type: 'welcome', welcome })]);
    b.send({ type: 'close' });
    expect(b.send({ type: 'rx_welcome', welcome })).toEqual([io({ type: 'welcome', welcome })]);
  });
});
