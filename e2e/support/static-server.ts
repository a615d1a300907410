/** A tiny static file server on 127.0.0.1 for browser tests (pages must not be `null`-origin). */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.css': 'text/css',
};

export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serve `routes` (path → absolute file) and inline `pages` (path → HTML). */
export async function serveStatic(routes: Record<string, string>, pages: Record<string, string> = {}): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname);
    const page = pages[path];
    if (page !== undefined) {
      res.writeHead(200, { 'content-type': TYPES['.html']! });
      res.end(page);
      return;
    }
    const file = routes[path];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) => {
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
        res.end(body);
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const repoPath = (...parts: string[]): string => join(import.meta.dirname, '..', '..', ...parts);

/** Open `url` in a new page of `owner` (a browser or a context), collecting uncaught page errors. */
export async function openPage(
  owner: { newPage(): Promise<import('playwright-core').Page> },
  url: string,
): Promise<{ page: import('playwright-core').Page; errors: string[] }> {
  const page = await owner.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  return { page, errors };
}
