/**
 * The example extension (examples/extension) in e2e tests: build it, know
 * its origin in each browser, open its popup, and drive the popup through
 * one small interface whichever driver runs the browser.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { Page as PuppeteerPage } from 'puppeteer-core';
import { build } from 'vite';
import { makeTempDir, newPersistentContext, waitFor, type FirefoxBrowser } from '@burrow/testkit';
import { repoPath } from './static-server.js';

/** The Firefox add-on id in the example's manifest. */
export const GECKO_ID = 'burrow-example@burrow.invalid';

/** Build the example extension into a fresh temp dir; returns the dir. */
export async function buildExtension(): Promise<string> {
  const dir = makeTempDir('burrow-extension-');
  await build({ configFile: join(repoPath('examples', 'extension'), 'vite.config.ts'), build: { outDir: dir, emptyOutDir: true }, logLevel: 'error' });
  return dir;
}

/** Chromium's id for an unpacked extension with a manifest `key`: SHA-256 of the key, first 16 bytes, nibbles as a–p. */
export function chromiumExtensionId(extDir: string): string {
  const key = (JSON.parse(readFileSync(join(extDir, 'manifest.json'), 'utf8')) as { key: string }).key;
  const digest = createHash('sha256').update(Buffer.from(key, 'base64')).digest().subarray(0, 16);
  return [...digest.toString('hex')].map((c) => 'abcdefghijklmnop'[parseInt(c, 16)]).join('');
}

/** Chromium with the unpacked extension loaded, on a persistent profile. */
export function chromiumWithExtension(profile: string, extDir: string): Promise<BrowserContext> {
  return newPersistentContext(profile, { args: [`--disable-extensions-except=${extDir}`, `--load-extension=${extDir}`], launch: { ignoreDefaultArgs: ['--disable-extensions'] } });
}

/** Firefox prefs that give the example a fixed internal UUID, so its origin `moz-extension://<uuid>` can be allowlisted up front. */
export function firefoxUuidPrefs(uuid: string): Record<string, string> {
  return { 'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: uuid }) };
}

/** The popup as the tests use it, in either browser. */
export interface Popup {
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  /** Wait until the status line matches, and return it. */
  status(pattern: RegExp): Promise<string>;
  text(selector: string): Promise<string>;
  close(): Promise<void>;
}

const statusMatches = (src: string) => new RegExp(src).test(document.getElementById('status')?.textContent ?? '');

/** Open the popup of the extension `extId` in a new Chromium tab. */
export async function openChromiumPopup(context: BrowserContext, extId: string): Promise<Popup> {
  const page: Page = await context.newPage();
  await page.goto(`chrome-extension://${extId}/popup.html`);
  return {
    fill: (s, v) => page.fill(s, v),
    click: (s) => page.click(s),
    status: async (re) => {
      await page.waitForFunction(statusMatches, re.source, { timeout: 45_000 });
      return (await page.textContent('#status')) ?? '';
    },
    text: async (s) => (await page.textContent(s)) ?? '',
    close: () => page.close(),
  };
}

/** Open the popup of the extension with internal UUID `uuid` in a new Firefox tab (Firefox launched with `systemAccess`). */
export async function openFirefoxPopup(firefox: FirefoxBrowser, uuid: string): Promise<Popup> {
  const page: PuppeteerPage = await firefox.browser.newPage();
  // BiDi does not report this navigation's load (the page moves to the extension process): wait for the page itself.
  void page.goto(`moz-extension://${uuid}/popup.html`).catch(() => undefined);
  const loaded = () => location.protocol === 'moz-extension:' && !['', 'Loading…'].includes(document.getElementById('status')?.textContent ?? '');
  await waitFor(() => page.evaluate(loaded).catch(() => false), {
    timeoutMs: 20_000,
    message: 'the popup to load',
  });
  return {
    fill: (s, v) => page.$eval(s, (el, value) => void ((el as HTMLInputElement).value = value), v),
    click: (s) => page.$eval(s, (el) => (el as HTMLButtonElement).click()),
    status: async (re) => {
      await page.waitForFunction(statusMatches, { timeout: 45_000 }, re.source);
      return page.$eval('#status', (el) => el.textContent ?? '');
    },
    text: (s) => page.$eval(s, (el) => el.textContent ?? ''),
    close: () => page.close(),
  };
}
