/**
 * The playground: send and receive through a wormhole from a page. Text
 * works with any magic-wormhole peer; the code can be typed (with word
 * completion), opened as a link, or scanned as a QR code. Files go with
 * `sendFiles`: to another Burrow page many files and folders in one offer
 * over WebRTC (the relay only if ICE fails), resumable from OPFS; to the
 * `wormhole` CLI as a Transit v1 file or folder, as before.
 */
import { bestEffort } from '@burrow/protocol';
import {
  completeCode,
  createWormhole,
  httpStreamDialer,
  opfsDirectorySink,
  opfsFileSink,
  receiveOffer,
  sendFiles,
  type FilesOffer,
  type FilesProgress,
  type FilesResult,
  type SendItem,
  type TransferProgress,
  type TransferResult,
  type Wormhole,
  webSocketDialer,
} from '@burrow/client';
import { formatWormholeUri, parseWormholeUri, toHex, verifierWords } from '@burrow/protocol';
import { renderSVG } from 'uqr';
import { explain } from './errors.js';
import { formatBytes, formatDuration, fromDrop, fromInput, isDirectoryItem, itemBytes } from './files.js';
import { filesProgressHtml, offerList, receivedLinks, showPartials, sink } from './files-offer.js';
import { setupConnectDemo as connectDemo } from './connect-demo.js';
import { StatsLine } from './route.js';
import { currentMailbox, defaultMailbox, saveMailbox } from './settings.js';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};

function status(target: HTMLElement, html: string): void {
  target.innerHTML = html;
}
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// ---------------------------------------------------------------- settings
function showMailbox(): void {
  $('mailbox-label').textContent = currentMailbox();
  ($('mailbox-input') as HTMLInputElement).value = currentMailbox();
}
$('settings-form').addEventListener('submit', (e) => {
  e.preventDefault();
  saveMailbox(($('mailbox-input') as HTMLInputElement).value.trim());
  showMailbox();
});
$('mailbox-reset').addEventListener('click', () => {
  saveMailbox(null);
  ($('mailbox-input') as HTMLInputElement).value = defaultMailbox();
  showMailbox();
});
showMailbox();

async function open(signal: AbortSignal): Promise<Wormhole> {
  return createWormhole({ mailbox: currentMailbox(), signal });
}

async function showVerifier(w: Wormhole, target: HTMLElement, prefix: string): Promise<void> {
  const v = await w.verifier;
  status(
    target,
    `${prefix}<br>Verifier: <span class="verifier" title="${toHex(v)}" data-testid="verifier">${verifierWords(v).join(' ')}</span>`,
  );
}

// -------------------------------------------------------------------- send
const sendStatus = $('send-status');
let sendAbort: AbortController | undefined;
/** Files and folders waiting to be sent, in one offer. */
let queue: SendItem[] = [];

function showQueue(): void {
  const list = $('file-list');
  const rows = queue.map((item, i) => {
    const li = document.createElement('li');
    li.textContent = isDirectoryItem(item)
      ? `folder ${item.name}: ${item.entries.filter((e) => e.type === 'file').length} files, ${formatBytes(itemBytes(item))}`
      : `${item.name} (${formatBytes(item.size)})`;
    const remove = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Remove', className: 'small' });
    remove.onclick = () => {
      queue = queue.filter((_, j) => j !== i);
      showQueue();
    };
    li.append(' ', remove);
    return li;
  });
  if (queue.length > 1) {
    const total = Object.assign(document.createElement('li'), { className: 'total', textContent: `${queue.length} items, ${formatBytes(queue.reduce((n, it) => n + itemBytes(it), 0))} in one offer` });
    rows.push(total);
  }
  list.replaceChildren(...rows);
}

for (const id of ['file-input', 'dir-input']) {
  const input = $(id) as HTMLInputElement;
  input.addEventListener('change', () => {
    if (input.files) queue = [...queue, ...fromInput(input.files)];
    input.value = '';
    showQueue();
  });
}
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (!e.dataTransfer) return;
  void fromDrop(e.dataTransfer).then(
    (items) => {
      queue = [...queue, ...items];
      showQueue();
    },
    (err: unknown) => status(sendStatus, `<span class="bad">${esc(explain(err))}</span>`),
  );
});

$('send-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void send();
});
$('cancel-send').addEventListener('click', () => sendAbort?.abort());

/** A progress line: bar, bytes, rate, time left. */
function progressHtml(p: TransferProgress): string {
  const left = p.bytesPerSecond > 0 ? (p.total - p.bytes) / p.bytesPerSecond : Infinity;
  return `<progress max="${p.total}" value="${p.bytes}"></progress>
    <span data-testid="progress">${formatBytes(p.bytes)} of ${formatBytes(p.total)} · ${formatBytes(p.bytesPerSecond)}/s · ${p.done ? 'done' : `${formatDuration(left)} left`}</span>`;
}

function pathHtml(result: TransferResult | FilesResult): string {
  const path =
    result.via === 'relay' ? `through the relay (${result.connection.replace(/^->relay:/, '')})` : result.via === 'webrtc' ? `WebRTC (${result.connection})` : 'direct connection';
  const files = 'files' in result;
  const extra = files ? ` · ${result.files.length} files${result.moved < result.bytes ? `, ${formatBytes(result.bytes - result.moved)} resumed` : ''}${result.reconnects ? ` · ${result.reconnects} reconnect(s)` : ''}` : '';
  return `<span class="path" data-testid="path">Path: ${esc(path)} · ${formatBytes(result.bytes)} in ${(result.elapsedMs / 1000).toFixed(1)} s${extra}</span>`;
}

async function send(): Promise<void> {
  const text = ($('send-text') as HTMLTextAreaElement).value;
  if (!text && queue.length === 0) {
    status(sendStatus, '<span class="bad">Type a message or choose files first.</span>');
    return;
  }
  sendAbort?.abort();
  const abort = (sendAbort = new AbortController());
  const { signal } = abort;
  const button = $('send-button') as HTMLButtonElement;
  button.disabled = true;
  status(sendStatus, 'Connecting to the mailbox…');
  let w: Wormhole | undefined;
  try {
    w = await open(signal);
    const code = await w.allocateCode(2, { signal });
    showCode(code);
    status(sendStatus, 'Waiting for the receiver…');
    const items = queue;
    const progressLine = document.createElement('div');
    const stats = new StatsLine('send');
    const onProgress = (p: FilesProgress) => {
      progressLine.innerHTML = filesProgressHtml(p);
      stats.progress(p);
    };
    // Another Burrow page: files-v1 over connect(); the wormhole CLI: Transit v1 (a folder named burrow-files for several items).
    const sending: Promise<TransferResult | FilesResult | undefined> =
      items.length === 0 ? w.sendText(text, { signal }).then(() => undefined) : sendFiles(w, items, { signal, onProgress, onConnection: (conn) => stats.follow(conn) });
    await showVerifier(w, sendStatus, 'Connected. Sending…');
    sendStatus.append(progressLine, stats.element);
    const result = await sending.finally(() => stats.stop());
    await stats.refresh();
    await w.close();
    if (result) {
      queue = [];
      showQueue();
    }
    sendStatus.insertAdjacentHTML('beforeend', `<span class="ok">Sent.</span>${result ? `<br>${pathHtml(result)}` : ''}`);
  } catch (err) {
    await w?.close().catch(bestEffort);
    status(sendStatus, `<span class="bad">${esc(explain(err))}</span>`);
  } finally {
    button.disabled = false;
    $('send-session').hidden = true;
  }
}

function showCode(code: string): void {
  $('send-session').hidden = false;
  $('send-code').textContent = code;
  $('cli-hint').textContent = `wormhole --relay-url ${currentMailbox()} receive ${code}`;
  const link = `${location.origin}${location.pathname}#${formatWormholeUri({ code, rendezvous: currentMailbox(), role: 'follower' })}`;
  $('qr').innerHTML = renderSVG(link, { border: 1 });
  $('copy-code').onclick = () => void navigator.clipboard?.writeText(code);
  $('copy-link').onclick = () => void navigator.clipboard?.writeText(link);
}

// ----------------------------------------------------------------- receive
const codeInput = $('receive-code') as HTMLInputElement;
const receiveStatus = $('receive-status');

codeInput.addEventListener('input', () => {
  const value = codeInput.value;
  const nameplate = /^(\d+)-/.exec(value)?.[1];
  const options = nameplate ? completeCode(value, { nameplates: [nameplate], words: 2 }) : [];
  $('code-completions').replaceChildren(
    ...options.slice(0, 20).map((o) => Object.assign(document.createElement('option'), { value: o })),
  );
});

$('receive-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void receive(codeInput.value.trim());
});

async function receive(code: string): Promise<void> {
  const button = $('receive-button') as HTMLButtonElement;
  const out = $('received-text');
  const files = $('received-files');
  out.hidden = true;
  files.replaceChildren();
  button.disabled = true;
  const abort = new AbortController();
  const { signal } = abort;
  let w: Wormhole | undefined;
  try {
    status(receiveStatus, 'Connecting to the mailbox…');
    w = await open(signal);
    w.setCode(code);
    status(receiveStatus, 'Waiting for the sender…');
    const stats = new StatsLine('receive');
    // A file from the wormhole CLI comes through the relay: over an HTTP stream where the gateway has one (cheaper for the browser than WebSocket messages), else the WebSocket.
    const offered = receiveOffer(w, { signal, transit: { dialers: { websocket: httpStreamDialer({ fallback: webSocketDialer() }) } } });
    await showVerifier(w, receiveStatus, 'Connected.');
    const offer = await offered;
    const verifierLine = receiveStatus.innerHTML;
    if (offer.type === 'message') {
      out.textContent = offer.message;
      out.hidden = false;
      await w.close();
      status(receiveStatus, `${verifierLine}<br><span class="ok">Received.</span>`);
      return;
    }
    if (offer.type === 'files') {
      await receiveFiles(w, offer, verifierLine, stats, signal);
      return;
    }
    const what =
      offer.type === 'file'
        ? `the file <b>${esc(offer.name)}</b> (${formatBytes(offer.size)})`
        : `the folder <b>${esc(offer.name)}</b> (${offer.numFiles} files, ${formatBytes(offer.numBytes)})`;
    if (!(await askAccept(w, offer, `${verifierLine}<br>The sender offers ${what}. `, verifierLine))) return;
    const progressLine = document.createElement('div');
    status(receiveStatus, `${verifierLine}<br>Receiving ${what}…`);
    receiveStatus.append(progressLine);
    const onProgress = (p: TransferProgress) => (progressLine.innerHTML = progressHtml(p));
    let links: { path: string; file: File }[];
    let result: TransferResult;
    if (offer.type === 'file') {
      const sink = await opfsFileSink(offer.name);
      result = await offer.accept(sink.writable, { signal, onProgress });
      links = [{ path: offer.name, file: await sink.file() }];
    } else {
      const sink = await opfsDirectorySink(offer.name);
      result = await offer.accept(sink, { signal, onProgress });
      links = await sink.files();
    }
    await w.close();
    files.replaceChildren(
      ...links.map(({ path, file }) => {
        const li = document.createElement('li');
        const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(file), download: path.split('/').at(-1)!, textContent: path });
        li.append(a, ` (${formatBytes(file.size)})`);
        return li;
      }),
    );
    status(receiveStatus, `${verifierLine}<br><span class="ok">Received.</span> SHA-256 <code data-testid="sha256">${result.sha256}</code><br>${pathHtml(result)}`);
  } catch (err) {
    await w?.close().catch(bestEffort);
    status(receiveStatus, `<span class="bad">${esc(explain(err))}</span>`);
  } finally {
    button.disabled = false;
    void refreshPartials();
  }
}

/** Show `question` with Accept / Decline; a decline refuses the offer and closes the wormhole. Resolves with the answer. */
async function askAccept(w: Wormhole, offer: { reject(): Promise<void> }, question: string, verifierLine: string): Promise<boolean> {
  status(receiveStatus, `${question}<button type="button" id="accept" class="primary">Accept</button> <button type="button" id="decline">Decline</button>`);
  const accepted = await new Promise<boolean>((resolve) => {
    $('accept').onclick = () => resolve(true);
    $('decline').onclick = () => resolve(false);
  });
  if (!accepted) {
    await offer.reject();
    await w.close();
    status(receiveStatus, `${verifierLine}<br>Declined.`);
  }
  return accepted;
}

/** A files-v1 offer from another Burrow page: pick, accept into OPFS (resuming what is kept), links. */
async function receiveFiles(w: Wormhole, offer: FilesOffer, verifierLine: string, stats: StatsLine, signal: AbortSignal): Promise<void> {
  const list = await offerList(offer);
  if (!(await askAccept(w, offer, `${verifierLine}<br>${list.html}`, verifierLine))) return;
  const chosen = list.chosen();
  const progressLine = document.createElement('div');
  status(receiveStatus, `${verifierLine}<br>Receiving ${chosen.size} of ${offer.files.length} files…`);
  receiveStatus.append(progressLine, stats.element);
  const onProgress = (p: FilesProgress) => {
    progressLine.innerHTML = filesProgressHtml(p);
    stats.progress(p);
  };
  const result = await offer.accept(sink, { signal, onProgress, select: (f) => chosen.has(f.index), onConnection: (conn) => stats.follow(conn) }).finally(() => stats.stop());
  await stats.refresh();
  await w.close();
  $('received-files').replaceChildren(...(await receivedLinks(result)));
  receiveStatus.insertAdjacentHTML('beforeend', `<span class="ok">Received.</span><br>${pathHtml(result)}`);
}

/** The "resume" box: shown while OPFS keeps partial data of an interrupted transfer. */
function refreshPartials(): Promise<void> {
  return showPartials($('resume'), () => {
    codeInput.focus();
    status(receiveStatus, 'Ask the sender to send the same files again, type the new code, and press Receive: the transfer resumes.');
  });
}
void refreshPartials();
connectDemo();

// A link or QR code: #wormhole-transfer:CODE?rendezvous=…
function fromLink(): void {
  const hash = decodeURIComponent(location.hash.slice(1));
  if (!hash.startsWith('wormhole-transfer:')) return;
  try {
    const uri = parseWormholeUri(hash);
    if (uri.rendezvous && uri.rendezvous !== currentMailbox()) {
      saveMailbox(uri.rendezvous);
      showMailbox();
    }
    codeInput.value = uri.code;
    status(receiveStatus, 'Code filled in from the link. Press Receive when ready.');
    $('receive-button').focus();
  } catch (err) {
    status(receiveStatus, `<span class="bad">${esc(explain(err))}</span>`);
  }
}
window.addEventListener('hashchange', fromLink);
fromLink();
