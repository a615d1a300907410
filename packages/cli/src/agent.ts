/**
 * `burrow agent`: the local agent, and its pairings.
 *
 *   burrow agent [--port P] [--allow-origin O]… [--allow-forward H:P]… [--pair]
 *   burrow agent pair                 pair one client by code, then exit
 *   burrow agent list [--json]
 *   burrow agent rename ID NAME
 *   burrow agent revoke ID
 *   burrow agent install-native-host [chromium|chrome] [DIR]   let --allow-origin extensions start the agent by native messaging
 *   burrow agent native-host ORIGIN   what the browser starts: one client over stdin/stdout, no TCP port
 *
 * State (identity, pairings and their secrets) lives only in --data-dir, a
 * private directory; several `burrow agent` processes may share it: a
 * running agent sees pairings and revocations made by another at once.
 * Logs (JSON lines on stderr) never contain codes or secrets; the pairing
 * code goes to stdout for the person who types it.
 */
import { bestEffort, observed, safeText } from '@burrow/protocol';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';
import { cliTransit } from './send.js';
import {
  PAIR_APPID,
  Pairings,
  Policy,
  DEFAULT_AGENT_PORT,
  callerOrigin,
  fileStore,
  installNativeHost,
  loadIdentity,
  runPairing,
  serveNativeHost,
  startAgent,
  wire,
  type NativeHostBrowser,
  type PairingInfo,
} from '@burrow/agent';
import { createWormhole, type WebSocketConstructor } from '@burrow/client';
import { DEFAULT_RELAY_URL, intFlag, UsageError, type Flags } from './args.js';
import type { Io } from './common.js';
import { jsonLogger } from './log.js';

function dataDir(flags: Flags): string {
  if (flags['data-dir']) return flags['data-dir'];
  const state = process.env['XDG_STATE_HOME'] || join(homedir(), '.local', 'state');
  return join(state, 'burrow', 'agent');
}

function describe(p: PairingInfo): string {
  const state = p.revokedAt !== undefined ? 'revoked' : p.lastSeenAt !== undefined ? `last seen ${new Date(p.lastSeenAt).toISOString()}` : 'never connected';
  // Names and origins came from the peer: shown without their controls or bidi characters.
  return `${p.id}  ${safeText(p.name)}${p.origin ? `  ${safeText(p.origin)}` : ''}  (${state})`;
}

/** A pairing id from a unique prefix (at least 4 hex characters). */
async function resolveId(pairings: Pairings, prefix: string | undefined): Promise<string> {
  if (!prefix || !/^[0-9a-f]{4,32}$/.test(prefix)) throw new UsageError('give a pairing id (or a unique prefix of at least 4 hex characters): see `burrow agent list`');
  const matches = (await pairings.list()).filter((p) => p.id.startsWith(prefix));
  if (matches.length !== 1) throw new UsageError(matches.length === 0 ? `no pairing ${prefix}` : `${prefix} matches ${matches.length} pairings`);
  return matches[0]!.id;
}

function untilStopped(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      signal.removeEventListener('abort', done);
      process.off('SIGTERM', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    process.once('SIGTERM', done);
  });
}

export async function agent(flags: Flags, rest: string[], io: Io, signal: AbortSignal): Promise<void> {
  const store = fileStore(dataDir(flags));
  const pairings = new Pairings(store);
  const [sub, ...args] = rest;
  const mailbox = flags['relay-url'] ?? process.env['BURROW_RELAY_URL'] ?? DEFAULT_RELAY_URL;
  const name = flags.name ?? `Burrow agent on ${hostname()}`;
  const port = intFlag(flags.port, 'port', DEFAULT_AGENT_PORT, 0);
  switch (sub) {
    case undefined:
      return run();
    case 'pair':
      return pairOnce();
    case 'list': {
      const all = await pairings.list();
      if (flags.json) io.stdout.write(`${JSON.stringify(all.map((p) => ({ ...p, name: safeText(p.name), ...(p.origin !== undefined ? { origin: safeText(p.origin) } : {}) })))}\n`);
      else io.stdout.write(all.length === 0 ? 'no pairings\n' : `${all.map(describe).join('\n')}\n`);
      return;
    }
    case 'rename': {
      const id = await resolveId(pairings, args[0]);
      if (!args[1]) throw new UsageError('usage: burrow agent rename ID NAME');
      const p = await pairings.rename(id, args.slice(1).join(' '));
      io.stdout.write(`${p ? describe(p) : 'no such pairing'}\n`);
      return;
    }
    case 'revoke': {
      const id = await resolveId(pairings, args[0]);
      await pairings.revoke(id);
      io.stdout.write(`revoked ${id}\n`);
      return;
    }
    case 'native-host':
      // Started by the browser (native messaging): stdout carries native messages only; logs go to stderr.
      return serveNativeHost(
        { store, allowOrigins: flags['allow-origin'] ?? [], allowForward: flags['allow-forward'] ?? [], name, logger: jsonLogger(io.stderr) },
        { origin: callerOrigin(args), input: process.stdin, output: process.stdout },
      );
    case 'install-native-host': {
      const browser = (args[0] ?? 'chromium') as NativeHostBrowser;
      if (!['chromium', 'chrome', 'firefox'].includes(browser)) throw new UsageError('usage: burrow agent install-native-host [chromium|chrome|firefox] [DIR]');
      const extensions = (flags['allow-origin'] ?? []).filter((o) => o.startsWith('chrome-extension://'));
      if (browser !== 'firefox' && extensions.length === 0) throw new UsageError('give the extensions that may start the host: --allow-origin chrome-extension://ID');
      if (browser === 'firefox') throw new UsageError('native messaging from Firefox is not supported yet (its host cannot learn the moz-extension origin)');
      const policy = [...(flags['allow-origin'] ?? []).flatMap((o) => ['--allow-origin', o]), ...(flags['allow-forward'] ?? []).flatMap((d) => ['--allow-forward', d])];
      const command = [process.execPath, ...process.execArgv, process.argv[1]!, 'agent', 'native-host', '--data-dir', resolve(dataDir(flags)), '--name', name, ...policy];
      const done = await installNativeHost({ browser, extensions, command, ...(args[1] ? { dir: args[1] } : {}) });
      io.stdout.write(`Native messaging host ${wire.NATIVE_HOST_NAME} installed for ${extensions.join(' ')}\n  manifest  ${done.manifest}\n  launcher  ${done.launcher}\n`);
      return;
    }
    default:
      throw new UsageError(`unknown agent command '${sub}' (pair, list, rename, revoke, native-host, install-native-host)`);
  }

  async function run(): Promise<void> {
    const a = await startAgent({
      store,
      port,
      allowOrigins: flags['allow-origin'] ?? [],
      allowForward: flags['allow-forward'] ?? [],
      mailbox,
      name,
      // Remote reconnects from the CLI use Transit + mux-v1 (no WebRTC stack in the CLI).
      ...(flags.remote ? { remote: { mailbox, RTCPeerConnection: null, connect: { relay: cliTransit(flags) } } } : {}),
      logger: jsonLogger(io.stderr),
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
    const status = a.status();
    io.stdout.write(
      `Burrow agent ${a.id.slice(0, 8)}\n  endpoint       ${a.url}\n  origins        ${status.allowOrigins.join(' ') || '(none: no client can connect)'}\n  forward        ${status.allowForward.join(' ') || '(none)'}\n`,
    );
    if (flags.pair) {
      const offer = a.pair({ signal });
      offer.code.then(
        (code) => io.stdout.write(`Pairing code: ${code}\n`),
        observed, // the failure is reported through offer.paired below
      );
      offer.paired.then(
        (p) => io.stdout.write(`Paired with ${safeText(p.name)} (${p.id})\n`),
        (err: unknown) => io.stderr.write(`pairing failed: ${err instanceof Error ? err.message : String(err)}\n`),
      );
    }
    await untilStopped(signal);
    await a.shutdown();
  }

  async function pairOnce(): Promise<void> {
    const id = await loadIdentity(store);
    const w = await createWormhole({ mailbox, appid: PAIR_APPID, RTCPeerConnection: null, WebSocket: WebSocket as unknown as WebSocketConstructor, signal });
    try {
      io.stdout.write(`Pairing code: ${await w.allocateCode(intFlag(flags['code-length'], 'code-length', 2), { signal })}\n`);
      const endpoint = `ws://127.0.0.1:${port}${wire.AGENT_PATH}`;
      const origins = flags['allow-origin'];
      const policy = origins ? new Policy(origins, []) : undefined;
      const p = await runPairing(w, { role: 'agent', id, name, endpoint }, pairings, {
        signal,
        ...(policy ? { accept: (peer: { origin?: string }) => (peer.origin !== undefined ? policy.checkOrigin(peer.origin)?.message : undefined) } : {}),
      });
      io.stdout.write(`Paired with ${safeText(p.name)} (${p.id})\n`);
      await w.close();
    } catch (err) {
      await w.close().catch(bestEffort);
      throw err;
    }
  }
}
