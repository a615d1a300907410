// Several gateways on one Redis (`redis: { url }`, docs-site/guide/scaling.md)
// serve the same mailboxes: clients on different gateways meet, allocation
// and crowding are decided once for all, limits and expiry hold across
// processes, a gateway started later catches up, and a gateway that dies
// without saying so has its connections dropped by the others.
import { describe, expect, it } from 'vitest';
import { startRedis, waitFor } from '@burrow/testkit';
import { ERR_STORE_FAILED, startGateway, type Gateway, type GatewayOptions } from '../src/index.js';
import { APPID, exchange, leave, receiveBody, sendBody, type RawMailboxClient } from './support/raw-mailbox.js';
import { redisCluster } from './support/redis-cluster.js';

const cluster = redisCluster();
const { client } = cluster;
let clusters = 0;

/** `n` gateways sharing one fresh cluster (its own key prefix) on the test's Redis. */
async function gateways(n: number, options: Partial<GatewayOptions> = {}): Promise<Gateway[]> {
  const prefix = `test${++clusters}`;
  const out: Gateway[] = [];
  for (let i = 0; i < n; i++) out.push(await join(prefix, options));
  return out;
}

function join(prefix: string, options: Partial<GatewayOptions> = {}): Promise<Gateway> {
  return cluster.gateway(prefix, options);
}

const empty = { nameplates: 0, mailboxes: 0, messages: 0 };

describe('gateways sharing a Redis', () => {
  it('a sender on one gateway and a receiver on another complete the exchange; both end empty', async () => {
    const [one, two] = await gateways(2);
    const [a, b] = await Promise.all([client(one!), client(two!)]);
    expect(await exchange(a, b, 'c0ffee')).toBe('c0ffee');
    for (const gw of [one!, two!]) await waitFor(() => gw.stats().mailbox.nameplates === 0 && gw.stats().mailbox.mailboxes === 0, { message: 'state emptied' });
    expect(one!.stats().mailbox).toMatchObject(empty);
    expect(two!.stats().mailbox).toMatchObject(empty);
  });

  it('messages fan out to listeners on every gateway, in one order', async () => {
    const [one, two] = await gateways(2);
    const [a, b] = await Promise.all([client(one!), client(two!)]);
    const { nameplate } = await sendBody(a, 'aa01');
    expect(await receiveBody(b, nameplate)).toBe('aa01');
    b.send({ type: 'add', phase: '0', body: 'bb01' });
    a.send({ type: 'add', phase: '1', body: 'aa02' });
    const bodies = (c: RawMailboxClient) => c.frames.filter((f) => f.type === 'message').map((f) => f['body']);
    await waitFor(() => bodies(a).length === 3 && bodies(b).length === 3, { message: 'three messages on both sides' });
    expect(bodies(a)).toEqual(bodies(b));
  });

  it('allocates distinct nameplates to clients racing on different gateways', async () => {
    const gws = await gateways(3);
    const cs = await Promise.all(Array.from({ length: 12 }, (_, i) => client(gws[i % 3]!)));
    cs.forEach((c, i) => c.send({ type: 'bind', appid: APPID, side: `side${i}` }));
    for (const c of cs) c.send({ type: 'allocate' });
    const names = await Promise.all(cs.map(async (c) => (await c.next('allocated'))['nameplate'] as string));
    expect(new Set(names).size).toBe(12);
    for (const gw of gws) await waitFor(() => gw.stats().mailbox.nameplates === 12, { message: '12 nameplates everywhere' });
  });

  it('turns a third side away (crowded) whichever gateway it comes through', async () => {
    const [one, two] = await gateways(2);
    const [a, b, c] = await Promise.all([client(one!), client(two!), client(two!)]);
    const { nameplate } = await sendBody(a, 'aa01');
    await receiveBody(b, nameplate);
    c.send({ type: 'bind', appid: APPID, side: 'cccc' });
    c.send({ type: 'claim', nameplate });
    expect(await c.next('error')).toMatchObject({ error: 'crowded' });
  });

  it('counts the rule limits across gateways (total nameplates)', async () => {
    const [one, two] = await gateways(2, { mailboxLimits: { maxNameplates: 2 } });
    const cs = await Promise.all([client(one!), client(two!), client(two!)]);
    cs.forEach((c, i) => c.send({ type: 'bind', appid: APPID, side: `side${i}` }));
    cs[0]!.send({ type: 'allocate' });
    await cs[0]!.next('allocated');
    cs[1]!.send({ type: 'allocate' });
    await cs[1]!.next('allocated');
    cs[2]!.send({ type: 'allocate' });
    expect(await cs[2]!.next('error')).toMatchObject({ error: 'server is full, try again later' });
  });

  it('expires abandoned nameplates once, for every gateway', async () => {
    const [one, two] = await gateways(2, { expiryMs: 300, pruneIntervalMs: 100 });
    const a = await client(one!);
    a.send({ type: 'bind', appid: APPID, side: 'aaaa' });
    a.send({ type: 'allocate' });
    await a.next('allocated');
    a.close();
    for (const gw of [one!, two!]) await waitFor(() => gw.stats().mailbox.nameplates === 0, { message: 'the nameplate expired' });
  });

  it('a gateway started later replays the log and serves what is there', async () => {
    const prefix = `late${++clusters}`;
    const one = await join(prefix);
    const a = await client(one);
    const { nameplate } = await sendBody(a, 'aa01');
    const late = await join(prefix);
    expect(late.stats().mailbox).toMatchObject({ nameplates: 1, mailboxes: 1, messages: 1 });
    const b = await client(late);
    expect(await receiveBody(b, nameplate)).toBe('aa01');
    await leave(a);
    await leave(b);
    await waitFor(() => late.stats().mailbox.nameplates === 0 && one.stats().mailbox.mailboxes === 0, { message: 'state emptied' });
  });

  it('drops the connections of a gateway that stopped heartbeating (its claims stay)', async () => {
    const [one, two] = await gateways(2, { expiryMs: 60_000 });
    const a = await client(one!);
    await sendBody(a, 'aa01');
    await waitFor(() => two!.stats().mailbox.listeners === 1, { message: 'the listener known on the other gateway' });
    await one!.close(); // a clean stop says `gone` at once; a killed one is declared gone after 3 heartbeats (interop)
    await waitFor(() => two!.stats().mailbox.listeners === 0, { message: 'the listener dropped' });
    expect(two!.stats().mailbox).toMatchObject({ nameplates: 1, mailboxes: 1, messages: 1 });
  });

  it('a frame Redis cannot take: the client is told and dropped, /health says so', async () => {
    const own = await startRedis();
    const gw = cluster.adopt(await startGateway({ port: 0, transitPort: null, redis: { url: own.url, heartbeatMs: 200 } }));
    const a = await client(gw);
    a.send({ type: 'bind', appid: APPID, side: 'aaaa' });
    await a.next('ack');
    await own.stop();
    a.send({ type: 'allocate' });
    expect(await a.next('error')).toMatchObject({ error: ERR_STORE_FAILED, orig: { type: 'allocate' } });
    expect(await a.closed).toBe(1001);
    const res = await fetch(`http://127.0.0.1:${gw.port}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'store-failing', store: { ok: false } });
  });
});
