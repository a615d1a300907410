/** Helpers for the agent's socket tests: an echo service, Node WebSockets with an Origin, raw upgrades, a log recorder. */
import { request } from 'node:http';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '@burrow/client';
import { cleanup, type EchoService } from '@burrow/testkit';
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

export { recordingLogger, startEcho, type EchoService } from '@burrow/testkit';

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
