/**
 * The rig of the suites that put Chromium and Firefox face to face: a
 * gateway (mailbox + relay), a static site serving `page` with the built
 * IIFE bundle, and one running instance of each browser.
 */
import { existsSync } from 'node:fs';
import { assertPrivateNetwork, cleanup } from '@burrow/testkit';
import { startGateway, type Gateway } from '@burrow/gateway';
import { launchBrowser, type BrowserKind, type Driver } from './driver.js';
import { IIFE } from './iife.js';
import { serveStatic, type StaticServer } from './static-server.js';

export interface TwoBrowsers {
  readonly gateway: Gateway;
  readonly site: StaticServer;
  readonly browsers: ReadonlyMap<BrowserKind, Driver>;
  /** Close both browsers, the site and the gateway, then the testkit's servers. */
  close(): Promise<void>;
}

/** Start the rig (checks the private network namespace and that the IIFE bundle is built). */
export async function startTwoBrowsers(page: string): Promise<TwoBrowsers> {
  assertPrivateNetwork();
  if (!existsSync(IIFE)) throw new Error(`${IIFE} is missing: run \`pnpm build\` first`);
  const [gateway, site, chromium, firefox] = await Promise.all([
    startGateway({ port: 0, transitPort: 0 }),
    serveStatic({ '/burrow.iife.js': IIFE }, { '/': page }),
    launchBrowser('chromium'),
    launchBrowser('firefox'),
  ]);
  const browsers = new Map<BrowserKind, Driver>([
    ['chromium', chromium],
    ['firefox', firefox],
  ]);
  return {
    gateway,
    site,
    browsers,
    close: async () => {
      await Promise.all([...browsers.values()].map((b) => b.close()));
      await site.close();
      await gateway.close();
      await cleanup();
    },
  };
}
