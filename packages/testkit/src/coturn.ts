/**
 * Debian's coturn (`turnserver`) on a loopback port with the shared-secret
 * REST scheme (`use-auth-secret` + `static-auth-secret`): the credentials a
 * gateway mints with `turn: { secret }` are the only ones it accepts.
 *
 *   const turn = await startCoturn({ secret: 's3cret' });
 *   startGateway({ turn: { urls: [turn.url], secret: 's3cret' } });
 */
import type { ChildProcess } from 'node:child_process';
import { freePort } from './net.js';
import { onCleanup, spawnTracked, terminate, waitFor } from './process.js';

export interface Coturn {
  /** `turn:127.0.0.1:P` */
  readonly url: string;
  readonly port: number;
  /** What coturn logged so far (allocations name the username). */
  log(): string;
  stop(): Promise<void>;
}

/** Start `turnserver` (scripts/debian-packages.sh installs coturn) on a free loopback port, relaying on loopback. */
export async function startCoturn(options: { secret: string }): Promise<Coturn> {
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawnTracked(
    'turnserver',
    [
      '-n',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      '--use-auth-secret',
      `--static-auth-secret=${options.secret}`,
      '--realm=burrow',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--allow-loopback-peers',
      '--log-file=stdout',
      '--simple-log',
      '--verbose', // sessions and allocations, with their usernames
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output = (output + d).slice(-200_000)));
  const stop = async (): Promise<void> => {
    unregister();
    await terminate(child, 2_000);
  };
  const unregister = onCleanup(stop);
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`turnserver exited ${child.exitCode}:\n${output}`);
      return /Total General servers|relay 127\.0\.0\.1 initialization done/.test(output);
    },
    { message: 'coturn to start', timeoutMs: 10_000, fatal: (err) => String(err).includes('turnserver exited') },
  );
  return { url: `turn:127.0.0.1:${port}`, port, log: () => output, stop };
}
