/**
 * Set-up and teardown shared by the e2e suites whose test page loads the
 * built IIFE bundle (packages/client/dist/burrow.iife.js).
 */
import { existsSync } from 'node:fs';
import { startGateway, type Gateway } from '@burrow/gateway';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir } from '@burrow/testkit';
import { launchBrowser, type BrowserKind, type Driver } from './driver.js';
import { repoPath, serveStatic, type StaticServer } from './static-server.js';

/** The built IIFE bundle the test pages load. */
export const IIFE = repoPath('packages', 'client', 'dist', 'burrow.iife.js');

/** Check the private network namespace and that the IIFE bundle is built; returns a fresh temp dir named with `prefix`. */
export function prepareIifeSuite(prefix: string): string {
  assertPrivateNetwork();
  if (!existsSync(IIFE)) throw new Error(`${IIFE} is missing: run \`pnpm build\` first`);
  return makeTempDir(prefix);
}

/** Something a suite started and must stop. */
export interface Closable {
  close(): Promise<unknown>;
}

/** Suite teardown: close each started thing in order (skipping those never started), then the testkit's servers, then remove `dir`. */
export async function closeSuite(dir: string | undefined, ...started: (Closable | undefined)[]): Promise<void> {
  for (const s of started) await s?.close();
  await cleanup();
  if (dir) removeDir(dir);
}

/** A suite's rig: a gateway (mailbox + relay), a site serving one page with the IIFE bundle, one browser, a temp dir. */
export interface PageRig {
  readonly dir: string;
  readonly gw: Gateway;
  readonly site: StaticServer;
  readonly browser: Driver;
  close(): Promise<void>;
}

/** Start a {@link PageRig} serving `page` at `/` (checks the netns and the built bundle first). */
export async function startPageRig(prefix: string, page: string, kind: BrowserKind): Promise<PageRig> {
  const dir = prepareIifeSuite(prefix);
  const [gw, site, browser] = await Promise.all([
    startGateway({ port: 0, transitPort: 0 }),
    serveStatic({ '/burrow.iife.js': IIFE }, { '/': page }),
    launchBrowser(kind),
  ]);
  return { dir, gw, site, browser, close: () => closeSuite(dir, browser, site, gw) };
}
