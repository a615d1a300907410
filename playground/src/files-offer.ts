/**
 * The receiving side of a files-v1 offer (many files and folders from
 * another Burrow page): the list with a checkbox each, what OPFS already
 * holds from an interrupted attempt, and the "resume" box shown while such
 * partial data exists.
 */
import { opfsFilesSink, type FilesOffer, type FilesProgress, type FilesResult, type OfferedFile, type OpfsFilesSink } from '@burrow/client';
import { formatBytes } from './files.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const SHOWN = 500;

/** The one OPFS sink of this page. */
export const sink: OpfsFilesSink = opfsFilesSink();

/** The offer as a list with checkboxes; `chosen()` reads them when the person accepts. */
export async function offerList(offer: FilesOffer): Promise<{ html: string; chosen: () => Set<number> }> {
  const held = new Map((await sink.listPartials().catch(() => [])).map((p) => [`${p.path}\n${p.size}`, p.held]));
  const heldOf = (f: OfferedFile) => held.get(`${f.path}\n${f.size}`) ?? 0;
  const resumable = offer.files.filter((f) => heldOf(f) > 0);
  const rows = offer.files.slice(0, SHOWN).map((f) => {
    const kept = heldOf(f);
    const note = kept > 0 ? ` <span class="resume-note">· ${formatBytes(kept)} already here, resumes</span>` : '';
    return `<li><label><input type="checkbox" data-file="${f.index}" checked> ${esc(f.path)} <span class="muted">(${formatBytes(f.size)})</span>${note}</label></li>`;
  });
  if (offer.files.length > SHOWN) rows.push(`<li class="muted">… and ${offer.files.length - SHOWN} more (all selected)</li>`);
  for (const d of offer.directories.slice(0, 50)) rows.push(`<li class="muted">${esc(d)}/ (empty folder)</li>`);
  const summary =
    `${offer.files.length} files, ${formatBytes(offer.bytes)}` +
    (resumable.length ? ` — <b data-testid="resumable">${resumable.length} can resume</b> from data this browser kept` : '');
  return {
    html: `<p data-testid="files-offer">The sender offers ${summary}:</p><ul class="offer-list">${rows.join('')}</ul>`,
    chosen() {
      const boxes = [...document.querySelectorAll<HTMLInputElement>('.offer-list input[data-file]')];
      const off = new Set(boxes.filter((b) => !b.checked).map((b) => Number(b.dataset['file'])));
      return new Set(offer.files.map((f) => f.index).filter((i) => !off.has(i)));
    },
  };
}

/** A progress bar for a files transfer: bytes in place, files done, bytes that crossed. */
export function filesProgressHtml(p: FilesProgress): string {
  return `<progress max="${p.total}" value="${p.bytes}"></progress>
    <span data-testid="progress">${formatBytes(p.bytes)} of ${formatBytes(p.total)} · ${p.filesDone} of ${p.files} files${p.moved < p.bytes ? ` · ${formatBytes(p.bytes - p.moved)} resumed` : ''}${p.done ? ' · done' : ''}</span>`;
}

/** Download links for the received files (disk-backed Files from OPFS). */
export async function receivedLinks(result: FilesResult): Promise<HTMLLIElement[]> {
  return Promise.all(
    result.files.map(async ({ path }) => {
      const file = await sink.getFile(path);
      const li = document.createElement('li');
      const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(file), download: path.split('/').at(-1)!, textContent: path });
      a.dataset['path'] = path;
      li.append(a, ` (${formatBytes(file.size)})`);
      return li;
    }),
  );
}

/** Show (or hide) the "resume" box for partial data kept in OPFS. */
export async function showPartials(box: HTMLElement, onResume: () => void): Promise<void> {
  const partials = await sink.listPartials().catch(() => []);
  box.hidden = partials.length === 0;
  if (box.hidden) return;
  const held = partials.reduce((n, p) => n + p.held, 0);
  const total = partials.reduce((n, p) => n + p.size, 0);
  box.innerHTML = `<p data-testid="partials">An interrupted transfer left <b>${partials.length} unfinished file${partials.length === 1 ? '' : 's'}</b> here
    (${formatBytes(held)} of ${formatBytes(total)}). Ask the sender to send them again — a new code is fine — and receive: only the rest will cross.</p>
    <div class="row"><button type="button" id="resume-button" class="primary">Resume: enter the new code</button>
    <button type="button" id="discard-partials">Discard</button></div>`;
  box.querySelector<HTMLButtonElement>('#resume-button')!.onclick = onResume;
  box.querySelector<HTMLButtonElement>('#discard-partials')!.onclick = () => {
    void sink.clearPartials().then(() => showPartials(box, onResume));
  };
}
