/**
 * `burrow`: magic-wormhole compatible send/receive, the gateway and the agent.
 *
 * Only the argument parser loads at start: each command is imported when it
 * runs, so `burrow --help` and `burrow --version` start as fast as Node does,
 * and `send` never loads the gateway or the agent. Exit statuses are
 * {@link EXIT}, documented in the help text and docs-site/guide/cli.md.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT, HELP, parse, UsageError } from './args.js';
import { VERSION } from './version.js';
import type { Io } from './common.js';

export { EXIT } from './args.js';
export { VERSION } from './version.js';

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr.write(`burrow: ${(err as Error).message}\n\n${HELP}`);
    return EXIT.usage;
  }
  const { values: flags, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (flags.version) {
    io.stdout.write(`burrow ${VERSION}\n`);
    return EXIT.ok;
  }
  if (flags.help || command === undefined || command === 'help') {
    io.stdout.write(HELP);
    return command === undefined && !flags.help ? EXIT.usage : EXIT.ok;
  }
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    controller.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onSignal);
  try {
    await runCommand(command, flags, rest, io, controller.signal);
    return EXIT.ok;
  } catch (err) {
    // --json: scripts read the failure as the last line, like the `done` of a success.
    const jsonError = (code: string, message: string) => {
      if (flags.json && command !== 'agent') io.stdout.write(`${JSON.stringify({ event: 'error', code, message })}\n`);
    };
    if (err instanceof UsageError) {
      io.stderr.write(`burrow: ${err.message}\n`);
      jsonError('Usage', err.message);
      return EXIT.usage;
    }
    const { isWormholeError } = await import('@burrow/client');
    const message = err instanceof Error ? err.message : String(err);
    if (isWormholeError(err)) io.stderr.write(`ERROR: ${err.message} [${err.code}]\n`);
    else io.stderr.write(`ERROR: ${message}\n`);
    jsonError(isWormholeError(err) ? err.code : interrupted ? 'Aborted' : 'Internal', message);
    return interrupted ? EXIT.interrupted : EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

async function runCommand(command: string, flags: ReturnType<typeof parse>['values'], rest: string[], io: Io, signal: AbortSignal): Promise<void> {
  switch (command) {
    case 'send':
    case 'tx':
      return (await import('./send.js')).send(flags, rest, io, signal);
    case 'receive':
    case 'rx':
      return (await import('./receive.js')).receive(flags, rest, io, signal);
    case 'serve':
      return (await import('./serve.js')).serve(flags, io, signal);
    case 'agent':
      return (await import('./agent.js')).agent(flags, rest, io, signal);
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/** Run `main` on this process's arguments and streams, then exit with its status. */
export function run(): void {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`burrow: internal error: ${String(err)}\n`);
      process.exit(EXIT.internal);
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
