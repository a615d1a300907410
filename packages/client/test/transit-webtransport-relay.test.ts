// A relay's WebTransport side (a Burrow gateway's HTTP/3 /relay): announced
// in the welcome, dialed only with a webtransport dialer, never put on the
// wire to the peer (no peer format has it; the peer uses TCP or WebSocket).
import { describe, expect, it } from 'vitest';
import { encodeTransitHints, mergeRelays, parseRelayLocation, RELAYS_WELCOME_KEY, TRANSIT_ABILITIES } from '@burrow/protocol';
import { relaysFromWelcome } from '../src/transfer/common.js';
import { outboundAttempts } from '../src/transit/candidates.js';
import type { ByteChannel } from '../src/transit/types.js';

const WT = 'https://gw.example:4443/relay';
const never = (): Promise<ByteChannel> => new Promise(() => undefined);

describe('WebTransport relay endpoints', () => {
  it('parses an https:// relay location as a WebTransport endpoint and refuses a malformed one', () => {
    expect(parseRelayLocation(WT)).toEqual({ tcp: [], websocket: [], webtransport: [WT] });
    expect(() => parseRelayLocation('https://a b/relay')).toThrow(TypeError);
  });

  it('reads the webtransport side of a gateway welcome into the same relay', () => {
    const relays = relaysFromWelcome({ [RELAYS_WELCOME_KEY]: [{ tcp: 'tcp:gw.example:4001', websocket: ['wss://gw.example/relay'], webtransport: [WT, 7] }] });
    expect(relays).toEqual([{ tcp: [{ hostname: 'gw.example', port: 4001, priority: 0 }], websocket: ['wss://gw.example/relay'], webtransport: [WT] }]);
    // A welcome without it keeps the old shape.
    expect(relaysFromWelcome({ [RELAYS_WELCOME_KEY]: [{ tcp: 'tcp:gw.example:4001' }] })).toEqual([{ tcp: [{ hostname: 'gw.example', port: 4001, priority: 0 }], websocket: [] }]);
  });

  it('merges it with the same relay announced by TCP', () => {
    const merged = mergeRelays([parseRelayLocation('tcp:gw.example:4001'), { ...parseRelayLocation('tcp:gw.example:4001'), webtransport: [WT] }]);
    expect(merged).toEqual([{ tcp: [{ hostname: 'gw.example', port: 4001, priority: 0 }], websocket: [], webtransport: [WT] }]);
  });

  it('is dialed only with a webtransport dialer, and never sent to the peer', () => {
    const relay = { tcp: [{ hostname: 'gw.example', port: 4001, priority: 0 }], websocket: [], webtransport: [WT] };
    const peer = { abilities: [], direct: [], relays: [] };
    expect(outboundAttempts(peer, [relay], { websocket: never }, 0).map((a) => a.description)).toEqual([]);
    expect(outboundAttempts(peer, [relay], { webtransport: never }, 0).map((a) => a.description)).toEqual([`->relay:${WT}`]);
    const wire = JSON.stringify(encodeTransitHints({ abilities: TRANSIT_ABILITIES, direct: [], relays: [relay, { tcp: [], websocket: [], webtransport: [WT] }] }));
    expect(wire).not.toContain('https:');
    expect(wire).toContain('"relay-v1"');
  });
});
