// Hashcash permission from the client's side: the real client against the
// real server core (MemoryMailbox) asking for a stamp; the solver on the
// main thread; the bundled Worker source is current.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fromUtf8, stampProblem, utf8 } from '@burrow/protocol';
import type { PermissionPolicy } from '@burrow/protocol/server';
import { hashcashPermission } from '@burrow/protocol/hashcash';
import { seededRandom } from '@burrow/testkit';
import { hashcashWorkerModule } from '../../../scripts/hashcash-worker.js';
import { MemoryMailbox } from '../src/testing.js';
import { createWormhole, type Wormhole } from '../src/index.js';
import { solveHashcash } from '../src/permission/hashcash.js';
import { bounded, rejection } from './bounded.js';

const T = 20_000;
const opened: Wormhole[] = [];
afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((w) => w.close()));
});

async function open(server: MemoryMailbox, seed: number, signal?: AbortSignal): Promise<Wormhole> {
  const w = await createWormhole({ mailbox: server.url, transport: server.transport, random: seededRandom(seed), ...(signal ? { signal } : {}) });
  opened.push(w);
  return w;
}

describe('hashcash permission, client side', () => {
  it(
    'two clients solve the stamp before bind and complete a wormhole',
    async () => {
      const server = new MemoryMailbox({ permission: hashcashPermission(12) });
      const [a, b] = await Promise.all([open(server, 1), open(server, 2)]);
      b.setCode(await a.allocateCode());
      a.sendMessage(utf8('through the gate'));
      expect(fromUtf8(await bounded(b.nextMessage()))).toBe('through the gate');
      for (const w of [a, b]) {
        const sent = server.log.filter((l) => l.connection === server.connectionOf(w.side)).map((l) => l.message['type']);
        expect(sent.slice(0, 2)).toEqual(['submit-permissions', 'bind']);
        expect((await w.welcome)['permission-required']).toMatchObject({ hashcash: { bits: 12 } });
      }
      await bounded(Promise.all([a.close(), b.close()]));
      expect(server.closes.map((c) => c.mood)).toEqual(['happy', 'happy']);
    },
    T,
  );

  it(
    'a server that refuses the stamp ends the wormhole with Welcome',
    async () => {
      const refusing: PermissionPolicy = { ...hashcashPermission(4), check: () => 'no stamps today' };
      const w = await open(new MemoryMailbox({ permission: refusing }), 1);
      const err = await rejection(w.closed);
      expect(err).toMatchObject({ code: 'Welcome', message: 'the mailbox server refused our permission: permission refused: no stamps today' });
    },
    T,
  );

  it(
    'a server asking only for a method we do not know: createWormhole rejects with Welcome',
    async () => {
      const ritual: PermissionPolicy = { offer: () => ({ welcome: { 'dark-ritual': {} }, token: 't' }), check: () => 'no' };
      const server = new MemoryMailbox({ permission: ritual });
      await expect(createWormhole({ mailbox: server.url, transport: server.transport })).rejects.toMatchObject({
        code: 'Welcome',
        message: 'the mailbox server asks for a permission this client cannot give (dark-ritual)',
      });
    },
    T,
  );

  it(
    "the wormhole's AbortSignal stops a search that would take hours",
    async () => {
      const server = new MemoryMailbox({ permission: hashcashPermission(32) });
      const ac = new AbortController();
      const creating = createWormhole({ mailbox: server.url, transport: server.transport, signal: ac.signal });
      await server.waitFor(() => server.connections[0]?.isOpen, 'the connection');
      ac.abort();
      await expect(bounded(creating)).rejects.toMatchObject({ code: 'Aborted' });
      expect(server.log).toEqual([]);
    },
    T,
  );

  it('solves on the main thread in slices, and stops when aborted', async () => {
    const now = Date.now();
    const stamp = await solveHashcash({ resource: 'r', bits: 14 }, { random: seededRandom(3), worker: false });
    expect(stampProblem(stamp, { resource: 'r', bits: 14, now })).toBeUndefined();
    const ac = new AbortController();
    const hard = solveHashcash({ resource: 'r', bits: 32 }, { random: seededRandom(3), worker: false, signal: ac.signal });
    ac.abort();
    await expect(bounded(hard)).rejects.toMatchObject({ code: 'Aborted' });
  });

  it('hashcash-worker-source.ts is what scripts/hashcash-worker.ts generates', async () => {
    const file = readFileSync(new URL('../src/permission/hashcash-worker-source.ts', import.meta.url), 'utf8');
    expect(await hashcashWorkerModule()).toBe(file);
  }, 30_000);
});
