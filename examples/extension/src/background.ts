/**
 * The example extension's background (Chromium: the MV3 service worker;
 * Firefox: the MV3 background script): it holds the connection to the
 * Burrow agent (owner.ts), so the connection outlives the popup, which is
 * a view that sends requests here.
 *
 * The browser may stop this worker when idle. When it is stopped anyway,
 * the next event (a popup opening) starts it again and it reconnects from
 * the secret kept in IndexedDB: no code, as long as the browser session
 * wanted a connection.
 *
 * Chromium's service worker has no WebRTC: when the agent cannot be reached
 * on 127.0.0.1, requests go to an offscreen document (offscreen.ts) that
 * runs the same owner and reaches the agent through the mailbox.
 */
import { extensionApi, type Request } from './messages.js';
import { WANTED, answer, handle, resume } from './owner.js';

const api = extensionApi();
/** Requests go to the offscreen document from now on (this worker's life). */
let delegated = false;

async function offscreen(): Promise<void> {
  const o = api.offscreen!;
  if (await o.hasDocument()) return;
  await o.createDocument({ url: 'offscreen.html', reasons: ['WEB_RTC'], justification: 'reach the Burrow agent through the mailbox over WebRTC when 127.0.0.1 is unreachable' });
}

async function delegate(request: Request): Promise<unknown> {
  await offscreen();
  const reply = (await api.runtime.sendMessage({ ...request, target: 'offscreen' })) as { ok: boolean; value?: unknown; code?: string; message?: string } | undefined;
  if (reply?.ok) {
    if (request.op === 'connect' || request.op === 'fetch') await api.storage?.session.set({ [WANTED]: true });
    return reply.value;
  }
  throw Object.assign(new Error(reply?.message ?? 'the offscreen document did not answer'), reply?.code ? { code: reply.code } : {});
}

/** Here first; in the offscreen document when only the mailbox reaches the agent. */
async function route(request: Request): Promise<unknown> {
  if (delegated) return delegate(request);
  try {
    return await handle(request);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const unreachable = (code === 'Connection' || code === 'Timeout') && request.op !== 'pair';
    if (!unreachable || !api.offscreen) throw err;
    delegated = true;
    return delegate(request);
  }
}

answer((request) => request.target === undefined, route);
void resume(() => route({ op: 'connect' }));
