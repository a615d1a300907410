/** `burrow send`: a text (`--text`), a file or a directory, like `wormhole send`. */
import { bestEffort } from '@burrow/protocol';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { WormholeError, sendDirectory, sendFile, type TransitOptions } from '@burrow/client';
import { directorySource, fileSource, nodeSha256, nodeTransit } from '@burrow/client/node';
import { DEFAULT_TRANSIT_HELPER, intFlag, UsageError, type Flags } from './args.js';
import { openWormhole, verify, type Io } from './common.js';
import { formatBytes, progressBar, rate } from './progress.js';

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
        ...progressBar(io.stderr, flags['hide-progress']),
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
