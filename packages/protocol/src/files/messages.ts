/**
 * files-v1: Burrow's file transfer between two Burrow peers, over the
 * streams of `w.connect()` (WebRTC, or mux-v1 over Transit). The whole
 * protocol is written down in docs-site/protocol/files-v1.md; this module
 * holds its messages, their parsers and the path rules, sans I/O.
 *
 *   mailbox   S→R {"files-v1": {"offer": {"files": N, "bytes": T}}}   then both connect()
 *   control   S opens the first stream:  S→R {"offer": {...}}   R→S {"accept": [i…]} | {"reject": why}
 *                                        …  R→S {"done": {"files": [i…]}}   S closes, R closes
 *   per file  R opens a stream:          R→S {"get": {"file": i, "offset": n, "sha256"?: prefix}}
 *                                        S→R {"send": {"file": i, "offset": m}}, size-m raw bytes, {"sha256": whole}
 *                                        R→S {"ok": {}} once the file has its final name | {"error": why}
 *
 * Every JSON message is one frame: a 4-byte big-endian length, then UTF-8
 * JSON (an object with exactly one known key; unknown keys inside it are
 * ignored). Resuming is pulling from an offset: the receiver proves the
 * prefix it holds with its SHA-256; a prefix that does not match restarts
 * that file from 0.
 */
import { WormholeError } from '../errors.js';
import { parseJsonObject, JsonError, isJsonObject, type JsonObject } from '../json.js';
import { fromUtf8, utf8 } from '../bytes.js';

/** The ability both peers advertise in `version` (`abilities`). */
export const FILES_V1 = 'files-v1';
/** Bounds a receiver enforces on an offer (defaults; a receiver may lower them). */
export const FILES_LIMITS = {
  /** Files in one offer. */
  maxFiles: 100_000,
  /** Empty directories in one offer. */
  maxDirectories: 100_000,
  /** Bytes of one control frame (the offer is the largest). */
  maxOfferFrame: 16 * 1024 * 1024,
  /** Bytes of every other frame. */
  maxFrame: 64 * 1024,
  /** UTF-8 bytes of one path. */
  maxPathBytes: 4096,
  /** Segments of one path. */
  maxPathDepth: 64,
} as const;

/** One file in an offer, as the receiver sees it. */
export interface OfferedFile {
  /** Position in the offer; the `file` of `get`/`send`. */
  readonly index: number;
  /** `/`-separated relative path, checked (see {@link checkPath}). */
  readonly path: string;
  readonly segments: readonly string[];
  readonly size: number;
  /** Modification time the sender reported, ms since the epoch. */
  readonly mtimeMs?: number;
  /** Unix permission bits the sender reported (0o777 at most). */
  readonly mode?: number;
}

/** The whole offer (control stream, first frame). */
export interface FilesOffer {
  readonly files: readonly OfferedFile[];
  /** Empty directories to create (checked paths). */
  readonly directories: readonly string[];
  /** Sum of the file sizes. */
  readonly bytes: number;
}

/** The announcement over the mailbox that starts a files-v1 transfer. */
export interface FilesStart {
  readonly files: number;
  readonly bytes: number;
}

/** Frames on the control stream. */
export type ControlMessage =
  | { readonly type: 'offer'; readonly offer: FilesOffer }
  | { readonly type: 'accept'; readonly files: readonly number[] }
  | { readonly type: 'reject'; readonly reason: string }
  /** `files`: what the receiver has committed so far (an `ok` may have been lost with the old connection). */
  | { readonly type: 'resume'; readonly files: readonly number[] }
  | { readonly type: 'done'; readonly files: readonly number[] }
  /** The receiver is hashing what it holds (`hashed` bytes so far): it is alive, the round goes on. */
  | { readonly type: 'busy'; readonly hashed: number };

/** Frames on a file stream. */
export type FileStreamMessage =
  | { readonly type: 'get'; readonly file: number; readonly offset: number; readonly sha256?: string }
  | { readonly type: 'send'; readonly file: number; readonly offset: number }
  | { readonly type: 'sha256'; readonly sha256: string }
  | { readonly type: 'ok' }
  | { readonly type: 'error'; readonly reason: string }
  /** Before `send`: the sender is hashing the prefix it was asked to prove (`hashed` bytes so far). */
  | { readonly type: 'busy'; readonly hashed: number };

const bad = (why: string) => new WormholeError('RemoteProtocol', `files-v1: ${why}`, { blame: 'peer' });
const HEX64 = /^[0-9a-f]{64}$/;
/** Windows device names, refused as any segment's stem everywhere so a tree is portable. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * Check one offered path and split it: relative, `/`-separated, no empty,
 * `.` or `..` segment, no backslash, no control or reserved character
 * (`< > : " | ? *`), no Windows device name, no trailing dot or space,
 * each segment ≤ 255 UTF-8 bytes. Throws `RemoteProtocol` naming the rule.
 */
export function checkPath(path: unknown): string[] {
  const fail = (why: string) => bad(`refused path ${JSON.stringify(String(path).slice(0, 200))}: ${why}`);
  if (typeof path !== 'string' || path === '') throw fail('empty');
  if (utf8(path).length > FILES_LIMITS.maxPathBytes) throw fail('too long');
  if (/[\u0000-\u001f\u007f]/.test(path)) throw fail('control character');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw fail('absolute');
  if (path.includes('\\')) throw fail('backslash');
  if (/[<>:"|?*]/.test(path)) throw fail('reserved character');
  const segments = path.split('/');
  if (segments.length > FILES_LIMITS.maxPathDepth) throw fail('too deep');
  for (const s of segments) {
    if (s === '..') throw fail('parent directory');
    if (s === '' || s === '.') throw fail('empty segment');
    if (RESERVED.test(s)) throw fail('reserved name');
    if (/[. ]$/.test(s)) throw fail('ends in a dot or space');
    if (utf8(s).length > 255) throw fail('segment longer than 255 bytes');
  }
  return segments;
}

/** Case-folded key under which two paths collide on a case-insensitive file system. */
const collisionKey = (path: string) => path.normalize('NFC').toLowerCase();

function natural(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${what} must be a non-negative integer`);
  return v;
}

function parseFrame(bytes: Uint8Array, max: number): JsonObject {
  try {
    if (bytes.length > max) throw bad(`frame of ${bytes.length} bytes is over the limit of ${max}`);
    return parseJsonObject(fromUtf8(bytes), { maxLength: max });
  } catch (err) {
    if (err instanceof JsonError || err instanceof TypeError) throw bad(`malformed frame (${err.message})`);
    throw err;
  }
}

/** The one key of a frame and its body. */
function single(frame: JsonObject, known: readonly string[]): [string, unknown] | undefined {
  for (const key of known) if (key in frame) return [key, frame[key]];
  return undefined;
}

/** Parse and check an offer body (paths, duplicates, sizes, bounds). */
export function parseOffer(body: unknown, limits: { maxFiles?: number; maxDirectories?: number } = {}): FilesOffer {
  if (!isJsonObject(body)) throw bad('offer must be an object');
  const rawFiles = body['files'];
  const rawDirs = body['directories'] ?? [];
  if (!Array.isArray(rawFiles)) throw bad('offer.files must be a list');
  if (!Array.isArray(rawDirs)) throw bad('offer.directories must be a list');
  const maxFiles = limits.maxFiles ?? FILES_LIMITS.maxFiles;
  const maxDirs = limits.maxDirectories ?? FILES_LIMITS.maxDirectories;
  if (rawFiles.length > maxFiles) throw bad(`offer lists ${rawFiles.length} files, more than the ${maxFiles} allowed`);
  if (rawDirs.length > maxDirs) throw bad(`offer lists ${rawDirs.length} directories, more than the ${maxDirs} allowed`);
  const seen = new Map<string, string>();
  const claim = (path: string, kind: string) => {
    const key = collisionKey(path);
    const earlier = seen.get(key);
    if (earlier !== undefined) throw bad(`offer lists ${JSON.stringify(path.slice(0, 200))} twice (or as both ${earlier} and ${kind}, or differing only in case)`);
    seen.set(key, kind);
  };
  const files: OfferedFile[] = [];
  let bytes = 0;
  for (const [index, raw] of rawFiles.entries()) {
    if (!isJsonObject(raw)) throw bad('each offered file must be an object');
    const segments = checkPath(raw['path']);
    const path = segments.join('/');
    claim(path, 'a file');
    const size = natural(raw['size'], 'file size');
    bytes += size;
    if (!Number.isSafeInteger(bytes)) throw bad('total size out of range');
    const mtime = raw['mtime'];
    const mode = raw['mode'];
    files.push({
      index,
      path,
      segments,
      size,
      ...(typeof mtime === 'number' && Number.isFinite(mtime) && mtime >= 0 ? { mtimeMs: Math.floor(mtime) } : {}),
      ...(typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 ? { mode: mode & 0o777 } : {}),
    });
  }
  const directories: string[] = [];
  for (const raw of rawDirs) {
    const path = checkPath(raw).join('/');
    claim(path, 'a directory');
    directories.push(path);
  }
  // A file may not sit where the offer also puts a directory ("a/b" and "a/b/c").
  for (const path of [...files.map((f) => f.path), ...directories]) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      if (seen.get(collisionKey(parts.slice(0, i).join('/'))) === 'a file') throw bad(`offer puts ${JSON.stringify(path.slice(0, 200))} inside a file`);
    }
  }
  const claimed = body['bytes'];
  if (claimed !== undefined && claimed !== bytes) throw bad(`offer claims ${String(claimed).slice(0, 32)} bytes but its files add up to ${bytes}`);
  return { files, directories, bytes };
}

/** The offer as it goes on the wire. */
export function encodeOffer(files: readonly { path: string; size: number; mtimeMs?: number; mode?: number }[], directories: readonly string[]): JsonObject {
  let bytes = 0;
  for (const f of files) bytes += f.size;
  return {
    offer: {
      files: files.map((f) => ({
        path: f.path,
        size: f.size,
        ...(f.mtimeMs !== undefined ? { mtime: Math.floor(f.mtimeMs) } : {}),
        ...(f.mode !== undefined ? { mode: f.mode & 0o777 } : {}),
      })),
      directories: [...directories],
      bytes,
    },
  };
}

/** The mailbox announcement `{"files-v1": {"offer": {...}}}`, or undefined if `message` is not one. */
export function parseFilesStart(message: JsonObject): FilesStart | undefined {
  const body = message[FILES_V1];
  if (!isJsonObject(body) || !isJsonObject(body['offer'])) return undefined;
  const offer = body['offer'];
  return { files: natural(offer['files'], 'announced file count'), bytes: natural(offer['bytes'], 'announced byte count') };
}

export function encodeFilesStart(start: FilesStart): JsonObject {
  return { [FILES_V1]: { offer: { files: start.files, bytes: start.bytes } } };
}

/** Parse a control-stream frame. */
export function parseControl(bytes: Uint8Array, limits: { maxFiles?: number; maxDirectories?: number } = {}): ControlMessage {
  const frame = parseFrame(bytes, FILES_LIMITS.maxOfferFrame);
  const hit = single(frame, ['offer', 'accept', 'reject', 'resume', 'done', 'busy']);
  if (!hit) throw bad(`unknown control message (${Object.keys(frame).slice(0, 5).join(', ')})`);
  const [key, body] = hit;
  switch (key) {
    case 'offer':
      return { type: 'offer', offer: parseOffer(body, limits) };
    case 'accept':
      return { type: 'accept', files: indexList(body, 'accept', limits) };
    case 'reject':
      return { type: 'reject', reason: typeof body === 'string' ? body.slice(0, 500) : 'transfer rejected' };
    case 'resume':
    case 'done': {
      // {"files": [i…]}: the committed files (absent in the first drafts: none named).
      const files = isJsonObject(body) && body['files'] !== undefined ? indexList(body['files'], key, limits) : [];
      return { type: key, files };
    }
    case 'busy':
      return { type: 'busy', hashed: busyBytes(body) };
    default:
      throw bad(`unknown control message ${key}`);
  }
}

/** `{"busy": {"hashed": N}}`: N is informative (a bad one reads as 0). */
function busyBytes(body: unknown): number {
  const n = isJsonObject(body) ? body['hashed'] : undefined;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** A `busy` frame: said every few seconds by a side hashing a long prefix, so the other's stall watchdog knows it is alive. */
export function encodeBusy(hashed: number): Uint8Array {
  return encodeFrame({ busy: { hashed } });
}

function indexList(body: unknown, what: string, limits: { maxFiles?: number }): number[] {
  if (!Array.isArray(body)) throw bad(`${what} must be a list of file indexes`);
  if (body.length > (limits.maxFiles ?? FILES_LIMITS.maxFiles)) throw bad(`${what} lists too many files`);
  return body.map((i) => natural(i, `${what} file index`));
}

/** Parse a file-stream frame. */
export function parseFileStream(bytes: Uint8Array): FileStreamMessage {
  const frame = parseFrame(bytes, FILES_LIMITS.maxFrame);
  const hit = single(frame, ['get', 'send', 'sha256', 'ok', 'error', 'busy']);
  if (!hit) throw bad(`unknown file-stream message (${Object.keys(frame).slice(0, 5).join(', ')})`);
  const [key, body] = hit;
  switch (key) {
    case 'get':
    case 'send': {
      if (!isJsonObject(body)) throw bad(`${key} must be an object`);
      const file = natural(body['file'], `${key}.file`);
      const offset = natural(body['offset'], `${key}.offset`);
      if (key === 'send') return { type: 'send', file, offset };
      const sha = body['sha256'];
      if (sha !== undefined && (typeof sha !== 'string' || !HEX64.test(sha))) throw bad('get.sha256 must be 64 lowercase hex digits');
      return { type: 'get', file, offset, ...(sha !== undefined ? { sha256: sha } : {}) };
    }
    case 'sha256':
      if (typeof body !== 'string' || !HEX64.test(body)) throw bad('sha256 must be 64 lowercase hex digits');
      return { type: 'sha256', sha256: body };
    case 'ok':
      return { type: 'ok' };
    case 'busy':
      return { type: 'busy', hashed: busyBytes(body) };
    default:
      return { type: 'error', reason: typeof body === 'string' ? body.slice(0, 500) : 'unspecified error' };
  }
}

/** A message as a length-prefixed frame. */
export function encodeFrame(message: JsonObject): Uint8Array {
  const body = utf8(JSON.stringify(message));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}
