// A gateway in its own process, to be killed with SIGKILL: started on
// DATA_DIR (SQLite), limits raised for load from one address. Prints one
// JSON line when listening: {"port": P, "openMs": M} (openMs: the store's
// load time, from its log event).
import { startGateway, type MailboxServiceLimits } from '@burrow/gateway';

const RAISED: Record<string, number> = {
  maxConnectionsPerAddress: 100_000,
  maxConnectionsPerPrefix: 100_000,
  framesPerSecondPerAddress: 1e9,
  framesPerSecondPerPrefix: 1e9,
  maxAllocationsPerAddress: 100_000,
  maxAllocationsPerPrefix: 100_000,
  maxCharsPerAddress: 1 << 30,
  maxCharsPerPrefix: 1 << 30,
  maxMessagesPerMailbox: 100_000,
  maxMailboxChars: 1 << 28,
  maxTotalChars: 1 << 30,
};

let openMs: number | undefined;
const gw = await startGateway({
  port: Number(process.env['PORT'] ?? 0),
  transitPort: null,
  dataDir: process.env['DATA_DIR']!,
  mailboxLimits: RAISED as Partial<MailboxServiceLimits>,
  logger: {
    info(event: string, fields?: Record<string, unknown>) {
      if (event === 'mailbox-store.opened') openMs = Number(fields?.['ms']);
    },
  },
});
process.stdout.write(`${JSON.stringify({ port: gw.port, openMs })}\n`);
