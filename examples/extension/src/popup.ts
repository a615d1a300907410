/**
 * The example extension's popup: a view. The background (background.ts)
 * owns the agent connection and the pairing; the popup sends it requests
 * and shows its status, so closing the popup closes nothing.
 *
 * Everything the buttons do is also on `globalThis.burrowExample`, so tests
 * (and the curious, from DevTools) can drive the same code.
 */
import { extensionApi, type Notice, type Reply, type Request, type State, type Status } from './messages.js';

const api = extensionApi();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const statusEl = $<HTMLParagraphElement>('status');

function show(text: string, kind: Status['kind'] = ''): void {
  statusEl.textContent = text;
  statusEl.className = kind;
}

/** An error from the background, with its stable code (as `err.code`). */
class BackgroundError extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Ask the background; rejects with its error. */
async function ask<T>(request: Request): Promise<T> {
  const reply = (await api.runtime.sendMessage(request)) as Reply | undefined;
  if (!reply) throw new BackgroundError(undefined, 'the background did not answer');
  if (!reply.ok) throw new BackgroundError(reply.code, reply.message);
  return reply.value as T;
}

/** A sentence for people, with the stable error code where there is one. */
function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}

async function render(): Promise<State> {
  const s = await ask<State>({ op: 'state' });
  $<HTMLFieldSetElement>('agent-box').hidden = !s.agent;
  $<HTMLDivElement>('agent-name').textContent = s.agent ? `${s.agent.name} · ${s.agent.endpoint ?? '?'}${s.agent.revoked ? ' · revoked' : ''}` : '';
  return s;
}

let firstPart: () => void = () => undefined;

api.runtime.onMessage.addListener((message) => {
  const notice = message as Notice;
  if (notice?.type === 'status') show(notice.status.text, notice.status.kind);
  else if (notice?.type === 'first-part') firstPart();
  return undefined;
});

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

const pair = async (mailbox: string, code: string) => {
  const name = await ask<string>({ op: 'pair', mailbox, code });
  await render();
  return name;
};
const connect = async () => `Connected to ${await ask<string>({ op: 'connect' })}.`;
const fetchVia = (url: string, body?: string) => ask<{ status: number; text: string }>({ op: 'fetch', url, ...(body ? { body } : {}) });
/** A long fetch held by the background: `onFirstPart` once its first chunk came; resolves with 'more data' or the error code. */
const fetchHeld = (url: string, onFirstPart: () => void) => {
  firstPart = onFirstPart;
  return ask<string>({ op: 'fetch-held', url }).catch((e: { code?: string }) => e.code ?? String(e));
};

action('pair', async () => {
  const name = await pair($<HTMLInputElement>('mailbox').value.trim(), $<HTMLInputElement>('code').value.trim());
  $<HTMLInputElement>('code').value = '';
  return `Paired with ${name}.`;
});
action('connect', connect);
action('forget', async () => {
  await ask({ op: 'forget' });
  await render();
  return 'Forgot the agent.';
});
action('fetch', async () => {
  $<HTMLPreElement>('out').textContent = '';
  const body = $<HTMLInputElement>('body').value;
  const res = await fetchVia($<HTMLInputElement>('url').value.trim(), body || undefined);
  $<HTMLPreElement>('out').textContent = res.text;
  return `HTTP ${res.status} through the agent.`;
});

(globalThis as Record<string, unknown>)['burrowExample'] = { pair, connect, fetchVia, fetchHeld, state: () => ask<State>({ op: 'state' }), describeError };

void (async () => {
  const s = await render();
  $<HTMLInputElement>('mailbox').value = s.mailbox;
  if (s.connected) show(`Connected to ${s.agent?.name ?? 'the agent'}.`, 'ok');
  else if (s.status.text.startsWith('Reconnect failed') || s.status.text.startsWith('Disconnected')) show(s.status.text, s.status.kind);
  else show(s.agent ? `Paired with ${s.agent.name}: no code needed.` : 'Not paired yet: start `burrow agent --pair` and type its code.');
})();
