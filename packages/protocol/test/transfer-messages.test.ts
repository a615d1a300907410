import { describe, expect, it } from 'vitest';
import {
  WormholeError,
  directoryOffer,
  encodeTransferAck,
  fileOffer,
  fromUtf8,
  parseTransferAck,
  parseTransferMessage,
  safeOfferName,
  utf8,
} from '../src/index.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof WormholeError ? err.code : `not a WormholeError: ${String(err)}`;
  }
  return undefined;
};

describe('parseTransferMessage', () => {
  it('reads the three offers of cmd_send.py', () => {
    expect(parseTransferMessage({ offer: { message: 'hi' } }).offer).toEqual({ type: 'message', message: 'hi' });
    expect(parseTransferMessage({ offer: { file: { filename: 'a.txt', filesize: 12 } } }).offer).toEqual({ type: 'file', filename: 'a.txt', filesize: 12 });
    expect(
      parseTransferMessage({ offer: { directory: { mode: 'zipfile/deflated', dirname: 'd', zipsize: 10, numbytes: 20, numfiles: 2 } } }).offer,
    ).toEqual({ type: 'directory', mode: 'zipfile/deflated', dirname: 'd', zipsize: 10, numbytes: 20, numfiles: 2 });
  });

  it('carries several keys at once and ignores unknown ones', () => {
    const m = parseTransferMessage({ transit: { 'hints-v1': [] }, answer: { file_ack: 'ok' }, 'future-key': 1 });
    expect(m.transit).toEqual({ abilities: [], direct: [], relays: [] });
    expect(m.answer).toEqual({ type: 'file_ack', ok: true, value: 'ok' });
    expect(m.offer).toBeUndefined();
    expect(parseTransferMessage({}).error).toBeUndefined();
  });

  it('answers and errors', () => {
    expect(parseTransferMessage({ answer: { message_ack: 'ok' } }).answer).toEqual({ type: 'message_ack', ok: true, value: 'ok' });
    expect(parseTransferMessage({ answer: { file_ack: 'no' } }).answer).toMatchObject({ ok: false });
    expect(parseTransferMessage({ answer: { other: 1 } }).answer).toEqual({ type: 'unknown' });
    expect(parseTransferMessage({ error: 'transfer rejected' }).error).toBe('transfer rejected');
    expect(parseTransferMessage({ error: { nested: true } }).error).toBe('{"nested":true}');
  });

  it('an unknown offer is typed, not thrown', () => {
    expect(parseTransferMessage({ offer: { hologram: {} } }).offer).toEqual({ type: 'unknown', keys: ['hologram'] });
  });

  it('rejects known keys with the wrong shape as RemoteProtocol', () => {
    expect(code(() => parseTransferMessage({ offer: 'x' }))).toBe('RemoteProtocol');
    expect(code(() => parseTransferMessage({ offer: { message: 1 } }))).toBe('RemoteProtocol');
    expect(code(() => parseTransferMessage({ offer: { file: { filename: 'a', filesize: -1 } } }))).toBe('RemoteProtocol');
    expect(code(() => parseTransferMessage({ offer: { file: { filename: 'a', filesize: 1.5 } } }))).toBe('RemoteProtocol');
    expect(code(() => parseTransferMessage({ offer: { file: { filename: 'a', filesize: 2 ** 60 } } }))).toBe('RemoteProtocol');
    expect(code(() => parseTransferMessage({ offer: { file: { filename: 'x'.repeat(5000), filesize: 1 } } }))).toBe('RemoteProtocol');
    expect(code(() => parseTransferMessage({ offer: { directory: { mode: 'zipfile/deflated', dirname: 'd', zipsize: '1', numbytes: 1, numfiles: 1 } } }))).toBe(
      'RemoteProtocol',
    );
    expect(code(() => parseTransferMessage({ answer: [] }))).toBe('RemoteProtocol');
  });

  it('builds offers the CLI reads', () => {
    expect(fileOffer('a.bin', 3)).toEqual({ offer: { file: { filename: 'a.bin', filesize: 3 } } });
    expect(directoryOffer({ dirname: 'd', zipsize: 1, numbytes: 2, numfiles: 3 })).toEqual({
      offer: { directory: { mode: 'zipfile/deflated', dirname: 'd', zipsize: 1, numbytes: 2, numfiles: 3 } },
    });
  });
});

describe('transfer ack', () => {
  const hex = 'ab'.repeat(32);
  it('round-trips and accepts acks without sha256', () => {
    expect(fromUtf8(encodeTransferAck(hex))).toBe(`{"ack":"ok","sha256":"${hex}"}`);
    expect(parseTransferAck(encodeTransferAck(hex))).toEqual({ ok: true, ack: 'ok', sha256: hex });
    expect(parseTransferAck(utf8('{"ack": "ok"}'))).toEqual({ ok: true, ack: 'ok' });
    expect(parseTransferAck(utf8('{"ack": "failed"}')).ok).toBe(false);
  });
  it('refuses garbage', () => {
    expect(code(() => parseTransferAck(utf8('not json')))).toBe('RemoteProtocol');
    expect(code(() => parseTransferAck(utf8('[1]')))).toBe('RemoteProtocol');
    expect(code(() => parseTransferAck(utf8('{"ack":"ok","sha256":"xyz"}')))).toBe('RemoteProtocol');
    expect(code(() => parseTransferAck(new Uint8Array(5000)))).toBe('RemoteProtocol');
    expect(code(() => parseTransferAck(Uint8Array.of(0xff, 0xfe)))).toBe('RemoteProtocol');
  });
});

describe('safeOfferName', () => {
  it('keeps the last path component, like os.path.basename', () => {
    expect(safeOfferName('report.pdf')).toBe('report.pdf');
    expect(safeOfferName('../../.ssh/authorized_keys')).toBe('authorized_keys');
    expect(safeOfferName('/etc/passwd')).toBe('passwd');
    expect(safeOfferName('C:\\Users\\x\\evil.exe')).toBe('evil.exe');
    expect(safeOfferName('ünï cödé "q".txt')).toBe('ünï cödé "q".txt');
  });
  it('refuses names that stay unsafe', () => {
    for (const bad of ['', '.', '..', 'dir/', '/', 'a/..', 'nul\u0000x', 'line\nbreak', 'é'.repeat(200)]) {
      expect(code(() => safeOfferName(bad)), JSON.stringify(bad)).toBe('RemoteProtocol');
    }
  });
});
