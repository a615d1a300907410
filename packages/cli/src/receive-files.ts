/**
 * `burrow receive` for a files-v1 offer (a Burrow sender): show the list,
 * ask, then receive into the current directory (or `--output-file DIR`)
 * with `nodeFilesSink`. A partial file left there by an earlier attempt —
 * with any code — is proven to the sender and resumed; one that does not
 * match starts again from 0.
 */
import { lstat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { safeText } from '@burrow/protocol';
import { WormholeError, type FilesOffer, type FilesSink, type OfferedFile } from '@burrow/client';
import { nodeFilesSink, nodeSha256 } from '@burrow/client/node';
import type { Flags } from './args.js';
import { confirmOffer, type Io } from './common.js';
import { filesDoneEvent, formatBytes, rate, type Reporter } from './progress.js';

/** How many paths of an offer are listed before "… and N more". */
const LISTED = 10;

export async function receiveFiles(offer: FilesOffer, flags: Flags, io: Io, signal: AbortSignal, out: Reporter): Promise<void> {
  const dest = resolve(flags['output-file'] ?? '.');
  const shown = flags['output-file'] ?? '.';
  const n = offer.files.length;
  const dirs = offer.directories.length;
  io.stderr.write(
    `Receiving ${n} file${n === 1 ? '' : 's'} (${formatBytes(offer.bytes)})${dirs > 0 ? ` and ${dirs} empty director${dirs === 1 ? 'y' : 'ies'}` : ''} into: ${safeText(shown)}/ via ${offer.via}\n`,
  );
  // Paths are the peer's: shown without escape sequences, controls or bidi characters.
  for (const f of offer.files.slice(0, LISTED)) io.stderr.write(`  ${safeText(f.path)} (${formatBytes(f.size)})\n`);
  if (n > LISTED) io.stderr.write(`  … and ${n - LISTED} more\n`);
  out.event({ event: 'offer', files: n, bytes: offer.bytes, directories: dirs, via: offer.via, paths: offer.files.slice(0, LISTED).map((f) => f.path) });

  const taken = await conflicts(dest, offer.files);
  if (taken.length > 0) {
    const what = `refusing to overwrite existing '${safeText(taken[0]!)}'${taken.length > 1 ? ` (and ${taken.length - 1} more)` : ''}`;
    io.stderr.write(`Error: ${what}\n`);
    await offer.reject('transfer rejected');
    throw new WormholeError('Rejected', what, { blame: 'caller' });
  }
  await confirmOffer(offer, flags, io, signal);
  let result;
  try {
    result = await offer.accept(announceResumes(nodeFilesSink(dest), io, out), { signal, createHash: nodeSha256, ...out.progress() });
  } catch (err) {
    if (!out.json && !flags['hide-progress'] && io.stderr.isTTY) io.stderr.write('\n');
    throw err;
  }
  const resumed = result.bytes - result.moved;
  io.stderr.write(
    `Received ${result.files.length} file${result.files.length === 1 ? '' : 's'} (${formatBytes(result.bytes)}) into ${safeText(shown)}/ in ${rate({ bytes: result.moved, elapsedMs: result.elapsedMs })} via ${result.via} (${result.connection})` +
      `${resumed > 0 ? `; resumed: ${formatBytes(resumed)} were already here, ${formatBytes(result.moved)} moved` : ''}\n`,
  );
  out.event(filesDoneEvent(result));
}

/**
 * Offered files whose final name is taken by something else. A regular file
 * of the offered size may be this file, complete from an earlier attempt:
 * the sink offers it as held and the sender's hash decides.
 */
async function conflicts(dest: string, files: readonly OfferedFile[]): Promise<string[]> {
  const taken: string[] = [];
  for (const f of files) {
    const st = await lstat(join(dest, ...f.segments)).catch(() => undefined);
    if (st && !(st.isFile() && st.size === f.size)) taken.push(f.path);
  }
  return taken;
}

/** Say when a file resumes from kept data, or starts again because the kept data did not match. */
function announceResumes(sink: FilesSink, io: Io, out: Reporter): FilesSink {
  return {
    mkdir: (segments) => sink.mkdir(segments),
    async open(file) {
      const partial = await sink.open(file);
      return {
        held: partial.held,
        readHeld: () => partial.readHeld(),
        write: async (from) => {
          if (from > 0) {
            io.stderr.write(`resuming ${safeText(file.path)} from ${formatBytes(from)}\n`);
            out.event({ event: 'resume', path: file.path, from });
          } else if (partial.held > 0) {
            io.stderr.write(`${safeText(file.path)}: the ${formatBytes(partial.held)} kept from before did not match; starting again\n`);
            out.event({ event: 'restart', path: file.path, held: partial.held });
          }
          return partial.write(from);
        },
        commit: () => partial.commit(),
        discard: () => partial.discard(),
      };
    },
  };
}
