/** Structured logs: one JSON object per line. Callers never pass codes, keys or bodies. */
import type { Logger } from '@burrow/protocol';

export function jsonLogger(out: NodeJS.WritableStream, minLevel: 'debug' | 'info' | 'warn' = 'info'): Logger {
  const levels = ['debug', 'info', 'warn'] as const;
  const min = levels.indexOf(minLevel);
  const write = (level: (typeof levels)[number]) => (message: string, fields?: Record<string, unknown>) => {
    if (levels.indexOf(level) < min) return;
    out.write(`${JSON.stringify({ t: new Date().toISOString(), level, msg: message, ...fields })}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn') };
}
