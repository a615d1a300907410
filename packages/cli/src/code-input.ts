/**
 * Typing the code at the prompt, as `wormhole receive` does: Tab completes
 * the nameplate from the ones active on the mailbox server, then each word
 * from the PGP word list (`completeCode` from @burrow/protocol). Without a
 * terminal (a pipe, a test) the line is read as is.
 */
import { randomBytes } from 'node:crypto';
import { createInterface, type Completer } from 'node:readline/promises';
import WebSocket from 'ws';
import { completeCode, encodeClientMessage, parseServerMessage } from '@burrow/protocol';
import { VERSION } from './version.js';
import type { Io } from './common.js';

export const CODE_PROMPT = 'Enter receive wormhole code: ';

/** Active nameplates, asked for on each Tab at the nameplate; closed after the prompt. */
export interface NameplateLister {
  list(): Promise<string[]>;
  close(): void;
}

/**
 * Ask the mailbox server at `url` for its active nameplates (`bind`, then
 * `list` per call). Connects on first use. Completion is best effort: an
 * unreachable or slow server (over `timeoutMs`) gives no nameplates.
 */
export function nameplateLister(url: string, appid: string, timeoutMs = 2000): NameplateLister {
  let ws: WebSocket | undefined;
  let opened: Promise<void> | undefined;
  let waiting: ((nameplates: string[]) => void) | undefined;
  let n = 0;
  const id = () => `c${(n++).toString(16)}`;
  const connect = (): Promise<void> =>
    (opened ??= new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(url);
      ws = socket;
      socket.on('error', reject);
      socket.on('close', () => waiting?.([]));
      socket.on('message', (data: Buffer) => {
        const m = parseServerMessageSafe(data.toString('utf8'));
        if (m?.type === 'nameplates') waiting?.([...m.nameplates]);
      });
      socket.once('open', () => {
        const side = randomBytes(5).toString('hex');
        socket.send(encodeClientMessage({ type: 'bind', appid, side, client_version: ['burrow', VERSION] }, id()));
        resolve();
      });
    }));
  return {
    async list() {
      try {
        await withTimeout(connect(), timeoutMs);
        const answer = new Promise<string[]>((resolve) => (waiting = resolve));
        ws!.send(encodeClientMessage({ type: 'list' }, id()));
        return await withTimeout(answer, timeoutMs);
      } catch {
        return []; // no nameplates to offer; the words still complete
      } finally {
        waiting = undefined;
      }
    },
    close() {
      ws?.terminate();
    },
  };
}

function parseServerMessageSafe(frame: string): ReturnType<typeof parseServerMessage> | undefined {
  try {
    return parseServerMessage(frame);
  } catch {
    return undefined; // a frame we cannot read offers nothing to complete
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A readline completer for codes: nameplates while no `-` is typed, then words. */
export function codeCompleter(nameplates: () => Promise<Iterable<string>>, words?: number): Completer {
  return async (line: string): Promise<[string[], string]> => {
    const active = line.includes('-') ? [] : await nameplates();
    return [completeCode(line, { nameplates: active, ...(words !== undefined ? { words } : {}) }), line];
  };
}

/** Read the code from the person at the terminal, with Tab completion when stdin is one. */
export async function inputCode(io: Io, lister: NameplateLister, signal: AbortSignal): Promise<string> {
  const terminal = Boolean(io.stdin.isTTY);
  const rl = createInterface({
    input: io.stdin,
    output: io.stderr,
    terminal,
    ...(terminal ? { completer: codeCompleter(() => lister.list()) } : {}),
  });
  try {
    return (await rl.question(CODE_PROMPT, { signal })).trim();
  } finally {
    rl.close();
    lister.close();
  }
}
