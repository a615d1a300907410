/**
 * `burrow send`: a text (`--text`), or files and directories (`PATH…`).
 * Between two Burrow peers the paths go in one files-v1 offer (WebRTC when
 * node-datachannel loads, else Transit) and a receiver resumes what an
 * earlier attempt left; to the `wormhole` CLI they go as Transit v1 — one
 * file, one directory, or several paths as one directory.
 */
import { bestEffort } from '@burrow/protocol';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { WormholeError, sendFiles, type SendItem, type TransitOptions } from '@burrow/client';
import { directorySource, fileSource, nodeSha256, nodeTransit } from '@burrow/client/node';
import { DEFAULT_TRANSIT_HELPER, intFlag, UsageError, type Flags } from './args.js';
import { openWormhole, verify, type Io } from './common.js';
import { cliConnect } from './webrtc.js';
import { filesDoneEvent, formatBytes, rate, reporter, transitDoneEvent } from './progress.js';

interface Path {
  kind: 'file' | 'directory';
  path: string;
  name: string;
}

/** Several paths travel to the `wormhole` CLI as one directory of this name. */
export const FALLBACK_NAME = 'burrow-files';

export async function send(flags: Flags, positionals: string[], io: Io, signal: AbortSignal): Promise<void> {
  const text = flags.text;
  if (text !== undefined && positionals.length > 0) throw new UsageError('give either --text or files, not both');
  if (text === undefined && positionals.length === 0) throw new UsageError('nothing to send: give FILEs or DIRECTORYs, or --text TEXT');
  const paths = await checkPaths(positionals);
  const out = reporter(io, flags);

  const w = await openWormhole(flags, signal, { webrtc: text === undefined && flags['no-webrtc'] !== true });
  try {
    if (flags.code !== undefined) w.setCode(flags.code);
    else await w.allocateCode(intFlag(flags['code-length'], 'code-length', 2, 1, 64), { signal });
    const code = await w.code;
    if (text !== undefined) io.stderr.write(`Sending text message (${new TextEncoder().encode(text).length} Bytes)\n`);
    else io.stderr.write(`${await describe(paths)}\n`);
    io.stderr.write(`Wormhole code is: ${code}\nOn the other computer, please run:\n\nwormhole receive ${flags.verify ? '--verify ' : ''}${code}\n\n`);
    out.event({ event: 'code', code });
    await w.verifier;
    if (!(await verify(w, flags, io, signal))) {
      throw new WormholeError('Rejected', 'verification rejected, abandoning transfer', { blame: 'caller' });
    }
    if (text !== undefined) {
      await w.sendText(text, { signal });
      io.stderr.write('text message sent\n');
      out.event({ event: 'done', via: 'mailbox', files: [] });
    } else {
      await sendPaths(w, paths, flags, io, signal);
    }
  } catch (err) {
    await w.close().catch(bestEffort);
    throw err;
  }
  await w.close();
}

async function sendPaths(w: Parameters<typeof sendFiles>[0], paths: Path[], flags: Flags, io: Io, signal: AbortSignal): Promise<void> {
  const out = reporter(io, flags);
  const items: SendItem[] = [];
  for (const p of paths) items.push(p.kind === 'file' ? await fileSource(p.path) : await directorySource(p.path));
  const transit = cliTransit(flags);
  const result = await sendFiles(w, items, {
    signal,
    transit,
    connect: cliConnect(transit),
    createHash: nodeSha256,
    fallbackName: FALLBACK_NAME,
    ...out.progress(),
  });
  if ('files' in result) {
    const resumed = result.bytes - result.moved;
    io.stderr.write(
      `Sent ${result.files.length} file${result.files.length === 1 ? '' : 's'} (${formatBytes(result.bytes)}) in ${rate({ bytes: result.moved, elapsedMs: result.elapsedMs })} via ${result.via} (${result.connection})` +
        `${resumed > 0 ? `; ${formatBytes(resumed)} the receiver already held were not sent again` : ''}.\nTransfer complete.\n`,
    );
    out.event(filesDoneEvent(result));
  } else {
    const only = paths.length === 1 ? paths[0]! : undefined;
    io.stderr.write(`Sent ${formatBytes(result.bytes)} in ${rate(result)} via ${result.connection}.\nConfirmation received. Transfer complete.\n`);
    out.event(transitDoneEvent(result, only?.name ?? FALLBACK_NAME, only?.kind ?? 'directory'));
  }
}

/** Every path exists and is a file or a directory (usage errors name the path). */
async function checkPaths(positionals: string[]): Promise<Path[]> {
  const paths: Path[] = [];
  for (const given of positionals) {
    const path = resolve(given);
    const st = await stat(path).catch(() => undefined);
    if (!st) throw new UsageError(`Cannot send: no file/directory named '${given}'`);
    if (!st.isFile() && !st.isDirectory()) throw new UsageError(`'${given}' is neither file nor directory`);
    paths.push({ kind: st.isFile() ? 'file' : 'directory', path, name: basenameOf(path) });
  }
  return paths;
}

/** `Sending 5.2 MB file named 'a.bin'`, `Sending directory named 'd'`, or `Sending 3 items (2 files, 1 directory)`. */
async function describe(paths: Path[]): Promise<string> {
  if (paths.length === 1) {
    const p = paths[0]!;
    return p.kind === 'file' ? `Sending ${formatBytes((await stat(p.path)).size)} file named '${p.name}'` : `Sending directory named '${p.name}'`;
  }
  const files = paths.filter((p) => p.kind === 'file').length;
  const dirs = paths.length - files;
  const parts = [files > 0 ? `${files} file${files === 1 ? '' : 's'}` : '', dirs > 0 ? `${dirs} director${dirs === 1 ? 'y' : 'ies'}` : ''].filter(Boolean);
  return `Sending ${paths.length} items (${parts.join(', ')}): ${paths.map((p) => `'${p.name}'`).join(' ')}`;
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
