/**
 * `burrow`: magic-wormhole compatible send/receive, and the gateway.
 * Exit status: 0 on success, 1 on a transfer error, 2 on a usage error.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isWormholeError } from '@burrow/client';
import { HELP, parse, UsageError } from './args.js';
import type { Io } from './common.js';
import { receive } from './receive.js';
import { send } from './send.js';
import { serve } from './serve.js';

export const VERSION = '0.1.0';

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr.write(`burrow: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (flags.version) {
    io.stdout.write(`burrow ${VERSION}\n`);
    return 0;
  }
  if (flags.help || command === undefined || command === 'help') {
    io.stdout.write(HELP);
    return command === undefined && !flags.help ? 2 : 0;
  }
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    switch (command) {
      case 'send':
      case 'tx':
        await send(flags, rest, io, controller.signal);
        return 0;
      case 'receive':
      case 'rx':
        await receive(flags, rest, io, controller.signal);
        return 0;
      case 'serve':
        await serve(flags, io, controller.signal);
        return 0;
      case 'agent': {
        // Loaded on demand: send/receive/serve do not pay for the agent.
        const { agent } = await import('./agent.js');
        await agent(flags, rest, io, controller.signal);
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`burrow: ${err.message}\n`);
      return 2;
    }
    if (isWormholeError(err)) {
      io.stderr.write(`ERROR: ${err.message} [${err.code}]\n`);
      return 1;
    }
    io.stderr.write(`ERROR: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** Run `main` on this process's arguments and streams, then exit with its status. */
export function run(): void {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`burrow: internal error: ${String(err)}\n`);
      process.exit(70);
    },
  );
}

/** Run as a program (`node main.ts`), not imported (the `burrow` bin calls {@link run}). */
function isEntry(): boolean {
  const argv1 = process.argv[1];
  if (argv1 === undefined) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) run();
