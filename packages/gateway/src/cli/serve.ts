/** `burrow serve`: the gateway (wired to startGateway once it lands). */
import type { Flags } from './args.js';
import type { Io } from './common.js';

export async function serve(_flags: Flags, _io: Io, _signal: AbortSignal): Promise<void> {
  throw new Error('serve: the gateway is not built yet');
}
