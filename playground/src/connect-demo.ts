/**
 * The `connect()` demo: two pages meet with a code, open a direct,
 * authenticated connection, and each message goes out on a stream of its
 * own and comes back echoed by the other side; the connection's
 * `getStats()` is shown as it changes. What a developer builds on.
 *
 *   const conn = await w.connect();
 *   const s = await conn.openStream();          // the peer sees it in conn.incoming
 *   await s.writable.getWriter().write(bytes);
 *   const stats = await conn.getStats();        // kind, path, rttMs, rates…
 */
import { bestEffort } from '@burrow/protocol';
import { createWormhole, type Connection, type DuplexStream, type Wormhole } from '@burrow/client';
import { explain } from './errors.js';
import { routeOf } from './route.js';
import { currentMailbox } from './settings.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

let w: Wormhole | undefined;
let conn: Connection | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

/** Send back every byte of every stream the peer opens. */
async function echo(c: Connection): Promise<void> {
  for await (const stream of c.incoming) void stream.readable.pipeTo(stream.writable).catch(bestEffort);
}

async function readAll(stream: DuplexStream): Promise<string> {
  const parts: Uint8Array[] = [];
  const reader = stream.readable.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  return new TextDecoder().decode(await new Blob(parts as BlobPart[]).arrayBuffer());
}

async function showStats(): Promise<void> {
  if (!conn) return;
  const s = await conn.getStats().catch(() => undefined);
  if (!s) return;
  const { route } = routeOf(s);
  $('connect-stats').textContent = JSON.stringify({ route, ...s }, null, 2);
}

async function start(code: string): Promise<void> {
  const status = $('connect-status');
  await stop();
  try {
    status.textContent = 'Connecting to the mailbox…';
    w = await createWormhole({ mailbox: currentMailbox() });
    if (code) w.setCode(code);
    else status.innerHTML = `Code: <b class="code-inline" data-testid="connect-code">${esc(await w.allocateCode())}</b> — open this panel in another tab and join with it.`;
    const line = status.innerHTML;
    status.innerHTML = `${code ? '' : `${line}<br>`}Connecting (WebRTC first, the relay if ICE fails)…`;
    conn = await w.connect();
    void echo(conn).catch(bestEffort);
    status.innerHTML = `${code ? '' : `${line}<br>`}<span class="ok" data-testid="connect-ok">Connected: ${esc(conn.kind)}</span>`;
    $('echo-form').hidden = false;
    timer = setInterval(() => void showStats(), 1000);
    await showStats();
    conn.closed.then(
      () => (status.innerHTML += '<br>The connection closed.'),
      (err: unknown) => (status.innerHTML += `<br><span class="bad">${esc(explain(err))}</span>`),
    );
  } catch (err) {
    status.innerHTML = `<span class="bad">${esc(explain(err))}</span>`;
  }
}

async function stop(): Promise<void> {
  if (timer) clearInterval(timer);
  timer = undefined;
  $('echo-form').hidden = true;
  await conn?.close().catch(bestEffort);
  await w?.close().catch(bestEffort);
  conn = undefined;
  w = undefined;
}

async function sendAndEcho(text: string): Promise<void> {
  if (!conn) return;
  const log = $('echo-log');
  const t0 = performance.now();
  try {
    const stream = await conn.openStream();
    const writer = stream.writable.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    const back = await readAll(stream);
    log.textContent += `→ ${text}\n← ${back}  (${(performance.now() - t0).toFixed(0)} ms round trip on a new stream)\n`;
  } catch (err) {
    log.textContent += `✗ ${explain(err)}\n`;
  }
  await showStats();
}

/** Wire the panel's buttons. */
export function setupConnectDemo(): void {
  $('connect-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void start(($('connect-join') as HTMLInputElement).value.trim());
  });
  $('echo-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void sendAndEcho(($('echo-text') as HTMLInputElement).value);
  });
  $('connect-close').addEventListener('click', () => {
    void stop().then(() => ($('connect-status').textContent = 'Closed.'));
  });
}
