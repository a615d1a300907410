/** `burrow serve`: the gateway (mailbox + transit relay) until interrupted. */
import { readFileSync } from 'node:fs';
import { startGateway } from '@burrow/gateway';
import { intFlag, UsageError, type Flags } from './args.js';
import type { Io } from './common.js';
import { jsonLogger } from './log.js';

export async function serve(flags: Flags, io: Io, signal: AbortSignal): Promise<void> {
  const tlsCert = flags['tls-cert'];
  const tlsKey = flags['tls-key'];
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (flags['webtransport-port'] !== undefined && tlsCert === undefined) throw new UsageError('--webtransport-port needs --tls-cert and --tls-key');
  const gateway = await startGateway({
    host: flags.host ?? '127.0.0.1',
    port: intFlag(flags.port, 'port', 4000, 0),
    transitPort: intFlag(flags['transit-port'], 'transit-port', 4001, 0),
    ...(flags['data-dir'] ? { dataDir: flags['data-dir'] } : {}),
    ...(flags.motd ? { motd: flags.motd } : {}),
    ...(tlsCert && tlsKey ? { tls: { cert: readFileSync(tlsCert), key: readFileSync(tlsKey) } } : {}),
    ...(flags['webtransport-port'] !== undefined ? { webtransportPort: intFlag(flags['webtransport-port'], 'webtransport-port', 0, 0) } : {}),
    logger: jsonLogger(io.stderr),
  });
  io.stdout.write(
    `Burrow gateway\n  mailbox        ${gateway.url}\n  relay (ws)     ${gateway.relayUrl}\n  relay (tcp)    ${gateway.transitHint ?? 'off'}\n  webtransport   ${gateway.webtransportUrl ?? 'off'}\n  health         ${gateway.url.replace(/^ws/, 'http').replace(/\/v1$/, '/health')}\n`,
  );
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    process.once('SIGTERM', () => resolve());
  });
  await gateway.close();
}
