import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';
import { assertPrivateNetwork } from './net.js';
import { onCleanup } from './process.js';

/** Debian's Chromium (override with BURROW_CHROMIUM). */
export function chromiumPath(): string {
  return process.env['BURROW_CHROMIUM'] ?? '/usr/bin/chromium';
}

/**
 * Flags for headless Chromium in the rig (DESIGN.md §5). WebRTC on loopback
 * needs both the loopback flag and a media permission (the fake UI grants
 * it); without the permission ICE gathers no candidates.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-domain-reliability',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

export interface LaunchChromiumOptions {
  /** Extra Chromium flags, appended. */
  args?: string[];
  /** Other playwright launch options (headless stays on unless overridden). */
  launch?: Omit<LaunchOptions, 'executablePath' | 'args'>;
}

function launchOptions(opts: LaunchChromiumOptions): LaunchOptions {
  return {
    headless: true,
    chromiumSandbox: false,
    timeout: 30_000,
    ...opts.launch,
    executablePath: chromiumPath(),
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
  };
}

/**
 * Launch Debian Chromium through playwright-core with a fresh profile.
 * Closed by `cleanup()`; playwright also kills it when the process exits.
 */
export async function launchChromium(opts: LaunchChromiumOptions = {}): Promise<Browser> {
  assertPrivateNetwork();
  const browser = await chromium.launch(launchOptions(opts));
  const unregister = onCleanup(() => browser.close().catch(() => {}));
  browser.once('disconnected', unregister);
  return browser;
}

/**
 * Chromium with a persistent profile in `userDataDir` (IndexedDB and the rest
 * survive a close and a new launch on the same dir).
 */
export async function newPersistentContext(
  userDataDir: string,
  opts: LaunchChromiumOptions = {},
): Promise<BrowserContext> {
  assertPrivateNetwork();
  const context = await chromium.launchPersistentContext(userDataDir, launchOptions(opts));
  const unregister = onCleanup(() => context.close().catch(() => {}));
  context.once('close', unregister);
  return context;
}
