/**
 * `pnpm start`: the gateway (mailbox + relay, state kept in .burrow/gateway)
 * and the playground dev server pointed at it, both on 127.0.0.1.
 */
import { join } from 'node:path';
import { createServer } from 'vite';
import { startGateway } from '@burrow/gateway';
import { jsonLogger } from '@burrow/cli/log';

const root = join(import.meta.dirname, '..');
const port = Number(process.env['BURROW_PORT'] ?? 4000);
const transitPort = Number(process.env['BURROW_TRANSIT_PORT'] ?? 4001);

const gateway = await startGateway({
  host: '127.0.0.1',
  port,
  transitPort,
  dataDir: join(root, '.burrow', 'gateway'),
  logger: jsonLogger(process.stderr),
});
process.env['VITE_BURROW_MAILBOX'] = gateway.url;
process.env['VITE_BURROW_RELAY'] = gateway.relayUrl;
process.env['VITE_BURROW_TRANSIT'] = gateway.transitHint ?? '';
const vite = await createServer({
  configFile: join(root, 'playground', 'vite.config.ts'),
  server: { host: '127.0.0.1', port: Number(process.env['BURROW_PLAYGROUND_PORT'] ?? 5173) },
});
await vite.listen();
const playground = vite.resolvedUrls?.local[0] ?? 'http://127.0.0.1:5173/';
console.log(`
Burrow is running.
  playground   ${playground}
  mailbox      ${gateway.url}
  relay        ${gateway.relayUrl}  ·  ${gateway.transitHint ?? ''}

Send to the CLI:   wormhole --relay-url ${gateway.url} --transit-helper ${gateway.transitHint ?? ''} receive CODE
Ctrl-C stops both.
`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled([vite.close(), gateway.close()]);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
