/**
 * The example extension's popup: pair with a local Burrow agent by code
 * (once), then reconnect from the secret kept in this extension's IndexedDB
 * and fetch from a local service the agent allows.
 *
 * Everything the buttons do is also on `globalThis.burrowExample`, so tests
 * (and the curious, from DevTools) can drive the same code.
 */
import { connectAgent, pairWithAgent, type AgentSession } from '@burrow/agent/client';
import { Pairings, idbStore, type PairingInfo } from '@burrow/store';

const store = idbStore({ database: 'burrow-example' });
const pairings = new Pairings(store);
const DEFAULT_MAILBOX = 'ws://relay.magic-wormhole.io:4000/v1';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusEl = $<HTMLParagraphElement>('status');

function show(text: string, kind: 'ok' | 'error' | '' = ''): void {
  statusEl.textContent = text;
  statusEl.className = kind;
}

/** A sentence for people, with the stable error code where there is one. */
function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}

let session: AgentSession | undefined;

async function currentAgent(): Promise<PairingInfo | undefined> {
  const agents = (await pairings.list()).filter((p) => p.peerRole === 'agent');
  return agents[agents.length - 1];
}

async function render(): Promise<void> {
  const agent = await currentAgent();
  $<HTMLFieldSetElement>('agent-box').hidden = !agent;
  $<HTMLDivElement>('agent-name').textContent = agent
    ? `${agent.name} · ${agent.endpoint ?? '?'}${agent.revokedAt !== undefined ? ' · revoked' : ''}`
    : '';
}

async function pair(mailbox: string, code: string): Promise<PairingInfo> {
  await store.set('settings', { mailbox });
  const agent = await pairWithAgent({ mailbox, code, store, name: 'Burrow example extension', signal: AbortSignal.timeout(60_000) });
  await render();
  return agent;
}

/** Connect (or reuse the open session); the session reports its end in the status line. */
async function connect(): Promise<AgentSession> {
  if (session) return session;
  const s = await connectAgent({ store, signal: AbortSignal.timeout(15_000) });
  session = s;
  s.closed.then(
    () => {
      if (session === s) session = undefined;
      show('Disconnected from the agent.');
    },
    (err: unknown) => {
      if (session === s) session = undefined;
      show(`Disconnected: ${describeError(err)}`, 'error');
    },
  );
  show(`Connected to ${s.agent.name}.`, 'ok');
  return s;
}

async function fetchVia(url: string, body?: string): Promise<{ status: number; text: string }> {
  const s = await connect();
  const res = await s.fetch(url, body ? { method: 'POST', body, headers: { 'content-type': 'text/plain' } } : {});
  return { status: res.status, text: await res.text() };
}

async function forget(): Promise<void> {
  const agent = await currentAgent();
  await session?.close();
  session = undefined;
  if (agent) await pairings.remove(agent.id);
  await render();
}

/** Run one button's action with its result or error in the status line. */
function action(button: string, run: () => Promise<string>): void {
  $<HTMLButtonElement>(button).addEventListener('click', () => {
    show('Working…');
    run().then(
      (text) => show(text, 'ok'),
      (err: unknown) => show(describeError(err), 'error'),
    );
  });
}

action('pair', async () => {
  const agent = await pair($<HTMLInputElement>('mailbox').value.trim(), $<HTMLInputElement>('code').value.trim());
  $<HTMLInputElement>('code').value = '';
  return `Paired with ${agent.name}.`;
});
action('connect', async () => `Connected to ${(await connect()).agent.name}.`);
action('forget', async () => {
  await forget();
  return 'Forgot the agent.';
});
action('fetch', async () => {
  $<HTMLPreElement>('out').textContent = '';
  const body = $<HTMLInputElement>('body').value;
  const res = await fetchVia($<HTMLInputElement>('url').value.trim(), body || undefined);
  $<HTMLPreElement>('out').textContent = res.text;
  return `HTTP ${res.status} through the agent.`;
});

(globalThis as Record<string, unknown>)['burrowExample'] = { pair, connect, fetchVia, forget, pairings: () => pairings.list(), describeError };

void (async () => {
  const settings = (await store.get('settings')) as { mailbox?: string } | undefined;
  $<HTMLInputElement>('mailbox').value = settings?.mailbox ?? DEFAULT_MAILBOX;
  await render();
  const agent = await currentAgent();
  show(agent ? `Paired with ${agent.name}: no code needed.` : 'Not paired yet: start `burrow agent --pair` and type its code.');
})();
