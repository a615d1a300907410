/** Small local services for tests: an HTTP echo, and a logger that records every line. */
import { createServer, type Server } from 'node:http';

export interface EchoService {
  readonly port: number;
  readonly requests: number;
  close(): Promise<void>;
}

/** HTTP echo on 127.0.0.1: answers JSON {method, path, body, header}. `/big?n=N` answers N bytes; `/slow` never ends. */
export async function startEcho(): Promise<EchoService> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/big') {
        const n = Number(url.searchParams.get('n') ?? '0');
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
        res.end(Buffer.alloc(n, 7));
        return;
      }
      if (url.pathname === '/slow') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part\n');
        return; // never ends: a long-lived forward
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, path: req.url, body: Buffer.concat(chunks).toString('utf8'), header: req.headers['x-echo'] ?? null }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return {
    port: address.port,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

type LogFn = (message: string, fields?: Record<string, unknown>) => void;

/** A logger (Burrow's `Logger` shape) that keeps every line as JSON text, to check what was (not) logged. */
export function recordingLogger(): { lines: string[]; debug: LogFn; info: LogFn; warn: LogFn } {
  const lines: string[] = [];
  const write = (level: string): LogFn => (message, fields) => void lines.push(JSON.stringify({ level, message, ...fields }));
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn') };
}
