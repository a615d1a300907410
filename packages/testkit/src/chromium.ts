import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright-core';
import { assertPrivateNetwork } from './net.js';
import { onCleanup } from './process.js';

/** Debian's Chromium (override with BURROW_CHROMIUM). */
export function chromiumPath(): string {
  return process.env['BURROW_CHROMIUM'] ?? '/usr/bin/chromium';
}

/** Resolve nothing but localhost; prefix your own `MAP name 127.0.0.1, ` rules to this. */
export const HOST_RESOLVER_RULES = 'MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1';

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
  '--disable-client-side-phishing-detection',
  '--disable-default-apps',
  '--no-pings',
  '--dns-prefetch-disable',
  // WebRtcHideLocalIpsWithMdns: host candidates as plain addresses, as the
  // Firefox profile does (obfuscate_host_addresses=false). Inside the test
  // netns a `.local` name from another browser process resolves only if an
  // mDNS answer crosses loopback in time, which made cross-process ICE flaky.
  '--disable-features=DnsOverHttps,AsyncDns,NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,CertificateTransparencyComponentUpdater,AutofillServerCommunication,WebRtcHideLocalIpsWithMdns',
  // No name but localhost ever resolves: Chromium cannot even ask DNS for
  // its update or metrics hosts. Tests that map names add their own MAP
  // rules in front of these (see HOST_RESOLVER_RULES).
  `--host-resolver-rules=${HOST_RESOLVER_RULES}`,
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
    // A caller's --host-resolver-rules replaces ours (Chromium keeps the last).
    args: [...CHROMIUM_ARGS.filter((a) => !(opts.args ?? []).some((o) => o.startsWith('--host-resolver-rules=') && a.startsWith('--host-resolver-rules='))), ...(opts.args ?? [])],
  };
}

/**
 * Launch Debian Chromium through playwright-core with a fresh profile.
 * Closed by `cleanup()`; playwright also kills it when the process exits.
 */
export async function launchChromium(opts: LaunchChromiumOptions = {}): Promise<Browser> {
  assertPrivateNetwork();
  const browser = await chromium.launch(launchOptions(opts));
  const unregister = onCleanup(() => browser.close().catch(() => { /* best-effort teardown: it may be closed already */ }));
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
  const unregister = onCleanup(() => context.close().catch(() => { /* best-effort teardown: it may be closed already */ }));
  context.once('close', unregister);
  return context;
}
