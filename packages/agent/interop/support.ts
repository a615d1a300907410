/** Helpers for the agent's socket tests: an echo service, Node WebSockets with an Origin, raw upgrades, a log recorder. */
import { createServer, request, type Server } from 'node:http';
import WebSocket from 'ws';
import type { Logger, WebSocketConstructor } from '@burrow/client';
import { cleanup } from '@burrow/testkit';
import type { AgentWebSocketConstructor } from '../src/client/index.js';
import type { Agent, AgentEvent } from '../src/index.js';

export const EXTENSION_ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';

/** A WebSocket class that sends `origin` (and optional extra headers), like a browser would. */
export function webSocketWithOrigin(origin: string | undefined, headers: Record<string, string> = {}): AgentWebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { ...(origin !== undefined ? { origin } : {}), headers });
    }
  } as unknown as AgentWebSocketConstructor;
}

export const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

export interface EchoService {
  readonly port: number;
  readonly requests: number;
  close(): Promise<void>;
}

/** HTTP echo on 127.0.0.1: answers JSON {method, path, body, header}. `/big?n=N` answers N bytes. */
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

/** Attempt a WebSocket upgrade with exactly these headers; resolves with the HTTP status and body. */
export function rawUpgrade(port: number, headers: Record<string, string>, path = '/v1'): Promise<{ status: number; body: string; refusal: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '', refusal: undefined });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, refusal: res.headers['x-burrow-refusal'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A logger that keeps every line as JSON text, to check what was (not) logged. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(JSON.stringify({ level, message, ...fields }));
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn') };
}

/** A plain GET with exactly these headers. */
export function rawGet(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Record every event `agent` publishes into `events`, until it shuts down. */
export function recordEvents(agent: Agent, events: AgentEvent[]): void {
  void (async () => {
    for await (const e of agent.events()) events.push(e);
  })();
}

/** Shut the agent and the echo service down, then the testkit's servers. */
export async function stopAll(agent: Agent | undefined, echo: EchoService | undefined): Promise<void> {
  await agent?.shutdown();
  await echo?.close();
  await cleanup();
}
