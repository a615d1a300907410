// The attacks of issue 16 against the agent's WebSocket, each re-run while a
// paired client keeps using the agent: upgrades without a key, a request
// line `new URL` cannot parse, silent sockets with a forged Origin, a
// pairing used from the wrong origin. After each: a 101 upgrade, a forward,
// and the agent still running with its slots given back.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@burrow/testkit';
import { Pairings, loadIdentity, memoryStore, type KeyValueStore } from '@burrow/store';
import { startAgent, type Agent, type AgentEvent } from '../src/index.js';
import { connectAgent } from '../src/client/index.js';
import { EXTENSION_ORIGIN, rawUpgrade, recordEvents, startEcho, stopAll, webSocketWithOrigin, type EchoService } from '../interop/support.js';

const ExtensionWebSocket = webSocketWithOrigin(EXTENSION_ORIGIN);
const LocalAppWebSocket = webSocketWithOrigin(undefined);

/** Store one pairing on both sides, as pair-v1 would have. */
async function pairDirectly(agent: Agent, agentStore: KeyValueStore, name: string, origin: string | undefined): Promise<KeyValueStore> {
  const clientStore = memoryStore();
  const clientId = await loadIdentity(clientStore);
  const secret = crypto.getRandomValues(new Uint8Array(32));
  await new Pairings(agentStore).add({ id: clientId, name, peerRole: 'client', ...(origin !== undefined ? { origin } : {}) }, secret);
  await new Pairings(clientStore).add({ id: agent.id, name: 'Agent', peerRole: 'agent', endpoint: agent.url }, secret);
  return clientStore;
}

/** Raw bytes to the agent's port; resolves with everything it answered once it closed (or after `until` matched). */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (got += c));
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

/** A socket that completes a valid upgrade with `origin` and then says nothing. */
function silentSocket(port: number, origin: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(
        `GET /v1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${origin}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      ),
    );
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('data', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

describe('the agent under attack keeps serving its paired client', () => {
  let echo: EchoService;
  let agent: Agent;
  let agentStore: KeyValueStore;
  let clientStore: KeyValueStore;
  const events: AgentEvent[] = [];

  /** What a paired client must still get: a 101 upgrade, then an authenticated session and a forward. */
  async function stillServes(): Promise<void> {
    expect((await rawUpgrade(agent.port, { host: `127.0.0.1:${agent.port}`, origin: EXTENSION_ORIGIN })).status).toBe(101);
    const session = await connectAgent({ store: clientStore, WebSocket: ExtensionWebSocket, handshakeTimeoutMs: 5000 });
    try {
      const res = await session.fetch(`http://127.0.0.1:${echo.port}/still`);
      expect(((await res.json()) as { path: string }).path).toBe('/still');
    } finally {
      await session.close();
    }
    expect(agent.status().state).toBe('running');
  }

  beforeAll(async () => {
    echo = await startEcho();
    agentStore = memoryStore();
    agent = await startAgent({ store: agentStore, port: 0, allowOrigins: [EXTENSION_ORIGIN], allowForward: [`127.0.0.1:${echo.port}`], handshakeTimeoutMs: 1000 });
    recordEvents(agent, events);
    clientStore = await pairDirectly(agent, agentStore, 'Extension', EXTENSION_ORIGIN);
  });
  afterAll(() => stopAll(agent, echo));

  it('upgrades with an allowed Origin and Host but no Sec-WebSocket-Key take no slot for good', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, () =>
        rawRequest(agent.port, `GET /v1 HTTP/1.1\r\nHost: 127.0.0.1:${agent.port}\r\nOrigin: ${EXTENSION_ORIGIN}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n`),
      ),
    );
    for (const a of answers) expect(a).toMatch(/^HTTP\/1\.1 400 /);
    await stillServes();
  });

  it('a request line `new URL` cannot parse is refused, and the agent lives on', async () => {
    for (const target of ['http://[/v1', 'http://127.0.0.1/v1', '*', '//[/v1']) {
      const answer = await rawRequest(
        agent.port,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${agent.port}\r\nOrigin: ${EXTENSION_ORIGIN}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
      expect(answer, target).toMatch(/^HTTP\/1\.1 (400|404) /);
    }
    await stillServes();
  });

  it('silent sockets with a forged Origin cannot keep the paired client out, and are closed after the pre-auth timeout', async () => {
    const silent = await Promise.all(Array.from({ length: 40 }, () => silentSocket(agent.port, EXTENSION_ORIGIN)));
    // More keep coming while the client connects.
    let flooding = true;
    const flood = (async () => {
      const more: Socket[] = [];
      while (flooding) more.push((await silentSocket(agent.port, EXTENSION_ORIGIN)).socket);
      for (const s of more) s.destroy();
    })();
    try {
      await stillServes();
    } finally {
      flooding = false;
      await flood;
    }
    // Every silent socket is closed by the agent: evicted for a newcomer, or after the pre-auth timeout.
    await Promise.all(silent.map((s) => s.closed));
    await waitFor(() => agent.status().sessions.length === 0);
    expect(events.some((e) => e.type === 'refused' && e.reason === 'limit')).toBe(true);
    await stillServes();
  });

  it('binds a pairing to its origin: one made without an origin is for local apps (no Origin) only', async () => {
    const localApp = await pairDirectly(agent, agentStore, 'Local app', undefined);
    await expect(connectAgent({ store: localApp, WebSocket: ExtensionWebSocket })).rejects.toMatchObject({ code: 'NotAllowed' });
    const session = await connectAgent({ store: localApp, WebSocket: LocalAppWebSocket });
    expect(await session.call('info')).toMatchObject({ id: agent.id });
    await session.close();
    // And the extension's pairing is refused without its Origin.
    await expect(connectAgent({ store: clientStore, WebSocket: LocalAppWebSocket })).rejects.toMatchObject({ code: 'NotAllowed' });
    await stillServes();
  });
});
