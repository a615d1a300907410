// ICE servers from the mailbox welcome (burrow-ice-v1): checked and bounded, junk skipped.
import { describe, expect, it } from 'vitest';
import { ICE_WELCOME_KEY, iceServersFromWelcome } from '../src/index.js';

describe('iceServersFromWelcome', () => {
  it('reads STUN and TURN entries as the gateway announces them', () => {
    const welcome = {
      [ICE_WELCOME_KEY]: [
        { urls: ['stun:198.51.100.1:3478'] },
        { urls: ['turn:198.51.100.1:3478', 'turns:turn.example.org:5349'], username: '1764750600:burrow', credential: 'q0x=' },
      ],
    };
    expect(iceServersFromWelcome(welcome)).toEqual([
      { urls: ['stun:198.51.100.1:3478'] },
      { urls: ['turn:198.51.100.1:3478', 'turns:turn.example.org:5349'], username: '1764750600:burrow', credential: 'q0x=' },
    ]);
  });

  it('is empty without the key; skips junk, TURN without credentials and other schemes; bounds the list', () => {
    expect(iceServersFromWelcome({})).toEqual([]);
    expect(iceServersFromWelcome({ [ICE_WELCOME_KEY]: 'stun:x' })).toEqual([]);
    const junk = [null, 7, { urls: [] }, { urls: ['http://x'] }, { urls: 'turn:x:3478' }, { urls: 'turn:x:3478', username: 1, credential: 'c' }, { urls: ['stun:ok:1', 5, 'x'.repeat(600)] }];
    expect(iceServersFromWelcome({ [ICE_WELCOME_KEY]: junk })).toEqual([{ urls: ['stun:ok:1'] }]);
    const many = Array.from({ length: 20 }, (_, i) => ({ urls: `stun:h${i}:1` }));
    expect(iceServersFromWelcome({ [ICE_WELCOME_KEY]: many })).toHaveLength(8);
  });
});
