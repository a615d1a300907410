// A client whose gateway died comes back through another gateway of the
// cluster (docs-site/guide/scaling.md, "Failover"): the same side binds,
// claims and opens again while its old connection is still in every replica
// (the dead process is not declared gone yet); it gets the mailbox's
// messages and new ones; when the old process is declared gone, its
// connection is dropped without releasing anything the side holds, and the
// wormhole closes normally, leaving nothing behind.
import { expect, it } from 'vitest';
import { waitFor } from '@burrow/testkit';
import type { Gateway } from '../src/index.js';
import { APPID, leave, receiveBody, sendBody, type RawMailboxClient } from './support/raw-mailbox.js';
import { redisCluster } from './support/redis-cluster.js';

const cluster = redisCluster();
const { client } = cluster;

const bodies = (c: RawMailboxClient, side: string): unknown[] => c.frames.filter((f) => f.type === 'message' && f['side'] === side).map((f) => f['body']);

it('a side reconnects through another gateway before its old one is declared gone, and the wormhole completes', async () => {
  const start = (): Promise<Gateway> => cluster.gateway('failover');
  const [one, two, three] = [await start(), await start(), await start()];
  const a = await client(one);
  const b = await client(two);
  const { nameplate, mailbox } = await sendBody(a, 'aa01');
  expect(await receiveBody(b, nameplate)).toBe('aa01');

  // `a`'s process is unreachable for it (its connection is still in the state): the same side comes back through three.
  const again = await client(three);
  again.send({ type: 'bind', appid: APPID, side: 'aaaa' });
  const from = again.frames.length;
  again.send({ type: 'claim', nameplate });
  expect((await again.next('claimed', from))['mailbox']).toBe(mailbox);
  again.send({ type: 'open', mailbox });
  b.send({ type: 'add', phase: '0', body: 'bb01' });
  await waitFor(() => bodies(again, 'bbbb').includes('bb01') && bodies(again, 'aaaa').includes('aa01'), { message: 'the mailbox replayed and the new message' });
  // Three listeners in every replica: the old connection, `b`, and the side again.
  await waitFor(() => two.stats().mailbox.listeners === 3, { message: 'three listeners' });

  // Its old process goes away (gone in the log): the old connection is dropped, nothing the side holds is released.
  await one.close();
  await waitFor(() => two.stats().mailbox.listeners === 2 && three.stats().mailbox.listeners === 2, { message: 'the old connection dropped everywhere' });
  expect(two.stats().mailbox).toMatchObject({ nameplates: 1, mailboxes: 1 });
  b.send({ type: 'add', phase: '1', body: 'bb02' });
  again.send({ type: 'add', phase: '1', body: 'aa02' });
  await waitFor(() => bodies(again, 'bbbb').includes('bb02') && bodies(b, 'aaaa').includes('aa02'), { message: 'messages both ways after the old process went' });
  await leave(again);
  await leave(b);
  for (const gw of [two, three]) {
    await waitFor(() => gw.stats().mailbox.nameplates === 0 && gw.stats().mailbox.mailboxes === 0, { message: 'nothing left behind' });
  }
});
