/**
 * Key: once the code is known, send our SPAKE2 message (phase `pake`); once
 * the peer's arrives too, compute the session key, send our encrypted
 * `version` phase, and hand the key to Boss and Receive. The peer's pake may
 * arrive first; it waits here until the code is set.
 */
import { defineMachine } from './machine.js';
import { io, to, type KeyEvent, type Routed, type SessionEnv } from './types.js';
import { startSpake2, type Spake2 } from '../spake2.js';
import { WormholeError } from '../errors.js';
import { fromHex, fromUtf8, toHex, utf8 } from '../bytes.js';
import { parseJson } from '../json.js';
import { deriveVerifier } from '../kdf.js';
import { encryptPhaseMessage } from '../secretbox.js';

export type KeyStateName = 'idle' | 'have-code' | 'have-pake' | 'done';

export interface KeyCtx {
  readonly spake?: Spake2;
  readonly stashedPake?: string;
}

type Out = 'buildPake' | 'stash' | 'finish';

/** Bodies of the `pake` phase are tiny; refuse anything large before parsing. */
const MAX_PAKE_BODY = 1024;

/** Encode our SPAKE2 message as the mailbox `pake` body: hex(JSON {"pake_v1": hex}). */
export function encodePakeBody(message: Uint8Array): string {
  return toHex(utf8(JSON.stringify({ pake_v1: toHex(message) })));
}

/** Decode a peer's `pake` body. Throws WormholeError('RemoteProtocol'). */
export function decodePakeBody(body: string): Uint8Array {
  const fail = (why: string, cause?: unknown) =>
    new WormholeError('RemoteProtocol', `peer sent a malformed pake message: ${why}`, cause === undefined ? {} : { cause });
  if (body.length > MAX_PAKE_BODY) throw fail('too long');
  let payload: unknown;
  try {
    payload = parseJson(fromUtf8(fromHex(body)), { maxLength: MAX_PAKE_BODY, maxDepth: 4 });
  } catch (cause) {
    throw fail('not hex-encoded JSON', cause);
  }
  const hex = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>)['pake_v1'] : undefined;
  if (typeof hex !== 'string') throw fail('no pake_v1 field');
  try {
    return fromHex(hex);
  } catch (cause) {
    throw fail('pake_v1 is not hex', cause);
  }
}

export const keyMachine = defineMachine<KeyStateName, KeyEvent, Out, KeyCtx, Routed, SessionEnv>({
  name: 'Key',
  initial: 'idle',
  transitions: [
    { from: 'idle', on: 'got_code', to: 'have-code', do: ['buildPake'] },
    { from: 'idle', on: 'got_pake', to: 'have-pake', do: ['stash'] },
    { from: 'have-code', on: 'got_pake', to: 'done', do: ['finish'] },
    { from: 'have-pake', on: 'got_code', to: 'done', do: ['buildPake', 'finish'] },
  ],
  outputs: {
    buildPake: (ctx, ev, env) => {
      if (ev.type !== 'got_code') return;
      const spake = startSpake2({ password: utf8(ev.code.normalize('NFC')), id: utf8(env.appid), random: env.random });
      return { ctx: { ...ctx, spake }, effects: [to('mailbox', { type: 'add', phase: 'pake', body: encodePakeBody(spake.message) })] };
    },
    stash: (ctx, ev) => (ev.type === 'got_pake' ? { ctx: { ...ctx, stashedPake: ev.body } } : undefined),
    finish: (ctx, ev, env) => {
      const body = ev.type === 'got_pake' ? ev.body : ctx.stashedPake;
      if (!ctx.spake || body === undefined) return;
      let key;
      try {
        key = ctx.spake.finish(decodePakeBody(body));
      } catch (err) {
        const error = err instanceof WormholeError ? err : new WormholeError('RemoteProtocol', 'peer sent an invalid pake message', { cause: err });
        return { effects: [to('boss', { type: 'scared', error })] };
      }
      const versions = { ...env.versionExtras, app_versions: env.appVersions };
      const plaintext = utf8(JSON.stringify(versions));
      const box = encryptPhaseMessage(key, env.side, 'version', plaintext, env.random);
      return {
        ctx: {},
        effects: [
          to('boss', { type: 'got_key', key }),
          io({ type: 'key', key, verifier: deriveVerifier(key) }),
          to('mailbox', { type: 'add', phase: 'version', body: toHex(box) }),
          to('receive', { type: 'got_key', key }),
        ],
      };
    },
  },
});
