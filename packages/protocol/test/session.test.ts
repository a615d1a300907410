/**
 * Two Sessions talking through the real mailbox server core; the harness
 * (network, server, scenarios) is in ./support/session-harness.ts.
 */
import { describe, expect, it } from 'vitest';
import { WormholeError } from '../src/errors.js';
import { parseServerMessage } from '../src/messages.js';
import { Session } from '../src/machines/session.js';
import { seededRandom } from '@burrow/testkit';
import { APPID, exchange, expectHappy, Network } from './support/session-harness.js';

describe('two sessions through a mailbox server', () => {
  it('complete a full exchange: code, pake, key, version, messages in order, happy close', () => {
    const run = exchange();
    expectHappy(run);
    // one connection each, and the wire looks like the protocol
    expect(run.a.connects).toBe(1);
    expect(run.b.connects).toBe(1);
    const typesOf = (side: string) => run.net.server.received.filter((r) => r.side === side || (r.side === undefined && r.message['side'] === side)).map((r) => r.message['type']);
    expect(typesOf(run.a.side).slice(0, 4)).toEqual(['bind', 'allocate', 'claim', 'open']);
    expect(typesOf(run.b.side).slice(0, 3)).toEqual(['bind', 'claim', 'open']);
    for (const side of [run.a.side, run.b.side]) {
      const types = typesOf(side);
      expect(types.filter((t) => t === 'release')).toHaveLength(1);
      expect(types.filter((t) => t === 'close')).toHaveLength(1);
      expect(types.at(-1)).toBe('close');
    }
    const adds = (side: string) =>
      run.net.server.received.filter((r) => r.side === side && r.message['type'] === 'add').map((r) => r.message['phase']);
    expect(adds(run.a.side)).toEqual(['pake', 'version', '0', '1', '2']);
    expect(adds(run.b.side)).toEqual(['pake', 'version', '0', '1']);
  });

  it('is deterministic: the same seeds give the same code and key', () => {
    const one = exchange();
    const two = exchange();
    expect(two.a.code).toBe(one.a.code);
    expect(two.a.key).toBe(one.a.key);
  });

  it('many messages each way arrive in order, none twice', () => {
    const fromA = Array.from({ length: 40 }, (_, i) => `a${i}`);
    const fromB = Array.from({ length: 25 }, (_, i) => `b${i}`);
    expectHappy(exchange({ fromA, fromB }));
  });

  it('a wrong code: both sides end with WrongPassword and close scary; nothing is delivered', () => {
    const { net, a, b } = exchange({ codeB: (code) => `${code.split('-')[0]}-wrong-guess` });
    for (const p of [a, b]) {
      expect(p.result).toBeInstanceOf(WormholeError);
      expect((p.result as WormholeError).code).toBe('WrongPassword');
      expect(p.messages).toEqual([]);
      expect(p.versions).toBeUndefined();
      expect(p.key).toBeDefined();
      expect(p.session.snapshot().rendezvous).toBe('stopped');
    }
    expect(a.key).not.toBe(b.key);
    expect(net.server.moods.map((m) => m.mood)).toEqual(['scary', 'scary']);
    expect(net.server.mailboxes.size).toBe(0);
  });

  it('an add whose echo is lost with the connection is resent once, and delivered once', () => {
    let dropped = false;
    const run = exchange({
      setup: (net, a) => {
        net.afterAdd = (peer, phase) => {
          if (!dropped && peer === a && phase === '1') {
            dropped = true;
            net.drop(a);
          }
        };
      },
    });
    expect(dropped).toBe(true);
    expectHappy(run);
    expect(run.a.connects).toBe(2);
    // the server holds phase '1' from A twice; B still saw it once
    const ones = run.net.server.received.filter((r) => r.side === run.a.side && r.message['type'] === 'add' && r.message['phase'] === '1');
    expect(ones).toHaveLength(2);
  });

  it('a reconnect at any point of the exchange loses nothing and duplicates nothing', () => {
    const total = exchange().net.deliveries;
    expect(total).toBeGreaterThan(40);
    let exercised = 0;
    for (const who of ['A', 'B', 'both'] as const) {
      for (let at = 1; at <= total; at++) {
        const run = exchange({ drop: { at, who } });
        if (run.dropped.length === 0) continue;
        exercised++;
        try {
          expectHappy(run);
        } catch (err) {
          throw new Error(`drop ${who} before delivery ${at}: ${(err as Error).message}`, { cause: err });
        }
        for (const p of [run.a, run.b]) expect(p.connects).toBe(run.dropped.includes(p.name) ? 2 : 1);
      }
    }
    expect(exercised).toBeGreaterThan(total);
  });

  it('two reconnects in a row (the first retry also fails) still complete', () => {
    let drops = 0;
    const run = exchange({
      setup: (net, a) => {
        net.afterAdd = (peer, phase) => {
          if (peer === a && phase === 'version' && drops === 0) {
            drops++;
            net.drop(a);
          }
        };
        net.beforeDelivery = () => {
          // drop the reconnection as soon as it is made, once
          if (drops === 1 && a.conn !== undefined && a.connects === 2) {
            drops++;
            net.drop(a);
          }
        };
      },
    });
    expect(drops).toBe(2);
    expect(run.a.connects).toBe(3);
    expectHappy(run);
  });
});

describe('Session', () => {
  it('a first connection that fails ends the session with Connection', () => {
    const s = new Session({ side: 'a0a0a0a0a0', appid: APPID, random: seededRandom(1), appVersions: {} });
    expect(s.handle({ type: 'start' })).toEqual([{ type: 'connect' }]);
    const effects = s.handle({ type: 'connection_lost' });
    expect(effects).toHaveLength(1);
    expect(effects[0]).toMatchObject({ type: 'closed', result: { code: 'Connection' } });
    expect(s.snapshot().boss).toBe('closed');
  });

  it('a welcome with an error closes with Welcome (mood unwelcome)', () => {
    const net = new Network();
    const a = net.addPeer('A', 'a0a0a0a0a0', 1);
    net.input(a, { type: 'start' });
    net.run();
    net.input(a, { type: 'server_message', message: parseServerMessage('{"type":"welcome","welcome":{"error":"go away"}}') });
    net.run();
    expect(a.result).toBeInstanceOf(WormholeError);
    expect((a.result as WormholeError).code).toBe('Welcome');
    expect(a.session.snapshot().rendezvous).toBe('stopped');
  });

  it('a crowded error from the server: Crowded, and the nameplate is still released and the mailbox closed', () => {
    const net = new Network();
    const a = net.addPeer('A', 'a0a0a0a0a0', 1);
    net.input(a, { type: 'start' });
    net.input(a, { type: 'set_code', code: '9-purple-sausages' });
    net.run();
    net.input(a, { type: 'server_message', message: parseServerMessage('{"type":"error","error":"crowded","orig":{}}') });
    net.run();
    expect((a.result as WormholeError).code).toBe('Crowded');
    const types = net.server.received.map((r) => r.message['type']);
    expect(types.slice(-2).sort()).toEqual(['close', 'release']);
    expect(net.server.moods).toEqual([{ side: a.side, mood: 'errory' }]);
    expect(a.session.snapshot().rendezvous).toBe('stopped');
  });

  it('reports each step to the trace hook', () => {
    const entries: string[] = [];
    const s = new Session({ side: 'a0a0a0a0a0', appid: APPID, random: seededRandom(1), appVersions: {} }, { trace: (e) => entries.push(`${e.machine}:${e.from}->${e.to}:${e.event}:${e.handled}`) });
    s.handle({ type: 'start' });
    expect(entries).toEqual(['rendezvous:idle->connecting:start:true']);
  });
});
