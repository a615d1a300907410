/**
 * @burrow/testkit — Node-only helpers for Burrow's interop and browser tests:
 * the private-network guard, Debian's mailbox server and transit relay, the
 * `wormhole` CLI as a peer, headless Chromium, and process clean-up.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export {
  assertPrivateNetwork,
  connectTcp,
  freePort,
  isLoopbackHost,
  isPrivateNetwork,
  networkInterfaces,
} from './net.js';
export {
  cleanup,
  makeTempDir,
  onCleanup,
  removeDir,
  waitFor,
  withTimeout,
  type WaitForOptions,
} from './process.js';
export {
  probeMailbox,
  startMailboxServer,
  startTransitRelay,
  type MailboxServer,
  type MailboxServerOptions,
  type TransitRelay,
  type TransitRelayOptions,
} from './servers.js';
export { startDebianPeers, type DebianPeers } from './peers.js';
export { startRedis, type RedisServer } from './redis.js';
export { startCoturn, type Coturn } from './coturn.js';
export {
  runWormhole,
  wormholeBin,
  type RunWormholeOptions,
  type WormholeProcess,
  type WormholeResult,
} from './wormhole.js';
export {
  CHROMIUM_ARGS,
  HOST_RESOLVER_RULES,
  chromiumPath,
  launchChromium,
  newPersistentContext,
  type LaunchChromiumOptions,
} from './chromium.js';

/** Lower-case hex SHA-256 of a file, streamed. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Lower-case hex SHA-256 of bytes. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
export { seededRandom, wrongCode } from './random.js';
export {
  APPID,
  errors,
  mailboxHarness,
  openMailbox,
  rejoinRestored,
  type CoreBase,
  type CoreEffect,
  type Frame,
  type MailboxCoreLike,
  type MailboxHarness,
  type TestClient,
} from './mailbox-harness.js';
export * from './firefox.js';
export * from './network-audit.js';
export * from './trees.js';
export { recordingLogger, startEcho, type EchoService } from './services.js';
export { pythonReads, pythonStreamedZip, type StreamedEntry } from './zip.js';
export * from './webtransport.js';
