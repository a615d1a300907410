/**
 * The owner of the example extension's agent connection: the pairing, the
 * session, and every request a view makes of it. It runs in the background
 * (background.ts) and, in Chromium when the agent must be reached through
 * the mailbox over WebRTC (a service worker has no RTCPeerConnection), in
 * an offscreen document (offscreen.ts).
 *
 * A connected session pings the agent every 20 s (WebSocket traffic keeps
 * a Chromium service worker alive). The connection is tried on 127.0.0.1
 * first, then through native messaging (the agent's host, no TCP port),
 * then, where this context has WebRTC, through the mailbox the extension
 * paired through (remote-v1): no code any way.
 */
import { NATIVE_HOST_NAME, connectAgent, nativeMessaging, pairWithAgent, type AgentSession } from '@burrow/agent/client';
import { Pairings, idbStore, type PairingInfo } from '@burrow/store';
import { extensionApi, type Notice, type Request, type State, type Status } from './messages.js';

const api = extensionApi();
const store = idbStore({ database: 'burrow-example' });
const pairings = new Pairings(store);
const DEFAULT_MAILBOX = 'ws://relay.magic-wormhole.io:4000/v1';
const KEEPALIVE_MS = 20_000;
/** In `storage.session`: a connection was wanted (survives a stopped worker, not a browser restart). */
export const WANTED = 'burrow-example-connected';
/** Remote reconnects need WebRTC here (a Chromium service worker has none). */
const HAS_WEBRTC = typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection === 'function';

let session: AgentSession | undefined;
let connecting: Promise<AgentSession> | undefined;
let status: Status = { text: '', kind: '' };

/** A sentence for people, with the stable error code where there is one. */
export function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}

function tell(notice: Notice): void {
  // No view open: nobody to tell.
  api.runtime.sendMessage(notice).catch(() => undefined);
}

export function setStatus(text: string, kind: Status['kind'] = ''): void {
  status = { text, kind };
  tell({ type: 'status', status });
}

export async function currentAgent(): Promise<PairingInfo | undefined> {
  const agents = (await pairings.list()).filter((p) => p.peerRole === 'agent');
  return agents[agents.length - 1];
}

async function state(): Promise<State> {
  const settings = (await store.get('settings')) as { mailbox?: string } | undefined;
  const agent = await currentAgent();
  return {
    status,
    mailbox: settings?.mailbox ?? DEFAULT_MAILBOX,
    connected: session !== undefined,
    ...(agent ? { agent: { name: agent.name, ...(agent.endpoint ? { endpoint: agent.endpoint } : {}), revoked: agent.revokedAt !== undefined } } : {}),
  };
}

/** "Nothing answers there": the next way may work; anything else (a refusal) is final. */
const unreachable = (err: unknown) => ['Connection', 'Timeout'].includes((err as { code?: string }).code ?? '');

/**
 * Reach the agent, each way in turn: its WebSocket on 127.0.0.1, native
 * messaging (no TCP port: the agent's host, where installed), then the
 * mailbox over WebRTC (remote-v1) where this context has WebRTC.
 */
async function reach(): Promise<AgentSession> {
  const signal = AbortSignal.timeout(30_000);
  try {
    return await connectAgent({ store, signal });
  } catch (err) {
    if (!unreachable(err)) throw err;
    if (api.runtime.connectNative) {
      try {
        return await connectAgent({ store, signal, WebSocket: nativeMessaging(() => api.runtime.connectNative!(NATIVE_HOST_NAME)) });
      } catch (nativeErr) {
        if (!unreachable(nativeErr)) throw nativeErr;
      }
    }
    const settings = (await store.get('settings')) as { mailbox?: string } | undefined;
    if (!HAS_WEBRTC || !settings?.mailbox) throw err;
    return connectAgent({ store, signal, remote: { mailbox: settings.mailbox, tryLocal: false, timeoutMs: 20_000 } });
  }
}

/** Connect (or reuse the open session); its end is reported in the status line. */
export function connect(): Promise<AgentSession> {
  if (session) return Promise.resolve(session);
  connecting ??= (async () => {
    try {
      const s = await reach();
      session = s;
      await api.storage?.session.set({ [WANTED]: true }); // (an offscreen document has no storage API: the worker notes it)
      const keepalive = setInterval(() => void s.call('info').catch(() => undefined), KEEPALIVE_MS);
      s.closed
        .then(
          () => setStatus('Disconnected from the agent.'),
          (err: unknown) => setStatus(`Disconnected: ${describeError(err)}`, 'error'),
        )
        .finally(() => {
          clearInterval(keepalive);
          if (session === s) session = undefined;
        });
      setStatus(`Connected to ${s.agent.name}.`, 'ok');
      return s;
    } finally {
      connecting = undefined;
    }
  })();
  return connecting;
}

async function fetchVia(url: string, body?: string): Promise<{ status: number; text: string }> {
  const s = await connect();
  const res = await s.fetch(url, body ? { method: 'POST', body, headers: { 'content-type': 'text/plain' } } : {});
  return { status: res.status, text: await res.text() };
}

/** A long response: tell views after its first chunk; resolve once it ends. */
async function fetchHeld(url: string): Promise<string> {
  const res = await (await connect()).fetch(url);
  const reader = res.body!.getReader();
  await reader.read();
  tell({ type: 'first-part' });
  await reader.read();
  return 'more data';
}

/** Do what a view asked. */
export async function handle(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'state':
      return state();
    case 'pair': {
      await store.set('settings', { mailbox: request.mailbox });
      const agent = await pairWithAgent({ mailbox: request.mailbox, code: request.code, store, name: 'Burrow example extension', signal: AbortSignal.timeout(60_000) });
      setStatus(`Paired with ${agent.name}.`, 'ok');
      return agent.name;
    }
    case 'connect':
      return (await connect()).agent.name;
    case 'fetch':
      return fetchVia(request.url, request.body);
    case 'fetch-held':
      return fetchHeld(request.url);
    case 'forget': {
      const agent = await currentAgent();
      await session?.close();
      session = undefined;
      await api.storage?.session.set({ [WANTED]: false });
      if (agent) await pairings.remove(agent.id);
      return undefined;
    }
  }
}

/** Answer `runtime` messages that `accept`s with {@link handle}. */
export function answer(accept: (request: Request) => boolean, run: (request: Request) => Promise<unknown> = handle): void {
  api.runtime.onMessage.addListener((message, _sender, sendResponse) => {
    const request = message as Request;
    if (typeof request?.op !== 'string' || !accept(request)) return undefined;
    run(request).then(
      (value) => sendResponse({ ok: true, value }),
      (err: unknown) => {
        const e = err as { code?: string; message?: string };
        sendResponse({ ok: false, ...(e?.code ? { code: e.code } : {}), message: String(e?.message ?? err) });
      },
    );
    return true; // answered asynchronously
  });
}

/** Started (again, after the browser stopped it): show the pairing, and reconnect if a connection was wanted. */
export async function resume(reconnect: () => Promise<unknown> = connect): Promise<void> {
  const agent = await currentAgent();
  setStatus(agent ? `Paired with ${agent.name}: no code needed.` : 'Not paired yet: start `burrow agent --pair` and type its code.');
  const wanted = (await api.storage?.session.get(WANTED))?.[WANTED] === true;
  if (agent && agent.revokedAt === undefined && wanted) await reconnect().catch((err: unknown) => setStatus(`Reconnect failed: ${describeError(err)}`, 'error'));
}
