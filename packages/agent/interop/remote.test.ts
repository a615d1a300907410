// remote-v1 over real sockets in a private netns: a paired Node client that
// cannot reach the agent's 127.0.0.1 endpoint meets it through Debian's
// mailbox server with no code (a rendezvous derived from the pairing
// secret), connects over WebRTC (node-datachannel, loopback only), fetches
// from an allowlisted echo service through the agent; revocation drops the
// session at once and a revoked pairing gets nothing.
import { createRequire } from 'node:module';
import WebSocket from 'ws';
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

/** A bare mailbox client speaking raw frames: what a squatter needs, nothing more. */
async function rawMailbox(url: string): Promise<{ send(m: object): void; next(type: string): Promise<Record<string, unknown>>; close(): void }> {
  const ws = new WebSocket(url);
  const seen: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    seen.push(JSON.parse(String(data)) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((r) => ws.once('open', r));
  return {
    send: (m) => ws.send(JSON.stringify(m)),
    next: async (type) => {
      for (;;) {
        const i = seen.findIndex((m) => m['type'] === type || m['type'] === 'error');
        if (i >= 0) {
          const [m] = seen.splice(i, 1);
          if (m!['type'] === 'error') throw new Error(`mailbox error: ${JSON.stringify(m)}`);
          return m!;
        }
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    close: () => ws.close(),
  };
}

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
    [mailbox, echo] = await Promise.all([startMailboxServer({ disallowList: true }), startEcho()]);
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
    // The agent kept only the notice key: at the notice rendezvous, the client is told, within seconds.
    expect(await new Pairings(agentStore).secret(pairingId)).toBeUndefined();
    expect(await new Pairings(agentStore).notice(pairingId)).toBeDefined();
    const connectedBefore = events.filter((e) => e.type === 'connected').length;
    const t1 = performance.now();
    const refused = await settle(connectAgent({ store, remote: remote({ tryLocal: false, timeoutMs: 20_000 }) }));
    expect(isWormholeError(refused, 'Revoked'), String(refused)).toBe(true);
    expect(String((refused as Error).message)).toContain('Remote agent revoked this pairing');
    expect(performance.now() - t1).toBeLessThan(10_000);
    expect(events.filter((e) => e.type === 'connected').length).toBe(connectedBefore);
    await waitFor(() => events.some((e) => e.type === 'revocation-told' && e.pairingId === pairingId), { message: 'the agent to note the notice was given' });
    // Both sides forget: the client's pairing is revoked, the agent's notice key is gone.
    expect((await new Pairings(store).get(agent.id))?.revokedAt).toBeTypeOf('number');
    expect(await new Pairings(store).secret(agent.id)).toBeUndefined();
    expect(await new Pairings(agentStore).notice(pairingId)).toBeUndefined();
    await expect(connectAgent({ store, remote: remote({ tryLocal: false }) })).rejects.toMatchObject({ code: 'Unpaired' });
  });

  it('a squatter on the rendezvous: the client moves to the next candidate and gets in; the agent reports the squat; nobody can list', async () => {
    const { store, pairingId } = await pairNewClient('Squatted');
    const secret = (await new Pairings(store).secret(agent.id))!;
    const clientId = await loadIdentity(store);
    // The worst case: a squatter who somehow learnt this window's first nameplate claims it and sits there, silent.
    const { nameplate } = rendezvous(secret, { agentId: agent.id, clientId, window: rendezvousWindow(Date.now()) });
    await waitFor(() => agent.status().remoteListeners >= 2);
    const squatter = await rawMailbox(mailbox.url);
    squatter.send({ type: 'bind', appid: REMOTE_APPID, side: 'squatter01' });
    squatter.send({ type: 'claim', nameplate });
    await squatter.next('claimed');
    // The mailbox runs with --disallow-list: listing shows nothing to squat.
    squatter.send({ type: 'list' });
    const listed = await squatter.next('nameplates');
    expect(JSON.stringify(listed)).not.toContain(nameplate);

    const t0 = performance.now();
    const session = await connectAgent({ store, remote: remote({ tryLocal: false, timeoutMs: 20_000 }) });
    expect(await session.call('info')).toMatchObject({ id: agent.id });
    expect(performance.now() - t0).toBeLessThan(15_000);
    await session.close();
    await waitFor(() => events.some((e) => e.type === 'squat' && e.pairingId === pairingId && e.candidate === 0), { message: 'the agent to report the squat' });
    expect(logger.lines.some((l) => l.includes('agent.rendezvous-squatted'))).toBe(true);
    // And again, within the same window.
    const again = await connectAgent({ store, remote: remote({ tryLocal: false, timeoutMs: 20_000 }) });
    expect(await (await again.fetch(`http://127.0.0.1:${echo.port}/after-squat`)).json()).toMatchObject({ path: '/after-squat' });
    await again.close();
    squatter.close();
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
