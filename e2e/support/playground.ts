/** Serve the built playground (playground/dist) and drive its two panels. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DriverPage } from './driver.js';
import { repoPath } from './static-server.js';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, normalize } from 'node:path';

const DIST = repoPath('playground', 'dist');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.svg': 'image/svg+xml' };

export async function servePlayground(): Promise<{ url: string; close(): Promise<void> }> {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST} is missing: run \`pnpm build\` first`);
  const server: Server = createServer((req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname);
    const file = join(DIST, path === '/' ? 'index.html' : path);
    if (!file.startsWith(DIST)) return void res.writeHead(403).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  if (typeof a !== 'object' || !a) throw new Error('no address');
  return { url: `http://127.0.0.1:${a.port}/`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export const SHOTS = repoPath('test-results', 'screenshots');

/** Save a screenshot as a test artefact, one folder per browser (test-results/screenshots/BROWSER/NAME.png). */
export async function shot(page: DriverPage, name: string): Promise<void> {
  await page.screenshot(join(SHOTS, page.kind, `${name}.png`));
}

/** Open the playground on `mailbox`. */
export async function openPlayground(page: DriverPage, site: string, mailbox: string): Promise<void> {
  await page.goto(`${site}?mailbox=${encodeURIComponent(mailbox)}`);
  await page.waitFor('#send-button');
}

/** Start sending (text, or whatever is picked) and return the code shown. */
export async function startSend(page: DriverPage): Promise<string> {
  await page.click('#send-button');
  await page.waitFor('[data-testid=send-code]', { timeout: 20_000 });
  return (await page.textContent('[data-testid=send-code]'))!.trim();
}

export async function typeCodeAndReceive(page: DriverPage, code: string): Promise<void> {
  await page.fill('#receive-code', code);
  await page.click('#receive-button');
}
