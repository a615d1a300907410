/**
 * The handful of page operations the browser scenarios use, implemented
 * once over playwright-core (Debian Chromium) and once over puppeteer-core
 * (Debian Firefox ESR, WebDriver BiDi). A scenario is written once against
 * {@link DriverPage} and runs for each entry of {@link BROWSERS}:
 *
 *   describe.each(BROWSERS)('playground e2e (%s)', (kind) => {
 *     let browser: Driver;
 *     beforeAll(async () => (browser = await launchBrowser(kind)));
 *     it('…', async () => {
 *       const page = await browser.newPage();
 *       await page.goto(url);
 *       await page.click('#send-button');
 *     });
 *   });
 *
 * Selectors are plain CSS (no engine-specific extensions). Waits default
 * to "visible", as playwright's locators do.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Browser as PwBrowser, BrowserContext as PwContext, Page as PwPage } from 'playwright-core';
import type { BrowserContext as PpContext, Page as PpPage } from 'puppeteer-core';
import { answerFilePicker, launchChromium, launchFirefox, waitFor, type FirefoxBrowser, type LaunchFirefoxOptions } from '@burrow/testkit';

export type BrowserKind = 'chromium' | 'firefox';

/**
 * The browsers the scenarios run in: both, or the comma-separated list in
 * BURROW_BROWSERS (e.g. `BURROW_BROWSERS=firefox` while debugging).
 */
export const BROWSERS: readonly BrowserKind[] = (() => {
  const all: BrowserKind[] = ['chromium', 'firefox'];
  const only = process.env['BURROW_BROWSERS'];
  if (!only) return all;
  const picked = only.split(',').map((s) => s.trim()) as BrowserKind[];
  for (const p of picked) if (!all.includes(p)) throw new Error(`BURROW_BROWSERS: unknown browser ${p}`);
  return picked;
})();

/**
 * Both ends of a two-page step (a connect(), say): the two results, or one
 * error that says what each side saw — not only the first rejection, so a
 * flaky failure shows the other page's view too.
 */
export async function bothSides<A, B>(a: Promise<A>, b: Promise<B>, names: readonly [string, string] = ['leader', 'follower']): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'fulfilled' && y.status === 'fulfilled') return [x.value, y.value];
  const said = (s: PromiseSettledResult<unknown>, name: string) => `${name}: ${s.status === 'rejected' ? String(s.reason) : 'succeeded'}`;
  throw new Error(`${said(x, names[0])}\n${said(y, names[1])}`);
}

export interface WaitOptions {
  /** Default 'visible'. */
  state?: 'visible' | 'attached';
  /** Default 30 s. */
  timeout?: number;
}

/** One tab in its own browser context (its own storage, OPFS and permissions). */
export interface DriverPage {
  readonly kind: BrowserKind;
  goto(url: string): Promise<void>;
  /** Replace an input's value (fires `input`). */
  fill(selector: string, value: string): Promise<void>;
  /** Click once the element is visible (within `timeout`). */
  click(selector: string, options?: { timeout?: number }): Promise<void>;
  waitFor(selector: string, options?: WaitOptions): Promise<void>;
  /** The element's textContent, once it is attached. */
  textContent(selector: string): Promise<string | null>;
  /** Run `fn(arg)` in the page; `arg` and the result must be JSON-like. */
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** Pick a file, or a whole directory (for `<input webkitdirectory>`), as a person would. */
  setInputFiles(selector: string, path: string): Promise<void>;
  /** A full-page PNG at `path`. */
  screenshot(path: string): Promise<void>;
  /** Click a download link and return the sha256 (hex) of the file the browser saved. */
  downloadSha256(selector: string, options?: { timeout?: number }): Promise<string>;
  /** Uncaught errors the page threw so far. */
  readonly errors: readonly string[];
  /** Another tab in the same browser context (same storage and OPFS). */
  newTab(): Promise<DriverPage>;
  /** Close this tab only, as a person closes it (the context and its storage stay). */
  closeTab(): Promise<void>;
  /** Close the whole browser context. */
  close(): Promise<void>;
}

export interface Driver {
  readonly kind: BrowserKind;
  newPage(options?: { viewport?: { width: number; height: number } }): Promise<DriverPage>;
  close(): Promise<void>;
}

const DEFAULT_TIMEOUT = 30_000;

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('error', reject)
      .on('data', (c) => hash.update(c))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

// ------------------------------------------------------------ Chromium

class ChromiumPage implements DriverPage {
  readonly kind = 'chromium' as const;
  readonly errors: string[] = [];
  constructor(
    readonly page: PwPage,
    readonly context: PwContext,
  ) {
    page.on('pageerror', (e) => this.errors.push(String(e)));
  }
  async goto(url: string): Promise<void> {
    await this.page.goto(url);
  }
  fill(selector: string, value: string): Promise<void> {
    return this.page.fill(selector, value);
  }
  click(selector: string, options: { timeout?: number } = {}): Promise<void> {
    return this.page.click(selector, { timeout: options.timeout ?? DEFAULT_TIMEOUT });
  }
  waitFor(selector: string, options: WaitOptions = {}): Promise<void> {
    return this.page.locator(selector).first().waitFor({ state: options.state ?? 'visible', timeout: options.timeout ?? DEFAULT_TIMEOUT });
  }
  textContent(selector: string): Promise<string | null> {
    return this.page.textContent(selector);
  }
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    return (this.page as unknown as { evaluate(f: (a: A) => R | Promise<R>, a: A): Promise<R> }).evaluate(fn, arg);
  }
  setInputFiles(selector: string, path: string): Promise<void> {
    return this.page.setInputFiles(selector, path);
  }
  async screenshot(path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    await this.page.screenshot({ path, fullPage: true });
  }
  async downloadSha256(selector: string, options: { timeout?: number } = {}): Promise<string> {
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    const [download] = await Promise.all([this.page.waitForEvent('download', { timeout }), this.page.click(selector, { timeout })]);
    return sha256File(await download.path());
  }
  async newTab(): Promise<DriverPage> {
    return new ChromiumPage(await this.context.newPage(), this.context);
  }
  async closeTab(): Promise<void> {
    await this.page.close();
  }
  async close(): Promise<void> {
    await this.context.close().catch(() => { /* best-effort teardown: it may be closed already */ });
  }
}

class ChromiumDriver implements Driver {
  readonly kind = 'chromium' as const;
  constructor(readonly browser: PwBrowser) {}
  async newPage(options: { viewport?: { width: number; height: number } } = {}): Promise<DriverPage> {
    const context = await this.browser.newContext({ acceptDownloads: true, ...(options.viewport ? { viewport: options.viewport } : {}) });
    // Loopback WebRTC needs a media permission (DESIGN.md §5).
    await context.grantPermissions(['microphone']);
    return new ChromiumPage(await context.newPage(), context);
  }
  close(): Promise<void> {
    return this.browser.close();
  }
}

// ------------------------------------------------------------ Firefox

class FirefoxPage implements DriverPage {
  readonly kind = 'firefox' as const;
  readonly errors: string[] = [];
  constructor(
    readonly page: PpPage,
    readonly context: PpContext,
    readonly firefox: FirefoxBrowser,
  ) {
    page.on('pageerror', (e) => this.errors.push(String(e)));
  }
  async goto(url: string): Promise<void> {
    await this.page.goto(url, { waitUntil: 'load' });
  }
  async fill(selector: string, value: string): Promise<void> {
    await this.page.locator(selector).setTimeout(DEFAULT_TIMEOUT).fill(value);
  }
  async click(selector: string, options: { timeout?: number } = {}): Promise<void> {
    await this.page.locator(selector).setTimeout(options.timeout ?? DEFAULT_TIMEOUT).click();
  }
  async waitFor(selector: string, options: WaitOptions = {}): Promise<void> {
    await this.page.waitForSelector(selector, { visible: (options.state ?? 'visible') === 'visible', timeout: options.timeout ?? DEFAULT_TIMEOUT });
  }
  async textContent(selector: string): Promise<string | null> {
    const handle = await this.page.waitForSelector(selector, { timeout: DEFAULT_TIMEOUT });
    try {
      return await handle!.evaluate((e) => e.textContent);
    } finally {
      await handle?.dispose();
    }
  }
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    return this.page.evaluate(fn as (a: unknown) => R, arg) as Promise<R>;
  }
  /**
   * Files go through WebDriver BiDi's input.setFiles. A folder cannot
   * (Firefox refuses it with NS_ERROR_FILE_IS_DIRECTORY), so for a folder
   * the file picker itself answers with it, and the input is opened by a
   * real click on its label (or itself), as a person picks a folder.
   */
  async setInputFiles(selector: string, path: string): Promise<void> {
    const handle = await this.page.waitForSelector(selector, { visible: false, timeout: DEFAULT_TIMEOUT });
    try {
      if (!statSync(path).isDirectory()) {
        await (handle as unknown as { uploadFile(...paths: string[]): Promise<void> }).uploadFile(path);
        return;
      }
      await answerFilePicker(this.firefox.browser, path);

      const changed = handle!.evaluate((input) => new Promise<void>((resolve) => input.addEventListener('change', () => resolve(), { once: true })));
      const target = await handle!.evaluateHandle((input) => {
        const el = input as HTMLInputElement;
        return (el.labels?.[0] ?? el.closest('label') ?? el) as Element;
      });
      await (target as unknown as { click(): Promise<void> }).click();
      await changed;
      await target.dispose();
    } finally {
      await handle?.dispose();
    }
  }
  async screenshot(path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    await this.page.screenshot({ path: path as `${string}.png`, fullPage: true });
  }
  /**
   * Firefox saves straight into the profile's download folder (prefs set by
   * launchFirefox): wait for a new, finished file there (no `.part` left,
   * size steady) and hash it.
   */
  async downloadSha256(selector: string, options: { timeout?: number } = {}): Promise<string> {
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    const before = new Set(readdirSync(this.firefox.downloadDir));
    await this.click(selector, { timeout });
    let lastSize = -1;
    const path = await waitFor(
      () => {
        const names = readdirSync(this.firefox.downloadDir).filter((n) => !before.has(n));
        if (names.length === 0 || names.some((n) => n.endsWith('.part'))) return undefined;
        const file = join(this.firefox.downloadDir, names[0]!);
        const size = statSync(file).size;
        const steady = size === lastSize;
        lastSize = size;
        return steady && existsSync(file) ? file : undefined;
      },
      { timeoutMs: timeout, intervalMs: 200, message: `a download from ${selector}` },
    );
    return sha256File(path);
  }
  async newTab(): Promise<DriverPage> {
    const page = await this.context.newPage({ type: 'window' });
    await page.setViewport({ width: 1280, height: 720 });
    return new FirefoxPage(page, this.context, this.firefox);
  }
  async closeTab(): Promise<void> {
    await this.page.close();
  }
  async close(): Promise<void> {
    await this.context.close().catch(() => { /* best-effort teardown: it may be closed already */ });
  }
}

class FirefoxDriver implements Driver {
  readonly kind = 'firefox' as const;
  constructor(readonly firefox: FirefoxBrowser) {}
  async newPage(options: { viewport?: { width: number; height: number } } = {}): Promise<DriverPage> {
    const context = await this.firefox.browser.createBrowserContext();
    // A window each: a background tab gets no animation frames and throttled timers.
    const page = await context.newPage({ type: 'window' });
    await page.setViewport(options.viewport ?? { width: 1280, height: 720 });
    return new FirefoxPage(page, context, this.firefox);
  }
  close(): Promise<void> {
    return this.firefox.close();
  }
}

export interface LaunchOptions {
  /** Firefox only: see {@link LaunchFirefoxOptions}. */
  firefox?: LaunchFirefoxOptions;
}

/** Launch a fresh headless browser of this kind. */
export async function launchBrowser(kind: BrowserKind, options: LaunchOptions = {}): Promise<Driver> {
  if (kind === 'chromium') return new ChromiumDriver(await launchChromium());
  return new FirefoxDriver(await launchFirefox({ systemAccess: true, ...options.firefox }));
}
