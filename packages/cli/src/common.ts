/** Shared pieces of the CLI commands: connecting, prompting, verifying. */
import { createInterface } from 'node:readline/promises';
import WebSocket from 'ws';
import { WormholeError, createWormhole, toHex, type Wormhole, type WebSocketConstructor } from '@burrow/client';
import { directTcp } from '@burrow/client/node';
import { DEFAULT_RELAY_URL, type Flags } from './args.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/** The mailbox server: `--relay-url`, else $BURROW_RELAY_URL, else the public one. */
export function mailboxUrl(flags: Flags): string {
  return flags['relay-url'] ?? process.env['BURROW_RELAY_URL'] ?? DEFAULT_RELAY_URL;
}

/**
 * Open the wormhole; with `webrtc`, files may go over WebRTC (node-datachannel,
 * when it loads), after a head start for direct TCP unless --no-direct-first.
 */
export async function openWormhole(flags: Flags, signal: AbortSignal, options: { webrtc?: boolean } = {}): Promise<Wormhole> {
  const RTCPeerConnection = options.webrtc ? await (await import('./webrtc.js')).nodeRTCPeerConnection() : null;
  return createWormhole({
    ...(flags['no-direct-first'] === true ? {} : { directTcp }),
    mailbox: mailboxUrl(flags),
    ...(flags.appid ? { appid: flags.appid } : {}),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    RTCPeerConnection,
    signal,
  });
}

/** Read one line from stdin (the code, or a yes/no answer). */
export async function ask(io: Io, prompt: string, signal: AbortSignal): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: Boolean(io.stdin.isTTY) });
  try {
    return (await rl.question(prompt, { signal })).trim();
  } finally {
    rl.close();
  }
}

/** With --verify: show the verifier and stop unless the user says yes. */
export async function verify(w: Wormhole, flags: Flags, io: Io, signal: AbortSignal): Promise<boolean> {
  if (!flags.verify) return true;
  const verifier = toHex(await w.verifier);
  io.stderr.write(`Verifier ${verifier}.\n`);
  const answer = await ask(io, 'ok? (yes/no): ', signal);
  return answer.toLowerCase() === 'yes' || answer.toLowerCase() === 'y';
}

/** Unless --accept-file: ask "ok? (Y/n)"; a no refuses the offer and ends with `Rejected`. */
export async function confirmOffer(offer: { reject(reason?: string): Promise<void> }, flags: Flags, io: Io, signal: AbortSignal): Promise<void> {
  if (flags['accept-file']) return;
  const answer = (await ask(io, 'ok? (Y/n): ', signal)).toLowerCase();
  if (answer === '' || answer.startsWith('y')) return;
  io.stderr.write('transfer rejected\n');
  await offer.reject('transfer rejected');
  throw new WormholeError('Rejected', 'transfer rejected', { blame: 'caller' });
}
