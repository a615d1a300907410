// pair-v1 over the in-memory mailbox (the real server core, no sockets): both sides end with the
// same secret, derived from the wormhole key and both identities.
import { describe, expect, it } from 'vitest';
import { createWormhole, type Wormhole } from '@burrow/client';
import { isWormholeError, observed, toHex, utf8 } from '@burrow/protocol';
import { Pairings, loadIdentity, memoryStore } from '@burrow/store';
import { MemoryMailbox } from '@burrow/client/testing';
import { PAIR_APPID, pairingPurpose, runPairing } from '../src/pair.js';
import { pairWithAgent } from '../src/client/pair.js';

async function open(server: MemoryMailbox): Promise<Wormhole> {
  return createWormhole({ mailbox: server.url, appid: PAIR_APPID, transport: server.transport, RTCPeerConnection: null });
}

describe('pair-v1', () => {
  it('leaves both sides with the same secret: HKDF of the wormhole key over both identities', async () => {
    const server = new MemoryMailbox();
    const agentStore = memoryStore();
    const clientStore = memoryStore();
    const agentId = await loadIdentity(agentStore);
    const agentW = await open(server);
    const code = await agentW.allocateCode();
    const [agentSide, clientSide] = await Promise.all([
      runPairing(agentW, { role: 'agent', id: agentId, name: 'Agent', endpoint: 'ws://127.0.0.1:4100/v1' }, new Pairings(agentStore)),
      pairWithAgent({ mailbox: server.url, code, store: clientStore, name: 'Client', origin: 'chrome-extension://abc', transport: server.transport }),
    ]);
    const clientId = await loadIdentity(clientStore);
    expect(agentSide).toMatchObject({ id: clientId, name: 'Client', peerRole: 'client', origin: 'chrome-extension://abc' });
    expect(clientSide).toMatchObject({ id: agentId, name: 'Agent', peerRole: 'agent', endpoint: 'ws://127.0.0.1:4100/v1' });
    const a = await new Pairings(agentStore).secret(clientId);
    const c = await new Pairings(clientStore).secret(agentId);
    expect(toHex(a!)).toBe(toHex(c!));
    // Check the derivation itself against the session key the wormhole exposes through deriveKey.
    expect(pairingPurpose(agentId, clientId)).toBe(`burrow/agent/pair-v1/secret/${agentId}/${clientId}`);
    expect(toHex(await agentW.deriveKey(pairingPurpose(agentId, clientId), 32))).toBe(toHex(a!));
    expect(toHex(await agentW.deriveKey(pairingPurpose(clientId, agentId), 32))).not.toBe(toHex(a!));
    await agentW.close();
  });

  it('stores nothing on either side when the code is wrong (WrongPassword)', async () => {
    const server = new MemoryMailbox();
    const agentStore = memoryStore();
    const clientStore = memoryStore();
    const agentW = await open(server);
    const code = await agentW.allocateCode();
    const wrong = code.replace(/-[a-z]+$/, '-wrongword');
    const [agentRes, clientRes] = await Promise.allSettled([
      runPairing(agentW, { role: 'agent', id: await loadIdentity(agentStore), name: 'Agent' }, new Pairings(agentStore), { signal: AbortSignal.timeout(10_000) }),
      pairWithAgent({ mailbox: server.url, code: wrong, store: clientStore, name: 'Client', transport: server.transport }),
    ]);
    expect(clientRes.status === 'rejected' && isWormholeError(clientRes.reason, 'WrongPassword')).toBe(true);
    expect(agentRes.status === 'rejected' && isWormholeError(agentRes.reason, 'WrongPassword')).toBe(true);
    expect(await new Pairings(agentStore).list()).toEqual([]);
    expect(await new Pairings(clientStore).list()).toEqual([]);
    await agentW.closed.catch(observed);
  });

  it('refuses a peer that is not pairing, and one the agent does not accept — nothing stored', async () => {
    const server = new MemoryMailbox();
    const store = memoryStore();
    const agentW = await open(server);
    const code = await agentW.allocateCode();
    const other = await open(server);
    other.setCode(code);
    other.sendMessage(utf8(JSON.stringify({ 'something-else': {} })));
    await expect(runPairing(agentW, { role: 'agent', id: await loadIdentity(store), name: 'Agent' }, new Pairings(store))).rejects.toThrow(/not pairing/);
    expect(await new Pairings(store).list()).toEqual([]);

    const server2 = new MemoryMailbox();
    const agentStore = memoryStore();
    const clientStore = memoryStore();
    const w2 = await open(server2);
    const code2 = await w2.allocateCode();
    const [agentRes, clientRes] = await Promise.allSettled([
      runPairing(w2, { role: 'agent', id: await loadIdentity(agentStore), name: 'Agent' }, new Pairings(agentStore), { accept: (peer) => (peer.origin === 'https://evil.example' ? 'that origin is not allowed' : undefined) }),
      pairWithAgent({ mailbox: server2.url, code: code2, store: clientStore, name: 'Page', origin: 'https://evil.example', transport: server2.transport }),
    ]);
    expect(agentRes.status === 'rejected' && isWormholeError(agentRes.reason, 'NotAllowed')).toBe(true);
    expect(clientRes.status === 'rejected' && isWormholeError(clientRes.reason, 'NotAllowed')).toBe(true);
    expect((clientRes as PromiseRejectedResult).reason.message).toBe('the peer refused the pairing: that origin is not allowed');
    expect(await new Pairings(agentStore).list()).toEqual([]);
    expect(await new Pairings(clientStore).list()).toEqual([]);
  });
});
