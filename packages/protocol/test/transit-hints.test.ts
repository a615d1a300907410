import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MAX_HINTS, TRANSIT_ABILITIES, encodeTransitHints, mergeRelays, parseRelayLocation, parseTransitHints } from '../src/index.js';

// What `wormhole send` 0.12 sends (cmd_send.py / transit.py get_connection_hints).
const PYTHON_TRANSIT = {
  'abilities-v1': [{ type: 'direct-tcp-v1' }, { type: 'relay-v1' }],
  'hints-v1': [
    { type: 'direct-tcp-v1', priority: 0.0, hostname: '192.168.1.5', port: 40411 },
    { type: 'direct-tcp-v1', priority: 0.0, hostname: '10.0.0.7', port: 40411 },
    { type: 'relay-v1', hints: [{ type: 'direct-tcp-v1', priority: 0.0, hostname: 'transit.example', port: 4001 }] },
  ],
};

describe('parseTransitHints', () => {
  it('reads what the Python CLI sends', () => {
    const h = parseTransitHints(PYTHON_TRANSIT);
    expect(h.abilities).toEqual(['direct-tcp-v1', 'relay-v1']);
    expect(h.direct).toEqual([
      { hostname: '192.168.1.5', port: 40411, priority: 0 },
      { hostname: '10.0.0.7', port: 40411, priority: 0 },
    ]);
    expect(h.relays).toEqual([{ tcp: [{ hostname: 'transit.example', port: 4001, priority: 0 }], websocket: [] }]);
  });

  it('ignores unknown and tor hints, unknown abilities and keys, and malformed entries', () => {
    const h = parseTransitHints({
      'abilities-v1': [{ type: 'direct-tcp-v1' }, { type: 'future-v9' }, 'junk', null],
      'hints-v1': [
        { type: 'tor-tcp-v1', hostname: 'abc.onion', port: 80 },
        { type: 'quic-v7', url: 'x' },
        { type: 'direct-tcp-v1', hostname: 'ok', port: 1, extra: true },
        { type: 'direct-tcp-v1', hostname: 'noport' },
        { type: 'direct-tcp-v1', hostname: 'badport', port: 70000 },
        { type: 'direct-tcp-v1', hostname: 'floatport', port: 1.5 },
        { type: 'direct-tcp-v1', hostname: 'has space', port: 1 },
        { type: 'direct-tcp-v1', hostname: '', port: 1 },
        { type: 'direct-tcp-v1', hostname: 'x'.repeat(300), port: 1 },
        { type: 'relay-v1', hints: 'not a list' },
        { type: 'relay-v1', hints: [{ type: 'websocket', url: 'ws://r/relay' }] },
        42,
        null,
      ],
      unknownKey: 1,
    });
    expect(h.abilities).toEqual(['direct-tcp-v1', 'future-v9']);
    expect(h.direct).toEqual([{ hostname: 'ok', port: 1, priority: 0 }]);
    // A websocket endpoint inside relay-v1 is read leniently.
    expect(h.relays).toEqual([{ tcp: [], websocket: ['ws://r/relay'] }]);
  });

  it('never throws on garbage', () => {
    for (const v of [undefined, null, 1, 'x', [], { 'hints-v1': {} }, { 'abilities-v1': 'x' }]) {
      expect(parseTransitHints(v)).toEqual({ abilities: [], direct: [], relays: [] });
    }
  });

  it('bounds the number of hints', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({ type: 'direct-tcp-v1', hostname: `h${i}`, port: 1 }));
    expect(parseTransitHints({ 'hints-v1': many }).direct).toHaveLength(MAX_HINTS);
  });

  it('reads magic-wormhole.rs relay-v2 hints and merges them with the relay-v1 twin', () => {
    const h = parseTransitHints({
      'hints-v1': [
        { type: 'relay-v1', hints: [{ type: 'direct-tcp-v1', hostname: 'relay.example', port: 4001 }] },
        {
          type: 'relay-v2',
          name: 'example',
          hints: [
            { type: 'tcp', hostname: 'relay.example', port: 4001 },
            { type: 'websocket', url: 'wss://relay.example/relay' },
            { type: 'websocket', url: 'javascript:alert(1)' },
          ],
        },
      ],
    });
    expect(h.relays).toEqual([
      { name: 'example', tcp: [{ hostname: 'relay.example', port: 4001, priority: 0 }], websocket: ['wss://relay.example/relay'] },
    ]);
  });

  it('dedupes direct hints', () => {
    const d = { type: 'direct-tcp-v1', hostname: 'a', port: 1 };
    expect(parseTransitHints({ 'hints-v1': [d, d] }).direct).toHaveLength(1);
  });
});

describe('encodeTransitHints', () => {
  const ours = {
    abilities: TRANSIT_ABILITIES,
    direct: [{ hostname: '127.0.0.1', port: 5000, priority: 0 }],
    relays: [
      { tcp: [{ hostname: 'relay.example', port: 4001, priority: 0 }], websocket: ['wss://relay.example/relay'] },
      { tcp: [], websocket: ['ws://only-ws.example/relay'] },
    ],
  };

  it('sends relay-v1 with TCP endpoints only, and relay-v2 with everything', () => {
    expect(encodeTransitHints(ours)).toEqual({
      'abilities-v1': [{ type: 'direct-tcp-v1' }, { type: 'relay-v1' }, { type: 'relay-v2' }],
      'hints-v1': [
        { type: 'direct-tcp-v1', priority: 0, hostname: '127.0.0.1', port: 5000 },
        { type: 'relay-v1', hints: [{ type: 'direct-tcp-v1', priority: 0, hostname: 'relay.example', port: 4001 }] },
        {
          type: 'relay-v2',
          name: null,
          hints: [
            { type: 'tcp', hostname: 'relay.example', port: 4001 },
            { type: 'websocket', url: 'wss://relay.example/relay' },
          ],
        },
        { type: 'relay-v2', name: null, hints: [{ type: 'websocket', url: 'ws://only-ws.example/relay' }] },
      ],
    });
  });

  it('round-trips', () => {
    const back = parseTransitHints(encodeTransitHints(ours));
    expect(back.direct).toEqual(ours.direct);
    expect(back.relays).toEqual(ours.relays);
  });

  const python = spawnSync('/usr/bin/python3', ['-c', 'import wormhole.transit'], { encoding: 'utf8' });
  it('is accepted by the Python 0.12 transit code, which keeps only what it knows', () => {
    expect(python.status, `Debian's /usr/bin/python3 with the reference modules is required: ${python.stderr}`).toBe(0);
    const script = `
import json, sys
from wormhole.transit import TransitSender
ts = TransitSender(None)
ts.add_connection_hints(json.loads(sys.stdin.read())["hints-v1"])
print(json.dumps({"direct": [[h.hostname, h.port] for h in ts._their_direct_hints],
                  "relays": sorted([[h.hostname, h.port] for r in ts._our_relay_hints for h in r.hints])}))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(encodeTransitHints(ours)), encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ direct: [['127.0.0.1', 5000]], relays: [['relay.example', 4001]] });
  });
});

describe('parseRelayLocation', () => {
  it('accepts the CLI form, tcp:// and ws(s):// URLs', () => {
    expect(parseRelayLocation('tcp:127.0.0.1:4001')).toEqual({ tcp: [{ hostname: '127.0.0.1', port: 4001, priority: 0 }], websocket: [] });
    expect(parseRelayLocation('tcp:relay.example:4001:priority=2.5').tcp[0]!.priority).toBe(2.5);
    expect(parseRelayLocation('tcp://relay.example:4001').tcp[0]).toEqual({ hostname: 'relay.example', port: 4001, priority: 0 });
    expect(parseRelayLocation('tcp:[::1]:4001').tcp[0]!.hostname).toBe('::1');
    expect(parseRelayLocation('wss://relay.example/relay')).toEqual({ tcp: [], websocket: ['wss://relay.example/relay'] });
  });

  it('rejects the rest with a TypeError', () => {
    for (const bad of ['', 'relay.example:4001', 'tcp:host', 'tcp:host:port', 'tcp:host:99999', 'http://x/', 'ws://', 'tcp:a:1:priority=x']) {
      expect(() => parseRelayLocation(bad), bad).toThrow(TypeError);
    }
  });

  it('merges relays that share an endpoint', () => {
    const a = parseRelayLocation('tcp:r:1');
    const b = { tcp: [{ hostname: 'r', port: 1, priority: 0 }], websocket: ['ws://r/relay'] };
    expect(mergeRelays([a, b, parseRelayLocation('tcp:other:1')])).toHaveLength(2);
  });
});
