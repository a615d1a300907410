// The local agent over real sockets on 127.0.0.1: pairing by code through
// Debian's mailbox server, reconnecting from the stored secret, forwarding to
// an allowlisted echo service, and every refusal the agent must make.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { assertPrivateNetwork, startMailboxServer, waitFor, withTimeout, type MailboxServer } from '@burrow/testkit';
import { isWormholeError, toHex } from '@burrow/protocol';
import { Pairings, loadIdentity, memoryStore, type KeyValueStore } from '@burrow/store';
import { fileStore } from '@burrow/store/file';
import { startAgent, type Agent, type AgentEvent } from '../src/index.js';
import { connectAgent, pairWithAgent, type AgentSession } from '../src/client/index.js';
import { EXTENSION_ORIGIN, NodeWebSocket, rawGet, rawUpgrade, recordEvents, recordingLogger, startEcho, stopAll, webSocketWithOrigin, type EchoService } from './support.js';

const ExtensionWebSocket = webSocketWithOrigin(EXTENSION_ORIGIN);
const OTHER_EXTENSION = 'chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba';

async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isWormholeError(err), `expected a WormholeError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  return err as Error;
}

describe('local agent', () => {
  let mailbox: MailboxServer;
  let echo: EchoService;
  let agent: Agent;
  let agentStore: KeyValueStore;
  let clientStore: KeyValueStore;
  let code = '';
  const logger = recordingLogger();
  const events: AgentEvent[] = [];

  async function pairNewClient(store: KeyValueStore, name: string, origin = EXTENSION_ORIGIN) {
    const offer = agent.pair();
    const c = await offer.code;
    const [clientSide, agentSide] = await Promise.all([
      pairWithAgent({ mailbox: mailbox.url, code: c, store, name, origin, WebSocket: NodeWebSocket }),
      offer.paired,
    ]);
    return { code: c, clientSide, agentSide };
  }

  beforeAll(async () => {
    assertPrivateNetwork();
    [mailbox, echo] = await Promise.all([startMailboxServer(), startEcho()]);
    agentStore = memoryStore();
    clientStore = memoryStore();
    agent = await startAgent({
      store: agentStore,
      port: 0,
      allowOrigins: [EXTENSION_ORIGIN, OTHER_EXTENSION],
      allowForward: [`127.0.0.1:${echo.port}`, `localhost:${echo.port}`],
      mailbox: mailbox.url,
      name: 'Test agent',
      logger,
      methods: { add: (params) => Number(params['a']) + Number(params['b']) },
    });
    recordEvents(agent, events);
  });

  afterAll(() => stopAll(agent, echo));

  it('pairs by code through the mailbox server: both sides keep the same secret, listed without it', async () => {
    const paired = await pairNewClient(clientStore, 'Test extension');
    code = paired.code;
    expect(paired.clientSide).toMatchObject({ id: agent.id, name: 'Test agent', peerRole: 'agent', endpoint: agent.url });
    expect(paired.agentSide).toMatchObject({ name: 'Test extension', peerRole: 'client', origin: EXTENSION_ORIGIN });
    const clientId = await loadIdentity(clientStore);
    expect(paired.agentSide.id).toBe(clientId);
    const agentSecret = await new Pairings(agentStore).secret(clientId);
    const clientSecret = await new Pairings(clientStore).secret(agent.id);
    expect(agentSecret).toHaveLength(32);
    expect(toHex(clientSecret!)).toBe(toHex(agentSecret!));
    const listed = JSON.stringify([await agent.pairings.list(), await new Pairings(clientStore).list()]);
    expect(listed).not.toContain(toHex(agentSecret!));
    expect(listed).not.toContain('secret');
    await waitFor(() => events.some((e) => e.type === 'paired'));
  });

  it('reconnects with no code and fetches from an allowlisted echo service (one stream per call)', async () => {
    const session = await connectAgent({ store: clientStore, WebSocket: ExtensionWebSocket });
    try {
      expect(session.agent.id).toBe(agent.id);
      const info = (await session.call('info')) as Record<string, unknown>;
      expect(info).toMatchObject({ id: agent.id, name: 'Test agent', forward: [`127.0.0.1:${echo.port}`, `localhost:${echo.port}`] });
      const sums = await Promise.all([1, 2, 3].map((n) => session.call('add', { a: n, b: 10 })));
      expect(sums).toEqual([11, 12, 13]);
      const res = await session.fetch(`http://127.0.0.1:${echo.port}/echo?x=1`, { method: 'POST', body: 'hello agent', headers: { 'x-echo': 'yes' } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ method: 'POST', path: '/echo?x=1', body: 'hello agent', header: 'yes' });
      // A name, resolved by the agent.
      const byName = await session.fetch(`http://localhost:${echo.port}/by-name`);
      expect(((await byName.json()) as { path: string }).path).toBe('/by-name');
      // A bigger body, with backpressure through the mux.
      const big = await session.fetch(`http://127.0.0.1:${echo.port}/big?n=3000000`);
      expect((await big.arrayBuffer()).byteLength).toBe(3_000_000);
      expect(agent.status().sessions.map((s) => s.name)).toContain('Test extension');
    } finally {
      await session.close();
    }
  });

  it('refuses a web page origin before the WebSocket opens, and logs it', async () => {
    const before = events.length;
    const raw = await rawUpgrade(agent.port, { host: `127.0.0.1:${agent.port}`, origin: 'http://127.0.0.1:8000' });
    expect(raw.status).toBe(403);
    expect(raw.refusal).toBe('origin');
    expect(raw.body).toContain("origin 'http://127.0.0.1:8000' is not allowed");
    // No Origin: not a browser but a local app; it gets to the handshake, where only pairings made without an origin may go on.
    const noOrigin = await rawUpgrade(agent.port, { host: `127.0.0.1:${agent.port}` });
    expect(noOrigin.status).toBe(101);
    await expectCode(connectAgent({ store: clientStore, WebSocket: webSocketWithOrigin(undefined) }), 'NotAllowed');
    const err = await expectCode(connectAgent({ store: clientStore, WebSocket: webSocketWithOrigin('https://evil.example') }), 'Connection');
    expect(err.message).toContain('refused this origin');
    expect(events.slice(before).filter((e) => e.type === 'refused' && e.reason === 'origin')).toHaveLength(3);
    expect(logger.lines.some((l) => l.includes('agent.refused') && l.includes('https://evil.example'))).toBe(true);
  });

  it('refuses a DNS-rebinding Host header, on upgrades and plain requests', async () => {
    const raw = await rawUpgrade(agent.port, { host: `attacker.example:${agent.port}`, origin: EXTENSION_ORIGIN });
    expect(raw.status).toBe(403);
    expect(raw.refusal).toBe('host');
    expect(raw.body).toContain("Host 'attacker.example:");
    expect(raw.body).toContain('DNS-rebinding');
    const wrongPort = await rawUpgrade(agent.port, { host: '127.0.0.1:1', origin: EXTENSION_ORIGIN });
    expect(wrongPort.status).toBe(403);
    const ok = await rawUpgrade(agent.port, { host: `localhost:${agent.port}`, origin: EXTENSION_ORIGIN });
    expect(ok.status).toBe(101);
    const plain = await rawGet(agent.port, { host: `rebind.example:${agent.port}` });
    expect(plain.status).toBe(403);
    expect(plain.body).toContain("Host 'rebind.example:");
    expect((await rawGet(agent.port, { host: `127.0.0.1:${agent.port}` })).status).toBe(426);
    expect(events.some((e) => e.type === 'refused' && e.reason === 'host')).toBe(true);
  });

  it('refuses an unpaired key, and a client that cannot prove the pairing', async () => {
    const stranger = memoryStore();
    await new Pairings(stranger).add({ id: agent.id, name: 'Test agent', peerRole: 'agent', endpoint: agent.url }, crypto.getRandomValues(new Uint8Array(32)));
    const err = await expectCode(connectAgent({ store: stranger, WebSocket: ExtensionWebSocket }), 'Unpaired');
    expect(err.message).toContain('not paired');

    // A client that knows a paired identity but not its secret: the agent proves first, the client's proof fails.
    const clientId = await loadIdentity(clientStore);
    const ws = new ExtensionWebSocket(agent.url) as unknown as WebSocket;
    const messages: string[] = [];
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (c, r) => resolve({ code: c, reason: r.toString() })));
    ws.on('message', (data) => {
      messages.push(data.toString());
      if (messages.length === 1) ws.send(JSON.stringify({ type: 'proof', proof: 'ab'.repeat(32) }));
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'hello', v: 1, id: clientId, nonce: '11'.repeat(32) }));
    expect((await closed).code).toBe(4001);
    expect(JSON.parse(messages[0]!)).toMatchObject({ type: 'challenge', id: agent.id });
    expect(JSON.parse(messages[1]!)).toEqual({ type: 'error', code: 'Unpaired', message: 'the client could not prove the pairing key' });
    expect(events.some((e) => e.type === 'refused' && e.reason === 'proof')).toBe(true);
  });

  it('refuses a pairing used from another (even allowlisted) origin than the one that paired', async () => {
    const err = await expectCode(connectAgent({ store: clientStore, WebSocket: webSocketWithOrigin(OTHER_EXTENSION) }), 'NotAllowed');
    expect(err.message).toBe(`this pairing belongs to origin '${EXTENSION_ORIGIN}', not '${OTHER_EXTENSION}'`);
  });

  it('does not take a squatter on the agent port for the agent', async () => {
    const impostor = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    impostor.on('connection', (ws) =>
      ws.on('message', () => ws.send(JSON.stringify({ type: 'challenge', id: agent.id, nonce: '22'.repeat(32), proof: '33'.repeat(32) }))),
    );
    await new Promise((r) => impostor.once('listening', r));
    const port = (impostor.address() as { port: number }).port;
    const err = await expectCode(connectAgent({ store: clientStore, url: `ws://127.0.0.1:${port}/v1`, WebSocket: ExtensionWebSocket }), 'Unpaired');
    expect(err.message).toContain('not the agent you paired with');
    expect((err as unknown as { blame: string }).blame).toBe('peer');
    await new Promise((r) => impostor.close(r));
  });

  it('refuses a destination that is not allowlisted, and logs the refusal', async () => {
    const session = await connectAgent({ store: clientStore, WebSocket: ExtensionWebSocket });
    try {
      const err = await expectCode(session.forward('127.0.0.1:22'), 'NotAllowed');
      expect(err.message).toContain('forwarding to 127.0.0.1:22 is not allowed');
      await expectCode(session.fetch(`http://127.0.0.1:${echo.port + 1}/`), 'NotAllowed');
      await expectCode(session.forward('[::1]:' + echo.port), 'NotAllowed'); // an address is not the allowlisted name
      expect(logger.lines.filter((l) => l.includes('agent.refused') && l.includes('"reason":"destination"')).length).toBeGreaterThanOrEqual(3);
      // The session survives a refused call.
      expect(await session.call('add', { a: 1, b: 1 })).toBe(2);
    } finally {
      await session.close();
    }
  });

  it('serves the embedding surface: status, connect, events; the agent can open streams to the client', async () => {
    const session = await connectAgent({ store: clientStore, WebSocket: ExtensionWebSocket });
    const clientId = await loadIdentity(clientStore);
    await waitFor(() => agent.status().sessions.length === 1, { message: 'the previous session to end' });
    const conn = await agent.connect(clientId, { signal: AbortSignal.timeout(5000) });
    const stream = await conn.openStream();
    const writer = stream.writable.getWriter();
    await writer.write(new TextEncoder().encode('from the agent'));
    await writer.close();
    const incoming = await withTimeout(session.connection.incoming[Symbol.asyncIterator]().next(), 5000, 'the stream the agent opened');
    const reader = incoming.value!.readable.getReader();
    const got = await reader.read();
    expect(new TextDecoder().decode(got.value)).toBe('from the agent');
    expect(agent.status()).toMatchObject({ state: 'running', id: agent.id, url: agent.url, allowOrigins: [EXTENSION_ORIGIN, OTHER_EXTENSION] });
    expect(events.some((e) => e.type === 'connected' && e.origin === EXTENSION_ORIGIN)).toBe(true);
    await session.close();
    await waitFor(() => agent.status().sessions.length === 0);
  });

  it('refuses a revoked key, and revocation drops an open connection and its forwards at once', async () => {
    const store = memoryStore();
    const { agentSide } = await pairNewClient(store, 'Doomed extension');
    const session: AgentSession = await connectAgent({ store, WebSocket: ExtensionWebSocket });
    const closed = session.closed.then(
      () => 'clean',
      (e: unknown) => e,
    );
    // A long-lived forward: the echo service sends a first part and never ends.
    const res = await session.fetch(`http://127.0.0.1:${echo.port}/slow`);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first part\n');
    const pending = reader.read().then(
      () => 'data',
      (e: unknown) => e,
    );
    const t0 = performance.now();
    expect(await agent.pairings.revoke(agentSide.id)).toBe(true);
    const err = await closed;
    expect(isWormholeError(err, 'Revoked'), String(err)).toBe(true);
    expect(isWormholeError(await pending, 'Revoked')).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2000);
    await expectCode(session.call('info'), 'Revoked');
    const again = await expectCode(connectAgent({ store, WebSocket: ExtensionWebSocket }), 'Revoked');
    expect(again.message).toContain("'Doomed extension' was revoked");
    expect((await agent.pairings.get(agentSide.id))?.revokedAt).toBeTypeOf('number');
    expect(await new Pairings(agentStore).secret(agentSide.id)).toBeUndefined();
    expect(events.some((e) => e.type === 'revoked' && e.pairingId === agentSide.id && e.dropped === 1)).toBe(true);
  });

  it('refuses pairing a client whose origin is not allowlisted', async () => {
    const offer = agent.pair();
    const c = await offer.code;
    const [client, agentSide] = await Promise.allSettled([
      pairWithAgent({ mailbox: mailbox.url, code: c, store: memoryStore(), name: 'Web page', origin: 'https://evil.example', WebSocket: NodeWebSocket }),
      offer.paired,
    ]);
    expect(client.status).toBe('rejected');
    expect(isWormholeError((client as PromiseRejectedResult).reason, 'NotAllowed')).toBe(true);
    expect(String((client as PromiseRejectedResult).reason.message)).toContain("origin 'https://evil.example' is not allowed");
    expect(agentSide.status).toBe('rejected');
    expect((await agent.pairings.list()).map((p) => p.name)).not.toContain('Web page');
  });

  it('logs and publishes nothing secret: no code, no pairing secret, no nonce or proof', async () => {
    const secrets: string[] = [code];
    for (const p of await agent.pairings.list()) {
      const s = await new Pairings(agentStore).secret(p.id);
      if (s) secrets.push(toHex(s));
    }
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    const text = logger.lines.join('\n') + JSON.stringify(events);
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).not.toMatch(/[0-9a-f]{64}/); // no 32-byte value of any kind
    expect(logger.lines.length).toBeGreaterThan(10);
  });
});

describe('local agent with a file store shared by two processes', () => {
  it('drops an open connection when another process revokes the pairing', async () => {
    assertPrivateNetwork();
    const dir = mkdtempSync(join(tmpdir(), 'burrow-agent-'));
    const mailbox = await startMailboxServer();
    const agent = await startAgent({ store: fileStore(dir), port: 0, allowOrigins: [EXTENSION_ORIGIN], mailbox: mailbox.url });
    try {
      const store = memoryStore();
      const offer = agent.pair();
      const [pairing] = await Promise.all([offer.paired, pairWithAgent({ mailbox: mailbox.url, code: await offer.code, store, name: 'Shared', origin: EXTENSION_ORIGIN, WebSocket: NodeWebSocket })]);
      const session = await connectAgent({ store, WebSocket: ExtensionWebSocket });
      const closed = session.closed.then(
        () => 'clean',
        (e: unknown) => e,
      );
      // "Another process": a separate store handle on the same directory, as `burrow agent revoke` uses.
      await new Pairings(fileStore(dir)).revoke(pairing.id);
      expect(isWormholeError(await closed, 'Revoked')).toBe(true);
    } finally {
      await agent.shutdown();
      await mailbox.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('agent shutdown', () => {
  it('closes open sessions cleanly, ends the events, and stops listening', async () => {
    assertPrivateNetwork();
    const mailbox = await startMailboxServer();
    const agent = await startAgent({ store: memoryStore(), port: 0, allowOrigins: [EXTENSION_ORIGIN], mailbox: mailbox.url });
    try {
      const seen: string[] = [];
      const done = (async () => {
        for await (const e of agent.events()) seen.push(e.type);
      })();
      const store = memoryStore();
      const offer = agent.pair();
      await Promise.all([offer.paired, pairWithAgent({ mailbox: mailbox.url, code: await offer.code, store, name: 'Client', origin: EXTENSION_ORIGIN, WebSocket: NodeWebSocket })]);
      const session = await connectAgent({ store, WebSocket: ExtensionWebSocket });
      const pending = agent.pair(); // a pairing offer nobody answers is cancelled too
      await pending.code;
      await agent.shutdown();
      await expect(session.closed).resolves.toBeUndefined();
      await expect(pending.paired).rejects.toBeDefined();
      await done;
      expect(seen).toEqual(['paired', 'connected', 'disconnected', 'shutdown']);
      expect(agent.status().state).toBe('stopped');
      await expectCode(connectAgent({ store, WebSocket: ExtensionWebSocket, handshakeTimeoutMs: 3000 }), 'Connection');
      await agent.closed;
    } finally {
      await agent.shutdown();
      await mailbox.stop();
    }
  });
});
