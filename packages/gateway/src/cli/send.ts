/** `burrow send`: text (and, with the transfer module, files and directories). */
import { WormholeError } from '@burrow/client';
import { intFlag, UsageError, type Flags } from './args.js';
import { openWormhole, verify, type Io } from './common.js';

export async function send(flags: Flags, positionals: string[], io: Io, signal: AbortSignal): Promise<void> {
  const text = flags.text;
  if (text === undefined) throw new UsageError('nothing to send: use --text TEXT');
  if (positionals.length > 0) throw new UsageError('give either --text or a file, not both');
  const w = await openWormhole(flags, signal);
  try {
    if (flags.code !== undefined) w.setCode(flags.code);
    else await w.allocateCode(intFlag(flags['code-length'], 'code-length', 2, 1, 64), { signal });
    const code = await w.code;
    io.stderr.write(`Sending text message (${new TextEncoder().encode(text).length} Bytes)\n`);
    io.stderr.write(`Wormhole code is: ${code}\nOn the other computer, please run:\n\nwormhole receive ${flags.verify ? '--verify ' : ''}${code}\n\n`);
    await w.verifier;
    if (!(await verify(w, flags, io, signal))) {
      throw new WormholeError('Rejected', 'verification rejected, abandoning transfer', { blame: 'caller' });
    }
    await w.sendText(text, { signal });
    io.stderr.write('text message sent\n');
  } catch (err) {
    await w.close().catch(() => {});
    throw err;
  }
  await w.close();
}
