// remote-v1 over real sockets in a private netns: a paired Node client that
// cannot reach the agent's 127.0.0.1 endpoint meets it through Debian's
// mailbox server with no code (a rendezvous derived from the pairing
// secret), connects over WebRTC (node-datachannel, loopback only), fetches
// from an allowlisted echo service through the agent; revocation drops the
// session at once and a revoked pairing gets nothing.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertPrivateNetwork, freePort, startMailboxServer, startTransitRelay, waitFor, type MailboxServer } from '@burrow/testkit';
import { createWormhole, isWormholeError, type RTCPeerConnectionConstructor } from '@burrow/client';
import { Pairings, loadIdentity, memoryStore, type KeyValueStore } from '@burrow/store';
import { startAgent, type Agent, type AgentEvent } from '../src/index.js';
import { REMOTE_APPID, connectAgent, pairWithAgent, rendezvous, rendezvousWindow, type RemoteConnectOptions } from '../src/client/index.js';
import { tcpDialer } from '@burrow/client/node';
import { EXTENSION_ORIGIN, NodeWebSocket, recordEvents, recordingLogger, startEcho, stopAll, webSocketWithOrigin, type EchoService } from './support.js';

// node-datachannel is a dev dependency of @burrow/client; load its polyfill from there.
const fromClient = createRequire(new URL('../../client/package.json', import.meta.url));
const { RTCPeerConnection } = (await import(fromClient.resolve('node-datachannel/polyfill'))) as { RTCPeerConnection: unknown };
const RTC = RTCPeerConnection as RTCPeerConnectionConstructor;
const LOOPBACK = { rtcConfiguration: { bindAddress: '127.0.0.1' } };
const ExtensionWebSocket = webSocketWithOrigin(EXTENSION_ORIGIN);

async function settle(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'resolved',
    (e: unknown) => e,
  );
}

describe('remote reconnect through the mailbox (remote-v1)', () => {
  let mailbox: MailboxServer;
  let echo: EchoService;
  let agent: Agent;
  let agentStore: KeyValueStore;
  let deadUrl: string;
  const logger = recordingLogger();
  const events: AgentEvent[] = [];
  const remote = (extra: Partial<RemoteConnectOptions> = {}): RemoteConnectOptions => ({
    mailbox: mailbox.url,
    WebSocket: NodeWebSocket,
    RTCPeerConnection: RTC,
    connect: LOOPBACK,
    ...extra,
  });

  async function pairNewClient(name: string): Promise<{ store: KeyValueStore; pairingId: string }> {
    const store = memoryStore();
    const offer = agent.pair();
    const code = await offer.code;
    const [, agentSide] = await Promise.all([pairWithAgent({ mailbox: mailbox.url, code, store, name, origin: EXTENSION_ORIGIN, WebSocket: NodeWebSocket }), offer.paired]);
    return { store, pairingId: agentSide.id };
  }

  beforeAll(async () => {
    assertPrivateNetwork();
    [mailbox, echo] = await Promise.all([startMailboxServer(), startEcho()]);
    // A port nothing listens on: the client "is not on the agent's machine".
    deadUrl = `ws://127.0.0.1:${await freePort()}/v1`;
    agentStore = memoryStore();
    agent = await startAgent({
      store: agentStore,
      port: 0,
      allowOrigins: [EXTENSION_ORIGIN],
      allowForward: [`127.0.0.1:${echo.port}`],
      mailbox: mailbox.url,
      name: 'Remote agent',
      logger,
      remote: { RTCPeerConnection: RTC, connect: LOOPBACK, retryMs: 100 },
    });
    recordEvents(agent, events);
  });

  afterAll(() => stopAll(agent, echo));

  it('listens at one rendezvous per paired client once paired', async () => {
    expect(agent.status().remoteListeners).toBe(0);
    await pairNewClient('Listener check');
    await waitFor(() => agent.status().remoteListeners >= 1, { message: 'a remote listener' });
  });

  it('reconnects with no code when the local endpoint is unreachable, over WebRTC, and fetches through the agent', async () => {
    const { store, pairingId } = await pairNewClient('Laptop elsewhere');
    const session = await connectAgent({ store, url: deadUrl, WebSocket: ExtensionWebSocket, remote: remote() });
    expect(session.connection.kind).toBe('webrtc');
    expect(session.agent.id).toBe(agent.id);
    expect(await session.call('info')).toMatchObject({ id: agent.id, name: 'Remote agent' });
    const res = await session.fetch(`http://127.0.0.1:${echo.port}/hello?x=1`, { method: 'POST', body: 'through the mailbox', headers: { 'x-echo': 'remote' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ method: 'POST', path: '/hello?x=1', body: 'through the mailbox', header: 'remote' });
    // Several calls at once, each its own stream.
    const many = await Promise.all([1, 2, 3].map((i) => session.fetch(`http://127.0.0.1:${echo.port}/n${i}`).then((r) => r.json() as Promise<{ path: string }>)));
    expect(many.map((m) => m.path)).toEqual(['/n1', '/n2', '/n3']);
    // The same policy as the local path: a destination not granted is refused, the session stays up.
    const refused = await settle(session.fetch(`http://127.0.0.1:${echo.port + 1}/`));
    expect(isWormholeError(refused, 'NotAllowed'), String(refused)).toBe(true);
    expect(await session.call('info')).toMatchObject({ id: agent.id });
    expect(agent.status().sessions).toContainEqual(expect.objectContaining({ pairingId, via: 'remote' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'connected', via: 'remote' }));
    // The embedder reaches the client over the same connection.
    expect((await agent.connect(pairingId)).kind).toBe('webrtc');
    await session.close();
    await waitFor(() => !agent.status().sessions.some((s) => s.pairingId === pairingId), { message: 'the session to end on the agent' });
    // And again: the agent is back at the rendezvous.
    const again = await connectAgent({ store, remote: remote({ tryLocal: false }) });
    expect(await (await again.fetch(`http://127.0.0.1:${echo.port}/again`)).json()).toMatchObject({ path: '/again' });
    await again.close();
  });

  it('revocation drops a remote session and its forwards at once; a revoked pairing gets nothing', async () => {
    const { store, pairingId } = await pairNewClient('Doomed remote');
    const session = await connectAgent({ store, remote: remote({ tryLocal: false }) });
    const closed = settle(session.closed);
    const res = await session.fetch(`http://127.0.0.1:${echo.port}/slow`);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first part\n');
    const pending = settle(reader.read());
    const t0 = performance.now();
    expect(await agent.pairings.revoke(pairingId)).toBe(true);
    const err = await closed;
    expect(isWormholeError(err, 'Revoked'), String(err)).toBe(true);
    expect(await pending).toBeInstanceOf(Error);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(agent.status().sessions.some((s) => s.pairingId === pairingId)).toBe(false);
    expect(events).toContainEqual({ type: 'revoked', pairingId, dropped: 1 });
    // Nobody waits at a revoked pairing's rendezvous: the client fails closed.
    const connectedBefore = events.filter((e) => e.type === 'connected').length;
    const refused = await settle(connectAgent({ store, remote: remote({ tryLocal: false, timeoutMs: 3000 }) }));
    expect(isWormholeError(refused, 'Timeout'), String(refused)).toBe(true);
    expect(String((refused as Error).message)).toContain('revoked');
    expect(events.filter((e) => e.type === 'connected').length).toBe(connectedBefore);
  });

  it('someone at the rendezvous without the secret fails SPAKE2 and is refused; the agent keeps listening', async () => {
    const { store, pairingId } = await pairNewClient('Targeted');
    // The worst case: an attacker who somehow knows this window's nameplate (not the password).
    const secret = (await new Pairings(store).secret(agent.id))!;
    const clientId = await loadIdentity(store);
    const { nameplate } = rendezvous(secret, { agentId: agent.id, clientId, window: rendezvousWindow(Date.now()) });
    await waitFor(() => agent.status().remoteListeners >= 1);
    const w = await createWormhole({ mailbox: mailbox.url, appid: REMOTE_APPID, WebSocket: NodeWebSocket, RTCPeerConnection: null });
    w.setCode(`${nameplate}-${'0'.repeat(64)}`);
    const attack = await settle(w.connect({ timeoutMs: 10_000 }));
    expect(isWormholeError(attack, 'WrongPassword'), String(attack)).toBe(true);
    await w.closed.catch(() => {
      /* it fails with WrongPassword: the client side is what this test checks */
    });
    await waitFor(() => events.some((e) => e.type === 'refused' && e.reason === 'proof' && e.pairingId === pairingId), { message: 'the agent to refuse' });
    // The real client still gets in.
    const session = await waitFor(() => connectAgent({ store, remote: remote({ tryLocal: false, timeoutMs: 10_000 }) }), { timeoutMs: 30_000, message: 'the real client to reconnect' });
    expect(await session.call('info')).toMatchObject({ id: agent.id });
    await session.close();
  });

  it('falls back to Transit + mux-v1 through a relay when a side has no WebRTC', async () => {
    const relay = await startTransitRelay();
    const relayOptions = { relay: { relays: [relay.hint], dialers: { tcp: tcpDialer() } } };
    const store = memoryStore();
    const plain = await startAgent({ store: memoryStore(), port: 0, allowForward: [`127.0.0.1:${echo.port}`], mailbox: mailbox.url, remote: { RTCPeerConnection: null, connect: relayOptions } });
    try {
      const offer = plain.pair();
      await Promise.all([pairWithAgent({ mailbox: mailbox.url, code: await offer.code, store, name: 'No WebRTC', WebSocket: NodeWebSocket }), offer.paired]);
      const session = await connectAgent({ store, remote: remote({ tryLocal: false, RTCPeerConnection: null, connect: relayOptions }) });
      expect(session.connection.kind).toBe('relay');
      expect(await (await session.fetch(`http://127.0.0.1:${echo.port}/via-relay`)).json()).toMatchObject({ path: '/via-relay' });
      await session.close();
    } finally {
      await plain.shutdown();
    }
  });

  it('logs nothing secret: no rendezvous code, no pairing secret', async () => {
    const text = logger.lines.join('\n') + JSON.stringify(events);
    for (const p of await agent.pairings.list()) {
      const secret = await new Pairings(agentStore).secret(p.id);
      if (!secret) continue;
      const { code, nameplate } = rendezvous(secret, { agentId: agent.id, clientId: p.id, window: rendezvousWindow(Date.now()) });
      expect(text).not.toContain(code.slice(nameplate.length + 1));
      expect(text).not.toContain(nameplate);
    }
  });
});
