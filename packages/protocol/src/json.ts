/**
 * One bounded JSON-object parser for every wire format in Burrow.
 *
 * `JSON.parse` bounds nothing: a frame within its size limit can still nest
 * thousands of levels deep and cost far more to parse than a flat one. Every
 * parser in this package (mailbox frames on both sides, transfer messages,
 * webrtc-v1 signalling, agent-v1, pair-v1, rpc headers, pairing records)
 * goes through {@link parseJsonObject}, which checks size, then depth with a
 * linear scan, then parses, and hands back a plain object or throws a
 * {@link JsonError} that the caller turns into its own blame.
 *
 *   const obj = parseJsonObject(text, { maxLength: 1 << 20 });
 *   const type = obj['type'];   // unknown: check before use
 */

/** Why a text was refused. `reason` is stable; `message` is for people. */
export class JsonError extends Error {
  override readonly name = 'JsonError';
  constructor(
    readonly reason: 'type' | 'size' | 'depth' | 'syntax' | 'not-object',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface JsonBounds {
  /** Largest text accepted, in UTF-16 code units (default 1 MiB). */
  readonly maxLength?: number;
  /** Deepest nesting of objects and arrays accepted (default 32). */
  readonly maxDepth?: number;
  /**
   * Most objects and arrays accepted in all (default unbounded). Parsing
   * cost follows how many there are, not how deep: a bound for servers
   * parsing untrusted frames. Refused with reason `depth`.
   */
  readonly maxContainers?: number;
}

export const DEFAULT_JSON_MAX_LENGTH = 1 << 20;
export const DEFAULT_JSON_MAX_DEPTH = 32;

export type JsonObject = Record<string, unknown>;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of `{`/`[` in `text`, ignoring brackets inside strings.
 * Stops early (returning `limit + 1`) as soon as `limit` is exceeded.
 */
export function jsonDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  return jsonShape(text, limit).depth;
}

/**
 * {@link jsonDepth} and the number of objects and arrays, in one scan that
 * stops as soon as either passes its limit.
 */
function jsonShape(text: string, limit: number, containerLimit = Number.POSITIVE_INFINITY): { depth: number; containers: number } {
  let depth = 0;
  let max = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (++containers > containerLimit) return { depth: max, containers };
      if (depth > max) {
        max = depth;
        if (max > limit) return { depth: max, containers };
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return { depth: max, containers };
}

/** Parse any JSON value within `bounds`. Throws {@link JsonError}. */
export function parseJson(text: string, bounds: JsonBounds = {}): unknown {
  if (typeof text !== 'string') throw new JsonError('type', 'expected JSON text, got ' + typeof text);
  const maxLength = bounds.maxLength ?? DEFAULT_JSON_MAX_LENGTH;
  const maxDepth = bounds.maxDepth ?? DEFAULT_JSON_MAX_DEPTH;
  if (text.length > maxLength) throw new JsonError('size', `JSON text of ${text.length} characters (limit ${maxLength})`);
  const maxContainers = bounds.maxContainers ?? Number.POSITIVE_INFINITY;
  const shape = jsonShape(text, maxDepth, maxContainers);
  if (shape.depth > maxDepth) throw new JsonError('depth', `JSON nested deeper than ${maxDepth} levels`);
  if (shape.containers > maxContainers) throw new JsonError('depth', `JSON with more than ${maxContainers} objects and arrays`);
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new JsonError('syntax', 'text that is not JSON', { cause });
  }
}

/** Parse JSON text that must be an object (not an array, null or scalar). */
export function parseJsonObject(text: string, bounds: JsonBounds = {}): JsonObject {
  const value = parseJson(text, bounds);
  if (!isJsonObject(value)) throw new JsonError('not-object', 'JSON that is not an object');
  return value;
}

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
