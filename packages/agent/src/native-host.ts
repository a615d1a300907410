/**
 * The agent as a native messaging host (native-v1, see
 * `@burrow/protocol/agent`): the browser starts it for an allowed extension
 * and talks to it over stdin/stdout, so the extension reaches the agent with
 * no TCP port open at all. One host process serves one connection, with the
 * agent's store, pairings and policy (the same handshake and checks as the
 * WebSocket), and exits when the browser hangs up.
 *
 * {@link installNativeHost} writes the host manifest that tells the browser
 * which extensions may start it, and a launcher script the manifest names.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { WormholeError } from '@burrow/protocol';
import { NATIVE_HOST_NAME, NativeMessageReader, encodeNativeMessage } from '@burrow/protocol/agent';
import { startAgent } from './agent.js';
import { NativeSocket } from './native-socket.js';
import type { AgentOptions } from './options.js';
import { normalizeOrigin } from './policy.js';

/** The agent-v1 socket of a native host: frames in on `input`, out on `output`. */
export function stdioSocket(input: Readable, output: Writable): NativeSocket {
  const socket = new NativeSocket(
    (message) => void output.write(encodeNativeMessage(message)),
    () => {
      input.destroy();
      output.end();
    },
    () => output.writableLength,
  );
  const reader = new NativeMessageReader();
  input.on('data', (chunk: Buffer) => {
    try {
      for (const message of reader.push(chunk)) socket.receive(message);
    } catch {
      socket.close(4002, 'bad native message');
    }
  });
  input.on('end', () => socket.ended());
  input.on('error', () => socket.ended());
  return socket;
}

/** The origin Chromium names when it starts a host (`chrome-extension://ID/`), normalised; `undefined` for anything else. */
export function callerOrigin(args: readonly string[]): string | undefined {
  const first = args.find((a) => /^chrome-extension:\/\/[a-p]{32}\/?$/.test(a));
  return first === undefined ? undefined : normalizeOrigin(first);
}

/**
 * Serve the one client the browser connected, then stop: resolves once it
 * hung up. `options.port` is ignored (no TCP port is opened).
 */
export async function serveNativeHost(options: AgentOptions, io: { origin: string | undefined; input: Readable; output: Writable }): Promise<void> {
  const agent = await startAgent({ ...options, port: null });
  try {
    const socket = stdioSocket(io.input, io.output);
    const closed = new Promise<void>((resolve) => socket.addEventListener('close', () => resolve()));
    let origin: string | undefined;
    try {
      origin = io.origin === undefined ? undefined : normalizeOrigin(io.origin);
    } catch {
      origin = undefined;
    }
    // Only a browser starts a host, and it always names the extension: no origin is no client.
    if (origin === undefined || agent.accept(socket, origin)) socket.close(4003, 'origin not allowed');
    await closed;
  } finally {
    await agent.shutdown();
  }
}

export type NativeHostBrowser = 'chromium' | 'chrome' | 'firefox';

/** Where each browser looks for a user's native messaging hosts (Linux). */
export function nativeHostDir(browser: NativeHostBrowser): string {
  if (browser === 'firefox') return join(homedir(), '.mozilla', 'native-messaging-hosts');
  return join(homedir(), '.config', browser === 'chrome' ? 'google-chrome' : 'chromium', 'NativeMessagingHosts');
}

export interface InstallNativeHostOptions {
  readonly browser: NativeHostBrowser;
  /** The extensions allowed to start the host: `chrome-extension://ID` origins (Chromium), add-on ids (Firefox). */
  readonly extensions: readonly string[];
  /** The command the launcher runs (absolute paths), e.g. `[process.execPath, '/usr/lib/burrow/cli.js', 'agent', 'native-host', '--data-dir', dir]`. */
  readonly command: readonly string[];
  /** Where to write the manifest (default: the browser's per-user directory, {@link nativeHostDir}). */
  readonly dir?: string;
}

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/** Write the native messaging host manifest and its launcher; resolves with their paths. */
export async function installNativeHost(options: InstallNativeHostOptions): Promise<{ manifest: string; launcher: string }> {
  if (options.command.length === 0) throw new WormholeError('Usage', 'installNativeHost needs a command');
  const chromium = options.browser !== 'firefox';
  const extensions = options.extensions.map((e) => (chromium ? `${normalizeOrigin(e)}/` : e));
  if (chromium && !extensions.every((e) => /^chrome-extension:\/\/[a-p]{32}\/$/.test(e))) throw new WormholeError('Usage', 'Chromium allows chrome-extension://<id> origins only');
  const dir = options.dir ?? nativeHostDir(options.browser);
  await mkdir(dir, { recursive: true });
  const launcher = join(dir, `${NATIVE_HOST_NAME}.sh`);
  await writeFile(launcher, `#!/bin/sh\n# Started by the browser for ${NATIVE_HOST_NAME}; written by burrow agent install-native-host.\nexec ${options.command.map(quote).join(' ')} "$@"\n`);
  await chmod(launcher, 0o755);
  const manifest = join(dir, `${NATIVE_HOST_NAME}.json`);
  const body = {
    name: NATIVE_HOST_NAME,
    description: 'Burrow agent (native messaging)',
    path: launcher,
    type: 'stdio',
    ...(chromium ? { allowed_origins: extensions } : { allowed_extensions: extensions }),
  };
  await writeFile(manifest, `${JSON.stringify(body, null, 2)}\n`);
  return { manifest, launcher };
}
