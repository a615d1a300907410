// webrtc-v1 data-channel text: control-channel messages and stream control,
// bounded, unknown text ignored, and the exact text we send.
import { describe, expect, it } from 'vitest';
import { encodeChannelControl, encodeControlMessage, parseChannelControl, parseControlMessage, MAX_CONTROL_TEXT } from '../src/webrtc/index.js';

describe('stream channel control', () => {
  it('parses credit, fin, reset and stop, ignoring the unknown', () => {
    expect(parseChannelControl('{"credit":65536}')).toEqual({ type: 'credit', increment: 65536 });
    expect(parseChannelControl('{"fin":true}')).toEqual({ type: 'fin' });
    expect(parseChannelControl('{"reset":"no"}')).toEqual({ type: 'reset', reason: 'no' });
    expect(parseChannelControl('{"stop":"enough"}')).toEqual({ type: 'stop', reason: 'enough' });
    expect(parseChannelControl('{"credit":-1}')).toBeUndefined();
    expect(parseChannelControl('{"credit":1.5}')).toBeUndefined();
    expect(parseChannelControl('{"fin":1}')).toBeUndefined();
    expect(parseChannelControl('[1]')).toBeUndefined();
    expect(parseChannelControl('not json')).toBeUndefined();
    expect(parseChannelControl(`{"fin":true,"pad":"${'x'.repeat(MAX_CONTROL_TEXT)}"}`)).toBeUndefined();
    expect(parseChannelControl(`{"fin":true,"deep":${'['.repeat(100)}${']'.repeat(100)}}`)).toBeUndefined();
  });

  it('round-trips what we send, byte for byte', () => {
    const all = [{ type: 'credit', increment: 7 }, { type: 'fin' }, { type: 'reset', reason: 'r' }, { type: 'stop', reason: 's' }] as const;
    expect(all.map((c) => encodeChannelControl(c))).toEqual(['{"credit":7}', '{"fin":true}', '{"reset":"r"}', '{"stop":"s"}']);
    for (const c of all) expect(parseChannelControl(encodeChannelControl(c))).toEqual(c);
  });
});

describe('control channel messages', () => {
  it('parses confirm, ping, pong and bye, ignoring the unknown', () => {
    expect(parseControlMessage(JSON.stringify({ confirm: 'ab'.repeat(32) }))).toEqual({ type: 'confirm', mac: 'ab'.repeat(32) });
    expect(parseControlMessage(JSON.stringify({ confirm: 'zz' }))).toBeUndefined();
    expect(parseControlMessage(JSON.stringify({ confirm: 'AB'.repeat(32) }))).toBeUndefined();
    expect(parseControlMessage(JSON.stringify({ bye: 'done' }))).toEqual({ type: 'bye', reason: 'done' });
    expect(parseControlMessage(JSON.stringify({ bye: 'x'.repeat(1000) }))).toEqual({ type: 'bye', reason: 'x'.repeat(256) });
    expect(parseControlMessage('{"ping":3}')).toEqual({ type: 'ping', n: 3 });
    expect(parseControlMessage('{"pong":3}')).toEqual({ type: 'pong', n: 3 });
    expect(parseControlMessage(new ArrayBuffer(4))).toBeUndefined();
    expect(parseControlMessage('{"hello":1}')).toBeUndefined();
  });

  it('sends the same text it parses', () => {
    const all = [{ type: 'confirm', mac: 'cd'.repeat(32) }, { type: 'ping', n: 1 }, { type: 'pong', n: 1 }, { type: 'bye', reason: 'closed' }] as const;
    expect(all.map((m) => encodeControlMessage(m))).toEqual([`{"confirm":"${'cd'.repeat(32)}"}`, '{"ping":1}', '{"pong":1}', '{"bye":"closed"}']);
    for (const m of all) expect(parseControlMessage(encodeControlMessage(m))).toEqual(m);
  });
});
