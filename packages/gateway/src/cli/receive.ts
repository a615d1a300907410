/** `burrow receive [CODE]`: text (and, with the transfer module, files and directories). */
import { UsageError, type Flags } from './args.js';
import { ask, openWormhole, verify, type Io } from './common.js';
import { WormholeError } from '@burrow/client';

export async function receive(flags: Flags, positionals: string[], io: Io, signal: AbortSignal): Promise<void> {
  if (positionals.length > 1) throw new UsageError('receive takes at most one code');
  const code = positionals[0] ?? flags.code ?? (await ask(io, 'Enter receive wormhole code: ', signal));
  const w = await openWormhole(flags, signal);
  try {
    w.setCode(code);
    await w.verifier;
    if (!(await verify(w, flags, io, signal))) {
      throw new WormholeError('Rejected', 'verification rejected, abandoning transfer', { blame: 'caller' });
    }
    const text = await w.receiveText({ signal });
    io.stdout.write(`${text}\n`);
  } catch (err) {
    await w.close().catch(() => {});
    throw err;
  }
  await w.close();
}
