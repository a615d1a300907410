/**
 * The playground: send and receive through a wormhole from a page. Text
 * works with any magic-wormhole peer; the code can be typed (with word
 * completion), opened as a link, or scanned as a QR code.
 */
import { bestEffort } from '@burrow/protocol';
import {
  completeCode,
  createWormhole,
  opfsDirectorySink,
  opfsFileSink,
  receiveOffer,
  sendDirectory,
  sendFile,
  type TransferProgress,
  type TransferResult,
  type Wormhole,
} from '@burrow/client';
import { formatWormholeUri, parseWormholeUri, toHex, verifierWords } from '@burrow/protocol';
import { renderSVG } from 'uqr';
import { explain } from './errors.js';
import { formatBytes, formatDuration, fromDrop, fromInput, type Picked } from './files.js';
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
let picked: Picked | undefined;

function showPicked(): void {
  const list = $('file-list');
  if (!picked) {
    list.replaceChildren();
    return;
  }
  const li = document.createElement('li');
  li.textContent =
    picked.kind === 'file'
      ? `${picked.source.name} (${formatBytes(picked.source.size)})`
      : `folder ${picked.source.name}: ${picked.source.entries.filter((e) => e.type === 'file').length} files, ${formatBytes(picked.bytes)}`;
  const clear = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Remove' });
  clear.onclick = () => {
    picked = undefined;
    showPicked();
  };
  li.append(' ', clear);
  list.replaceChildren(li);
}

for (const id of ['file-input', 'dir-input']) {
  const input = $(id) as HTMLInputElement;
  input.addEventListener('change', () => {
    if (input.files) picked = fromInput(input.files);
    showPicked();
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
    (p) => {
      picked = p;
      showPicked();
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

function pathHtml(result: TransferResult): string {
  const path = result.via === 'relay' ? `through the relay (${result.connection.replace(/^->relay:/, '')})` : 'direct connection';
  return `<span class="path" data-testid="path">Path: ${esc(path)} · ${formatBytes(result.bytes)} in ${(result.elapsedMs / 1000).toFixed(1)} s</span>`;
}

async function send(): Promise<void> {
  const text = ($('send-text') as HTMLTextAreaElement).value;
  if (!text && !picked) {
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
    const what = picked;
    const progressLine = document.createElement('div');
    const onProgress = (p: TransferProgress) => (progressLine.innerHTML = progressHtml(p));
    const sending: Promise<TransferResult | undefined> = !what
      ? w.sendText(text, { signal }).then(() => undefined)
      : what.kind === 'file'
        ? sendFile(w, what.source, { signal, onProgress })
        : sendDirectory(w, what.source, { signal, onProgress });
    await showVerifier(w, sendStatus, 'Connected. Sending…');
    sendStatus.append(progressLine);
    const result = await sending;
    await w.close();
    status(sendStatus, `${sendStatus.innerHTML}<br><span class="ok">Sent.</span>${result ? `<br>${pathHtml(result)}` : ''}`);
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
    const offered = receiveOffer(w, { signal });
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
    const what =
      offer.type === 'file'
        ? `the file <b>${esc(offer.name)}</b> (${formatBytes(offer.size)})`
        : `the folder <b>${esc(offer.name)}</b> (${offer.numFiles} files, ${formatBytes(offer.numBytes)})`;
    status(
      receiveStatus,
      `${verifierLine}<br>The sender offers ${what}. <button type="button" id="accept" class="primary">Accept</button> <button type="button" id="decline">Decline</button>`,
    );
    const accepted = await new Promise<boolean>((resolve) => {
      $('accept').onclick = () => resolve(true);
      $('decline').onclick = () => resolve(false);
    });
    if (!accepted) {
      await offer.reject();
      await w.close();
      status(receiveStatus, `${verifierLine}<br>Declined.`);
      return;
    }
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
  }
}

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
