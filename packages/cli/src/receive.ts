/**
 * `burrow receive [CODE]`: a text, a file or a directory, like `wormhole
 * receive`; or a Burrow sender's files-v1 offer (receive-files.ts).
 */
import { bestEffort, safeText } from '@burrow/protocol';
import { lstat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { DEFAULT_APPID, WormholeError, receiveOffer, type FileOffer, type DirectoryOffer } from '@burrow/client';
import { directorySink, fileSink, nodeSha256 } from '@burrow/client/node';
import { UsageError, type Flags } from './args.js';
import { inputCode, nameplateLister } from './code-input.js';
import { confirmOffer, mailboxUrl, openWormhole, verify, type Io } from './common.js';
import { formatBytes, rate, reporter, transitDoneEvent, type Reporter } from './progress.js';
import { cliTransit } from './send.js';
import { cliConnect } from './webrtc.js';

export async function receive(flags: Flags, positionals: string[], io: Io, signal: AbortSignal): Promise<void> {
  if (positionals.length > 1) throw new UsageError('receive takes at most one code');
  const transit = cliTransit(flags);
  const code =
    positionals[0] ?? flags.code ?? (await inputCode(io, nameplateLister(mailboxUrl(flags), flags.appid ?? DEFAULT_APPID), signal));
  const out = reporter(io, flags);
  const w = await openWormhole(flags, signal, { webrtc: flags['no-webrtc'] !== true });
  try {
    w.setCode(code);
    await w.verifier;
    if (!(await verify(w, flags, io, signal))) {
      throw new WormholeError('Rejected', 'verification rejected, abandoning transfer', { blame: 'caller' });
    }
    const offer = await receiveOffer(w, { signal, transit, connect: cliConnect(transit) });
    if (offer.type === 'message') {
      // The text is the peer's: shown without escape sequences, controls or bidi characters (JSON escapes it itself).
      if (out.json) out.event({ event: 'done', via: 'mailbox', text: offer.message, files: [] });
      else io.stdout.write(`${safeText(offer.message, { multiline: true })}\n`);
    } else if (offer.type === 'files') {
      await (await import('./receive-files.js')).receiveFiles(offer, flags, io, signal, out);
    } else {
      await receiveBulk(offer, flags, io, signal, out);
    }
  } catch (err) {
    await w.close().catch(bestEffort);
    throw err;
  }
  await w.close();
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

async function receiveBulk(offer: FileOffer | DirectoryOffer, flags: Flags, io: Io, signal: AbortSignal, out: Reporter): Promise<void> {
  // The offered name is reduced to its last component; --output-file may choose another place.
  const dest = resolve(flags['output-file'] ?? offer.name);
  const shown = basename(dest);
  if (await exists(dest)) {
    io.stderr.write(`Error: refusing to overwrite existing '${flags['output-file'] ?? offer.name}'\n`);
    await offer.reject('transfer rejected');
    throw new WormholeError('Rejected', `refusing to overwrite existing '${shown}'`, { blame: 'caller' });
  }
  if (offer.type === 'file') {
    io.stderr.write(`Receiving file (${formatBytes(offer.size)}) into: ${shown}\n`);
  } else {
    io.stderr.write(`Receiving directory (${formatBytes(offer.zipSize)}) into: ${shown}/\n`);
    io.stderr.write(`${offer.numFiles} files, ${formatBytes(offer.numBytes)} (uncompressed)\n`);
  }
  await confirmOffer(offer, flags, io, signal);
  const options = {
    signal,
    createHash: nodeSha256,
    ...out.progress(),
  };
  let result;
  try {
    result = offer.type === 'file' ? await offer.accept(await fileSink(dest), options) : await offer.accept(await directorySink(dest), options);
  } catch (err) {
    if (!out.json && !flags['hide-progress'] && io.stderr.isTTY) io.stderr.write('\n');
    throw err;
  }
  io.stderr.write(
    offer.type === 'file'
      ? `Received file written to ${shown} in ${rate(result)} via ${result.connection}\n`
      : `Received files written to ${shown}/ in ${rate(result)} via ${result.connection}\n`,
  );
  out.event(transitDoneEvent(result, shown, offer.type));
}
