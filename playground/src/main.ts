/**
 * The playground: send and receive through a wormhole from a page. Text
 * works with any magic-wormhole peer; the code can be typed (with word
 * completion), opened as a link, or scanned as a QR code.
 */
import { completeCode, createWormhole, type Wormhole } from '@burrow/client';
import { formatWormholeUri, parseWormholeUri, toHex, verifierWords } from '@burrow/protocol';
import { renderSVG } from 'uqr';
import { explain } from './errors.js';
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

$('send-form').addEventListener('submit', (e) => {
  e.preventDefault();
  void sendText();
});
$('cancel-send').addEventListener('click', () => sendAbort?.abort());

async function sendText(): Promise<void> {
  const text = ($('send-text') as HTMLTextAreaElement).value;
  if (!text) {
    status(sendStatus, '<span class="bad">Type a message first.</span>');
    return;
  }
  sendAbort?.abort();
  const abort = (sendAbort = new AbortController());
  const button = $('send-button') as HTMLButtonElement;
  button.disabled = true;
  status(sendStatus, 'Connecting to the mailbox…');
  let w: Wormhole | undefined;
  try {
    w = await open(abort.signal);
    const code = await w.allocateCode(2, { signal: abort.signal });
    showCode(code);
    status(sendStatus, 'Waiting for the receiver…');
    const sent = w.sendText(text, { signal: abort.signal });
    await showVerifier(w, sendStatus, 'Connected. Sending…');
    await sent;
    await w.close();
    status(sendStatus, `${sendStatus.innerHTML}<br><span class="ok">Sent.</span>`);
  } catch (err) {
    await w?.close().catch(() => {});
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
  out.hidden = true;
  button.disabled = true;
  const abort = new AbortController();
  let w: Wormhole | undefined;
  try {
    status(receiveStatus, 'Connecting to the mailbox…');
    w = await open(abort.signal);
    w.setCode(code);
    status(receiveStatus, 'Waiting for the sender…');
    const text = w.receiveText({ signal: abort.signal });
    await showVerifier(w, receiveStatus, 'Connected.');
    out.textContent = await text;
    out.hidden = false;
    await w.close();
    status(receiveStatus, `${receiveStatus.innerHTML}<br><span class="ok">Received.</span>`);
  } catch (err) {
    await w?.close().catch(() => {});
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
