/**
 * The file-transfer application protocol of `wormhole send/receive`
 * (`cli/cmd_send.py`, `cli/cmd_receive.py`), as typed messages.
 *
 * Each numbered wormhole phase carries one JSON object; one object may carry
 * several of the keys below and each is handled (Python checks them in turn).
 *
 *   sender   → {"transit": {...}}            (before the offer)
 *   sender   → {"offer": {"message": TEXT}}
 *                       {"file": {"filename", "filesize"}}
 *                       {"directory": {"mode": "zipfile/deflated", "dirname",
 *                                      "zipsize", "numbytes", "numfiles"}}
 *   receiver → {"transit": {...}}            (before the answer)
 *   receiver → {"answer": {"message_ack": "ok"}} or {"answer": {"file_ack": "ok"}}
 *   either   → {"error": TEXT}                (gives up)
 *   receiver → last transit record: {"ack": "ok", "sha256": HEX}
 */

import { fromUtf8, utf8 } from '../bytes.js';
import { WormholeError } from '../errors.js';
import { parseTransitHints, type TransitHints } from '../transit/hints.js';

export type Offer =
  | { readonly type: 'message'; readonly message: string }
  | { readonly type: 'file'; readonly filename: string; readonly filesize: number }
  | {
      readonly type: 'directory';
      readonly mode: string;
      readonly dirname: string;
      readonly zipsize: number;
      readonly numbytes: number;
      readonly numfiles: number;
    }
  /** A kind of offer we do not know (refuse it politely). */
  | { readonly type: 'unknown'; readonly keys: readonly string[] };

export type Answer =
  | { readonly type: 'message_ack'; readonly ok: boolean; readonly value: string }
  | { readonly type: 'file_ack'; readonly ok: boolean; readonly value: string }
  | { readonly type: 'unknown' };

/** One application message, parsed. Keys absent from the object are undefined. */
export interface TransferMessage {
  readonly transit?: TransitHints;
  readonly offer?: Offer;
  readonly answer?: Answer;
  readonly error?: string;
}

/** The directory offer's only mode. */
export const ZIPFILE_DEFLATED = 'zipfile/deflated';

/** Bounds on strings a peer sends us. */
export const MAX_TEXT_LENGTH = 16 * 1024 * 1024;
export const MAX_NAME_LENGTH = 1024;
const MAX_ERROR_LENGTH = 4096;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function bad(message: string): WormholeError {
  return new WormholeError('RemoteProtocol', message);
}

function parseOffer(v: unknown): Offer {
  if (!isObject(v)) throw bad('offer is not a JSON object');
  if ('message' in v) {
    const m = v['message'];
    if (typeof m !== 'string') throw bad('offer.message is not a string');
    if (m.length > MAX_TEXT_LENGTH) throw bad('offer.message is too long');
    return { type: 'message', message: m };
  }
  if ('file' in v) {
    const f = v['file'];
    if (!isObject(f)) throw bad('offer.file is not an object');
    const filename = f['filename'];
    const filesize = f['filesize'];
    if (typeof filename !== 'string' || filename.length > MAX_NAME_LENGTH) throw bad('offer.file.filename is not a string of sane length');
    if (!isCount(filesize)) throw bad('offer.file.filesize is not a non-negative integer');
    return { type: 'file', filename, filesize };
  }
  if ('directory' in v) {
    const d = v['directory'];
    if (!isObject(d)) throw bad('offer.directory is not an object');
    const { mode, dirname, zipsize, numbytes, numfiles } = d;
    if (typeof mode !== 'string' || mode.length > 64) throw bad('offer.directory.mode is not a string');
    if (typeof dirname !== 'string' || dirname.length > MAX_NAME_LENGTH) throw bad('offer.directory.dirname is not a string of sane length');
    if (!isCount(zipsize) || !isCount(numbytes) || !isCount(numfiles)) {
      throw bad('offer.directory sizes are not non-negative integers');
    }
    return { type: 'directory', mode, dirname, zipsize, numbytes, numfiles };
  }
  return { type: 'unknown', keys: Object.keys(v).slice(0, 16) };
}

function parseAnswer(v: unknown): Answer {
  if (!isObject(v)) throw bad('answer is not a JSON object');
  for (const key of ['message_ack', 'file_ack'] as const) {
    if (key in v) {
      const value = typeof v[key] === 'string' ? (v[key] as string).slice(0, 256) : JSON.stringify(v[key] ?? null).slice(0, 256);
      return { type: key, ok: v[key] === 'ok', value };
    }
  }
  return { type: 'unknown' };
}

/**
 * Parse one decrypted application message (already a JSON object). Unknown
 * keys are ignored; a known key with the wrong shape is a `RemoteProtocol`
 * error.
 *
 * @example
 * const m = parseTransferMessage(parseAppMessage(await w.nextMessage()));
 * if (m.offer?.type === 'file') …
 */
export function parseTransferMessage(obj: Record<string, unknown>): TransferMessage {
  if (!isObject(obj)) throw bad('peer message is not a JSON object');
  const out: { transit?: TransitHints; offer?: Offer; answer?: Answer; error?: string } = {};
  if ('transit' in obj) out.transit = parseTransitHints(obj['transit']);
  if ('offer' in obj) out.offer = parseOffer(obj['offer']);
  if ('answer' in obj) out.answer = parseAnswer(obj['answer']);
  if ('error' in obj) {
    const e = obj['error'];
    out.error = (typeof e === 'string' ? e : JSON.stringify(e)).slice(0, MAX_ERROR_LENGTH);
  }
  return out;
}

/** `{"offer": {"file": {...}}}` */
export function fileOffer(filename: string, filesize: number): Record<string, unknown> {
  return { offer: { file: { filename, filesize } } };
}

/** `{"offer": {"directory": {...}}}` */
export function directoryOffer(d: { dirname: string; zipsize: number; numbytes: number; numfiles: number }): Record<string, unknown> {
  return { offer: { directory: { mode: ZIPFILE_DEFLATED, dirname: d.dirname, zipsize: d.zipsize, numbytes: d.numbytes, numfiles: d.numfiles } } };
}

/** The receiver's final record. */
export interface TransferAck {
  readonly ok: boolean;
  /** The receiver's SHA-256 of the bytes it got, lowercase hex, if it sent one. */
  readonly sha256?: string;
  /** `ack` as sent, for error messages. */
  readonly ack: string;
}

/** Encode `{"ack": "ok", "sha256": HEX}` as a record. */
export function encodeTransferAck(sha256Hex: string): Uint8Array {
  return utf8(JSON.stringify({ ack: 'ok', sha256: sha256Hex }));
}

/**
 * Parse the receiver's final record. Throws `RemoteProtocol` if it is not a
 * bounded JSON object.
 */
export function parseTransferAck(record: Uint8Array): TransferAck {
  if (record.length > 4096) throw bad('transfer ack record is too long');
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8(record));
  } catch (cause) {
    throw new WormholeError('RemoteProtocol', 'transfer ack is not UTF-8 JSON', { cause });
  }
  if (!isObject(v)) throw bad('transfer ack is not a JSON object');
  const ack = typeof v['ack'] === 'string' ? v['ack'] : JSON.stringify(v['ack'] ?? null);
  const sha = v['sha256'];
  if (sha !== undefined && (typeof sha !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha))) throw bad('transfer ack sha256 is not 64 hex digits');
  return sha === undefined ? { ok: ack === 'ok', ack } : { ok: ack === 'ok', ack, sha256: sha.toLowerCase() };
}

/**
 * The name to save an offered file or directory under: the last path
 * component (Python's `os.path.basename`, for `/` and `\`). Throws
 * `RemoteProtocol` for names that stay unsafe (empty, `.`, `..`, NUL or
 * other control characters).
 *
 * @example
 * safeOfferName('../../.ssh/authorized_keys'); // 'authorized_keys'
 */
export function safeOfferName(name: string): string {
  const base = name.split(/[/\\]/).pop() ?? '';
  if (base === '' || base === '.' || base === '..' || /[\u0000-\u001f\u007f]/.test(base)) {
    throw bad(`unsafe name offered: ${JSON.stringify(name.slice(0, 100))}`);
  }
  if (utf8(base).length > 255) throw bad('offered name is longer than 255 bytes');
  return base;
}
