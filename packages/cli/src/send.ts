/** `burrow send`: a text (`--text`), a file or a directory, like `wormhole send`. */
import { bestEffort } from '@burrow/protocol';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { WormholeError, sendDirectory, sendFile, type TransferProgress, type TransitOptions } from '@burrow/client';
import { directorySource, fileSource, nodeSha256, nodeTransit } from '@burrow/client/node';
import { DEFAULT_TRANSIT_HELPER, intFlag, UsageError, type Flags } from './args.js';
import { openWormhole, verify, type Io } from './common.js';

export async function send(flags: Flags, positionals: string[], io: Io, signal: AbortSignal): Promise<void> {
  const text = flags.text;
  if (text !== undefined && positionals.length > 0) throw new UsageError('give either --text or a file, not both');
  if (text === undefined && positionals.length === 0) throw new UsageError('nothing to send: give a FILE or DIRECTORY, or --text TEXT');
  if (positionals.length > 1) throw new UsageError('send takes one FILE or DIRECTORY');

  let what: { kind: 'file' | 'directory'; path: string; size: number } | undefined;
  if (text === undefined) {
    const path = resolve(positionals[0]!);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new UsageError(`Cannot send: no file/directory named '${positionals[0]}'`);
    if (st.isFile()) what = { kind: 'file', path, size: st.size };
    else if (st.isDirectory()) what = { kind: 'directory', path, size: 0 };
    else throw new UsageError(`'${positionals[0]}' is neither file nor directory`);
  }

  const w = await openWormhole(flags, signal);
  try {
    if (flags.code !== undefined) w.setCode(flags.code);
    else await w.allocateCode(intFlag(flags['code-length'], 'code-length', 2, 1, 64), { signal });
    const code = await w.code;
    if (text !== undefined) io.stderr.write(`Sending text message (${new TextEncoder().encode(text).length} Bytes)\n`);
    else if (what!.kind === 'file') io.stderr.write(`Sending ${formatBytes(what!.size)} file named '${basenameOf(what!.path)}'\n`);
    else io.stderr.write(`Sending directory named '${basenameOf(what!.path)}'\n`);
    io.stderr.write(`Wormhole code is: ${code}\nOn the other computer, please run:\n\nwormhole receive ${flags.verify ? '--verify ' : ''}${code}\n\n`);
    await w.verifier;
    if (!(await verify(w, flags, io, signal))) {
      throw new WormholeError('Rejected', 'verification rejected, abandoning transfer', { blame: 'caller' });
    }
    if (text !== undefined) {
      await w.sendText(text, { signal });
      io.stderr.write('text message sent\n');
    } else {
      const options = {
        signal,
        transit: cliTransit(flags),
        createHash: nodeSha256,
        ...(flags['hide-progress'] ? {} : { onProgress: progressBar(io) }),
      };
      const result =
        what!.kind === 'file'
          ? await sendFile(w, await fileSource(what!.path), options)
          : await sendDirectory(w, await directorySource(what!.path), options);
      io.stderr.write(`Sent ${formatBytes(result.bytes)} in ${rate(result)} via ${result.connection}.\nConfirmation received. Transfer complete.\n`);
    }
  } catch (err) {
    await w.close().catch(bestEffort);
    throw err;
  }
  await w.close();
}

/** Transit options from the command line: `--transit-helper`, `--no-listen`. */
export function cliTransit(flags: Flags): TransitOptions {
  const helper = flags['transit-helper'] ?? process.env['BURROW_TRANSIT_HELPER'] ?? DEFAULT_TRANSIT_HELPER;
  try {
    return nodeTransit({ relays: helper === '' ? [] : [helper], noListen: flags['no-listen'] === true });
  } catch (err) {
    throw new UsageError(`--transit-helper: ${(err as Error).message}`);
  }
}

function basenameOf(path: string): string {
  return path.replace(/\/+$/, '').split('/').pop() ?? path;
}

/** `52.4 MB`, like `humanize.naturalsize`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} Bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** `2.31 s (45.4 MB/s)` */
export function rate(r: { bytes: number; elapsedMs: number }): string {
  const s = r.elapsedMs / 1000;
  return `${s.toFixed(2)} s (${s > 0 ? (r.bytes / 1e6 / s).toFixed(1) : '∞'} MB/s)`;
}

/** A one-line progress bar on stderr, redrawn in place. */
export function progressBar(io: Io): (p: TransferProgress) => void {
  const width = 30;
  return (p) => {
    const frac = p.total > 0 ? Math.min(1, p.bytes / p.total) : 1;
    const filled = Math.round(frac * width);
    const bar = `${'#'.repeat(filled)}${' '.repeat(width - filled)}`;
    const line = `${String(Math.floor(frac * 100)).padStart(3)}%|${bar}| ${formatBytes(p.bytes)}/${formatBytes(p.total)} ${formatBytes(Math.round(p.bytesPerSecond))}/s`;
    io.stderr.write(`\r${line}${p.done ? '\n' : ''}`);
  };
}
