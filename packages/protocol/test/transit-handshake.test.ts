import { describe, expect, it } from 'vitest';
import {
  TransitHandshake,
  WormholeError,
  concatBytes,
  fromUtf8,
  receiverHandshake,
  relayHandshake,
  senderHandshake,
  transitKey,
  utf8,
  type HandshakeEffect,
} from '../src/index.js';

const key = transitKey(new Uint8Array(32).fill(9));
const other = transitKey(new Uint8Array(32).fill(8));
const sent = (effects: HandshakeEffect[]) => effects.filter((e) => e.type === 'send').map((e) => fromUtf8((e as { bytes: Uint8Array }).bytes));
const types = (effects: HandshakeEffect[]) => effects.map((e) => e.type);

/** Feed `bytes` one at a time and collect every effect. */
function dribble(hs: TransitHandshake, bytes: Uint8Array): HandshakeEffect[] {
  const out: HandshakeEffect[] = [];
  for (const b of bytes) out.push(...hs.receive(Uint8Array.of(b)));
  return out;
}

describe('TransitHandshake', () => {
  it('direct: sender and receiver agree, sender decides, receiver waits for go', () => {
    const s = new TransitHandshake({ role: 'sender', key });
    const r = new TransitHandshake({ role: 'receiver', key });
    expect(sent(s.start())).toEqual([fromUtf8(senderHandshake(key))]);
    expect(sent(r.start())).toEqual([fromUtf8(receiverHandshake(key))]);
    expect(types(r.receive(senderHandshake(key)))).toEqual([]);
    expect(r.state).toBe('wait-go');
    expect(types(s.receive(receiverHandshake(key)))).toEqual(['decide']);
    const go = s.decide(true);
    expect(sent(go)).toEqual(['go\n']);
    expect(go.at(-1)).toEqual({ type: 'established', leftover: new Uint8Array(0) });
    // The receiver gets go plus the first record bytes in one chunk: those are leftover.
    const est = r.receive(concatBytes(utf8('go\n'), Uint8Array.of(0, 0, 0, 1)));
    expect(est).toEqual([{ type: 'established', leftover: Uint8Array.of(0, 0, 0, 1) }]);
    expect(r.state).toBe('established');
    expect(r.receive(utf8('more'))).toEqual([]);
  });

  it('works byte by byte', () => {
    const r = new TransitHandshake({ role: 'receiver', key });
    r.start();
    const eff = dribble(r, concatBytes(senderHandshake(key), utf8('go\n')));
    expect(types(eff)).toEqual(['established']);
  });

  it('relay: sends the relay line first, then the handshake after ok', () => {
    const side = '0123456789abcdef';
    const s = new TransitHandshake({ role: 'sender', key, relaySide: side });
    expect(s.viaRelay).toBe(true);
    expect(sent(s.start())).toEqual([fromUtf8(relayHandshake(key, side))]);
    expect(s.state).toBe('relay-wait-ok');
    const eff = s.receive(concatBytes(utf8('ok\n'), receiverHandshake(key)));
    expect(sent(eff)).toEqual([fromUtf8(senderHandshake(key))]);
    expect(types(eff)).toEqual(['send', 'decide']);
  });

  it('the loser gets nevermind and fails', () => {
    const s = new TransitHandshake({ role: 'sender', key });
    s.start();
    s.receive(receiverHandshake(key));
    const eff = s.decide(false);
    expect(sent(eff)).toEqual(['nevermind\n']);
    expect(eff.at(-1)?.type).toBe('failed');
    expect(s.state).toBe('failed');
  });

  it('a receiver told nevermind fails', () => {
    const r = new TransitHandshake({ role: 'receiver', key });
    r.start();
    const eff = r.receive(concatBytes(senderHandshake(key), utf8('nevermind\n')));
    expect(eff).toHaveLength(1);
    const f = eff[0] as { type: 'failed'; error: WormholeError };
    expect(f.type).toBe('failed');
    expect(f.error.code).toBe('RemoteProtocol');
  });

  it('fails on the first wrong byte: a wrong key, HTTP, a relay that refuses', () => {
    const r = new TransitHandshake({ role: 'receiver', key });
    r.start();
    const eff = r.receive(senderHandshake(other).subarray(0, 40));
    expect(eff).toHaveLength(1);
    expect(eff[0]!.type).toBe('failed');
    expect((eff[0] as { error: WormholeError }).error.message).toMatch(/bad peer handshake/);

    const h = new TransitHandshake({ role: 'sender', key });
    h.start();
    expect(types(h.receive(utf8('HTTP/1.1 400 Bad Request\r\n')))).toEqual(['failed']);

    const relay = new TransitHandshake({ role: 'receiver', key, relaySide: 'aaaaaaaaaaaaaaaa' });
    relay.start();
    const bad = relay.receive(utf8('bad handshake\n'));
    expect((bad[0] as { error: WormholeError }).error.blame).toBe('server');
  });

  it('a sender must not hear the receiver talk before go', () => {
    const s = new TransitHandshake({ role: 'sender', key });
    s.start();
    expect(types(s.receive(concatBytes(receiverHandshake(key), utf8('xx'))))).toEqual(['decide']);
    expect(s.decide(true).at(-1)).toEqual({ type: 'established', leftover: utf8('xx') });
  });

  it('a close during the handshake fails; after it, nothing happens', () => {
    const r = new TransitHandshake({ role: 'receiver', key });
    r.start();
    r.receive(senderHandshake(key).subarray(0, 10));
    expect(types(r.closed())).toEqual(['failed']);
    expect(r.closed()).toEqual([]);
  });

  it('checks its arguments', () => {
    expect(() => new TransitHandshake({ role: 'x' as 'sender', key })).toThrow(TypeError);
    expect(() => new TransitHandshake({ role: 'sender', key, relaySide: 'short' })).toThrow(RangeError);
    const r = new TransitHandshake({ role: 'receiver', key });
    expect(() => r.decide(true)).toThrow('only the sender decides');
    r.start();
    expect(() => r.start()).toThrow('handshake already started');
  });
});
