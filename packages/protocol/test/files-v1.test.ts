// files-v1 messages (@burrow/protocol/files): path rules, offer checks,
// frames. Every refusal is RemoteProtocol with the rule in its message.
import { describe, expect, it } from 'vitest';
import { utf8 } from '@burrow/protocol';
import { FILES_LIMITS, checkPath, encodeBusy, encodeFrame, encodeOffer, parseControl, parseFileStream, parseFilesStart, parseOffer } from '@burrow/protocol/files';

const body = (frame: Uint8Array) => frame.subarray(4);
const offerOf = (files: unknown[], directories: unknown[] = [], extra: Record<string, unknown> = {}) => ({ files, directories, ...extra });

describe('files-v1 paths', () => {
  it('accepts ordinary relative paths, Unicode included', () => {
    expect(checkPath('a/b/c.txt')).toEqual(['a', 'b', 'c.txt']);
    expect(checkPath('Fotos/été 2026/IMG 1.jpg')).toEqual(['Fotos', 'été 2026', 'IMG 1.jpg']);
    expect(checkPath('.hidden')).toEqual(['.hidden']);
  });

  it.each([
    ['../etc/passwd', 'parent directory'],
    ['a/../../b', 'parent directory'],
    ['/etc/passwd', 'absolute'],
    ['C:/Windows', 'absolute'],
    ['a\\b', 'backslash'],
    ['a//b', 'empty segment'],
    ['./a', 'empty segment'],
    ['a/', 'empty segment'],
    ['', 'empty'],
    ['a\u0000b', 'control character'],
    ['line\nbreak', 'control character'],
    ['what?.txt', 'reserved character'],
    ['ab:c', 'reserved character'],
    ['docs/CON', 'reserved name'],
    ['nul.txt', 'reserved name'],
    ['trailing.', 'ends in a dot or space'],
    ['trailing ', 'ends in a dot or space'],
    ['x'.repeat(256), 'segment longer than 255 bytes'],
    [Array.from({ length: 65 }, () => 'd').join('/'), 'too deep'],
    ['a/'.repeat(2100) + 'z', 'too long'],
  ])('refuses %j (%s)', (path, rule) => {
    expect(() => checkPath(path)).toThrow(expect.objectContaining({ code: 'RemoteProtocol', message: expect.stringContaining(rule) }));
  });

  it('refuses non-strings', () => {
    expect(() => checkPath(7)).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
  });
});

describe('files-v1 offers', () => {
  it('round-trips through encodeOffer and parseControl, indexes and totals included', () => {
    const wire = encodeOffer([{ path: 'a.txt', size: 3, mtimeMs: 1700000000123.7, mode: 0o4755 }, { path: 'd/b.bin', size: 0 }], ['empty']);
    const msg = parseControl(body(encodeFrame(wire)));
    expect(msg).toEqual({
      type: 'offer',
      offer: {
        files: [
          { index: 0, path: 'a.txt', segments: ['a.txt'], size: 3, mtimeMs: 1700000000123, mode: 0o755 },
          { index: 1, path: 'd/b.bin', segments: ['d', 'b.bin'], size: 0 },
        ],
        directories: ['empty'],
        bytes: 3,
      },
    });
  });

  it('refuses duplicates, case-only duplicates, a file used as a directory, lying totals and bad sizes', () => {
    const cases: [unknown, string][] = [
      [offerOf([{ path: 'a', size: 1 }, { path: 'a', size: 2 }]), 'twice'],
      [offerOf([{ path: 'Read.me', size: 1 }, { path: 'READ.ME', size: 2 }]), 'twice'],
      [offerOf([{ path: 'a', size: 1 }], ['a']), 'twice'],
      [offerOf([{ path: 'a', size: 1 }, { path: 'a/b', size: 2 }]), 'inside a file'],
      [offerOf([{ path: 'a', size: 1 }], [], { bytes: 5 }), 'add up to 1'],
      [offerOf([{ path: 'a', size: -1 }]), 'non-negative integer'],
      [offerOf([{ path: 'a', size: 1.5 }]), 'non-negative integer'],
      [offerOf([{ path: 'a', size: Number.MAX_SAFE_INTEGER }, { path: 'b', size: Number.MAX_SAFE_INTEGER }]), 'out of range'],
      [offerOf([{ path: '../x', size: 1 }]), 'parent directory'],
      [offerOf(['a']), 'must be an object'],
      [{ files: 'a' }, 'must be a list'],
      ['offer', 'must be an object'],
    ];
    for (const [offer, why] of cases) {
      expect(() => parseOffer(offer), JSON.stringify(offer)).toThrow(expect.objectContaining({ code: 'RemoteProtocol', message: expect.stringContaining(why) }));
    }
  });

  it('bounds the number of files and directories', () => {
    const files = Array.from({ length: 11 }, (_, i) => ({ path: `f${i}`, size: 0 }));
    expect(() => parseOffer(offerOf(files), { maxFiles: 10 })).toThrow(expect.objectContaining({ code: 'RemoteProtocol', message: expect.stringContaining('more than the 10 allowed') }));
    expect(() => parseOffer(offerOf([], ['a', 'b']), { maxDirectories: 1 })).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    expect(FILES_LIMITS.maxFiles).toBe(100_000);
  });

  it('reads the mailbox announcement, and nothing else as one', () => {
    expect(parseFilesStart({ 'files-v1': { offer: { files: 2, bytes: 10 } } })).toEqual({ files: 2, bytes: 10 });
    expect(parseFilesStart({ offer: { message: 'hi' } })).toBeUndefined();
    expect(() => parseFilesStart({ 'files-v1': { offer: { files: -1, bytes: 0 } } })).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
  });
});

describe('files-v1 frames', () => {
  it('parses every file-stream message', () => {
    const sha = 'ab'.repeat(32);
    expect(parseFileStream(body(encodeFrame({ get: { file: 1, offset: 9, sha256: sha } })))).toEqual({ type: 'get', file: 1, offset: 9, sha256: sha });
    expect(parseFileStream(body(encodeFrame({ get: { file: 0, offset: 0 } })))).toEqual({ type: 'get', file: 0, offset: 0 });
    expect(parseFileStream(body(encodeFrame({ send: { file: 1, offset: 0 } })))).toEqual({ type: 'send', file: 1, offset: 0 });
    expect(parseFileStream(body(encodeFrame({ sha256: sha })))).toEqual({ type: 'sha256', sha256: sha });
    expect(parseFileStream(body(encodeFrame({ ok: {} })))).toEqual({ type: 'ok' });
    expect(parseFileStream(body(encodeFrame({ error: 'disk full' })))).toEqual({ type: 'error', reason: 'disk full' });
    expect(parseControl(body(encodeFrame({ accept: [0, 2] })))).toEqual({ type: 'accept', files: [0, 2] });
    expect(parseControl(body(encodeFrame({ reject: 'no' })))).toEqual({ type: 'reject', reason: 'no' });
    expect(parseControl(body(encodeFrame({ resume: { files: [1, 3] } })))).toEqual({ type: 'resume', files: [1, 3] });
    expect(parseControl(body(encodeFrame({ resume: {} })))).toEqual({ type: 'resume', files: [] });
    expect(parseControl(body(encodeFrame({ done: { files: [0] } })))).toEqual({ type: 'done', files: [0] });
    expect(() => parseControl(body(encodeFrame({ done: { files: [-1] } })))).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
  });

  it('busy: on a file stream and on the control stream; the count is informative (a bad one reads as 0)', () => {
    expect(parseFileStream(body(encodeBusy(5_000_000)))).toEqual({ type: 'busy', hashed: 5_000_000 });
    expect(parseControl(body(encodeBusy(7)))).toEqual({ type: 'busy', hashed: 7 });
    expect(parseControl(body(encodeFrame({ busy: { hashed: -3 } })))).toEqual({ type: 'busy', hashed: 0 });
    expect(parseFileStream(body(encodeFrame({ busy: 'x' })))).toEqual({ type: 'busy', hashed: 0 });
  });

  it('frames are a 4-byte big-endian length and UTF-8 JSON', () => {
    expect([...encodeFrame({ ok: {} })]).toEqual([0, 0, 0, 9, ...utf8('{"ok":{}}')]);
  });

  it('refuses malformed, unknown, oversized and invalid-UTF-8 frames', () => {
    const bad: Uint8Array[] = [
      utf8('{"get": {"file": 1}}'),
      utf8('{"get": {"file": 1, "offset": 0, "sha256": "XYZ"}}'),
      utf8('{"sha256": "00"}'),
      utf8('{"what": 1}'),
      utf8('[1]'),
      utf8('{"ok": '),
      Uint8Array.of(0x7b, 0xff, 0x7d),
      utf8(JSON.stringify({ error: 'x'.repeat(FILES_LIMITS.maxFrame) })),
    ];
    for (const b of bad) expect(() => parseFileStream(b)).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
    expect(() => parseControl(utf8('{"accept": "all"}'))).toThrow(expect.objectContaining({ code: 'RemoteProtocol' }));
  });
});
