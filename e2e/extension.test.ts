// The example MV3 extension (examples/extension) loaded into headless
// Chromium with a persistent profile, against a local agent: pair by code
// from the popup, restart the browser, reconnect with no code and fetch from
// an allowlisted echo service; then every refusal, seen from the browser.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { HOST_RESOLVER_RULES, assertPrivateNetwork, cleanup, makeTempDir, newPersistentContext, recordingLogger, removeDir, startEcho, waitFor, type EchoService } from '@burrow/testkit';
import { startGateway, type Gateway } from '@burrow/gateway';
import { Pairings, memoryStore, startAgent, type Agent, type AgentEvent, type KeyValueStore } from '@burrow/agent';
import { toHex } from '@burrow/protocol';
import { repoPath, serveStatic, type StaticServer } from './support/static-server.js';

const EXTENSION_SRC = repoPath('examples', 'extension');

/** Chromium's id for an unpacked extension with a manifest `key`: SHA-256 of the key, first 16 bytes, nibbles as a–p. */
function extensionId(manifestPath: string): string {
  const key = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { key: string }).key;
  const digest = createHash('sha256').update(Buffer.from(key, 'base64')).digest().subarray(0, 16);
  return [...digest.toString('hex')].map((c) => 'abcdefghijklmnop'[parseInt(c, 16)]).join('');
}

describe('MV3 extension ↔ local agent in headless Chromium', () => {
  let extDir: string;
  let profile: string;
  let extId: string;
  let gateway: Gateway;
  let echo: EchoService;
  let site: StaticServer;
  let agent: Agent;
  let agentStore: KeyValueStore;
  let context: BrowserContext | undefined;
  let popup: Page;
  let pairingCode = '';
  let clientId = '';
  let secretHex = '';
  const logger = recordingLogger();
  const events: AgentEvent[] = [];

  async function launch(): Promise<BrowserContext> {
    return newPersistentContext(profile, {
      args: [`--disable-extensions-except=${extDir}`, `--load-extension=${extDir}`, `--host-resolver-rules=MAP rebind.test 127.0.0.1, ${HOST_RESOLVER_RULES}`],
      launch: { ignoreDefaultArgs: ['--disable-extensions'] },
    });
  }

  async function openPopup(ctx: BrowserContext): Promise<Page> {
    const page = await ctx.newPage();
    await page.goto(`chrome-extension://${extId}/popup.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent !== 'Loading…');
    return page;
  }

  const status = (page: Page) => page.textContent('#status');

  async function waitStatus(page: Page, pattern: RegExp): Promise<string> {
    await page.waitForFunction((re) => new RegExp(re).test(document.getElementById('status')?.textContent ?? ''), pattern.source, { timeout: 30_000 });
    return (await status(page)) ?? '';
  }

  beforeAll(async () => {
    assertPrivateNetwork();
    extDir = makeTempDir('burrow-extension-');
    profile = makeTempDir('burrow-profile-');
    await build({ configFile: join(EXTENSION_SRC, 'vite.config.ts'), build: { outDir: extDir, emptyOutDir: true }, logLevel: 'error' });
    extId = extensionId(join(extDir, 'manifest.json'));
    [gateway, echo, site] = await Promise.all([startGateway({ port: 0, transitPort: null }), startEcho(), serveStatic({}, { '/': '<!doctype html><title>a web page</title>' })]);
    agentStore = memoryStore();
    agent = await startAgent({
      store: agentStore,
      port: 0,
      allowOrigins: [`chrome-extension://${extId}`],
      allowForward: [`127.0.0.1:${echo.port}`],
      mailbox: gateway.url,
      name: 'Test agent',
      logger,
    });
    void (async () => {
      for await (const e of agent.events()) events.push(e);
    })();
  });

  afterAll(async () => {
    await context?.close().catch(() => { /* best-effort teardown: it may be closed already */ });
    await agent?.shutdown();
    await Promise.all([gateway?.close(), echo?.close(), site?.close()]);
    await cleanup();
    removeDir(extDir);
    removeDir(profile);
  });

  it('pairs by code from the popup, survives a browser restart, reconnects with no code and fetches through the agent', async () => {
    context = await launch();
    popup = await openPopup(context);
    expect(await status(popup)).toContain('Not paired yet');
    await popup.fill('#mailbox', gateway.url);
    const offer = agent.pair();
    pairingCode = await offer.code;
    await popup.fill('#code', pairingCode);
    await popup.click('#pair');
    expect(await waitStatus(popup, /Paired with|Error|: /)).toBe('Paired with Test agent.');
    const pairing = await offer.paired;
    expect(pairing).toMatchObject({ name: 'Burrow example extension', peerRole: 'client', origin: `chrome-extension://${extId}` });
    clientId = pairing.id;
    secretHex = toHex((await new Pairings(agentStore).secret(clientId))!);

    // The secret lives in the extension's IndexedDB store and nowhere else it can see.
    const where = await popup.evaluate(async (agentId) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open('burrow-example');
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      const record = await new Promise<{ secret?: string }>((resolve, reject) => {
        const req = db.transaction('kv').objectStore('kv').get(`pairing/${agentId}`);
        req.onsuccess = () => resolve(req.result as { secret?: string });
        req.onerror = () => reject(req.error);
      });
      db.close();
      return { idb: record.secret, localStorage: JSON.stringify({ ...localStorage }), sessionStorage: JSON.stringify({ ...sessionStorage }), cookies: document.cookie, page: document.documentElement.outerHTML };
    }, agent.id);
    expect(where.idb).toBe(secretHex);
    expect(where.localStorage).toBe('{}');
    expect(where.sessionStorage).toBe('{}');
    expect(where.cookies).toBe('');
    expect(where.page).not.toContain(secretHex);

    // Restart the browser on the same profile.
    await context.close();
    context = await launch();
    popup = await openPopup(context);
    expect(await status(popup)).toBe('Paired with Test agent: no code needed.');
    expect(await popup.inputValue('#mailbox')).toBe(gateway.url);
    await popup.fill('#url', `http://127.0.0.1:${echo.port}/echo`);
    await popup.fill('#body', 'hello from the extension');
    const before = echo.requests;
    await popup.click('#fetch');
    expect(await waitStatus(popup, /HTTP|Error|: /)).toBe('HTTP 200 through the agent.');
    expect(JSON.parse((await popup.textContent('#out')) ?? '')).toEqual({ method: 'POST', path: '/echo', body: 'hello from the extension', header: null });
    expect(echo.requests).toBe(before + 1);
    await popup.screenshot({ path: repoPath('test-results', 'screenshots', 'extension', 'popup-after-restart.png') });
    expect(events.some((e) => e.type === 'connected' && e.origin === `chrome-extension://${extId}`)).toBe(true);
    expect(events.some((e) => e.type === 'forward' && e.to === `127.0.0.1:${echo.port}`)).toBe(true);
  });

  it('refuses a destination that is not allowlisted', async () => {
    await popup.fill('#url', 'http://127.0.0.1:9/');
    await popup.fill('#body', '');
    await popup.click('#fetch');
    expect(await waitStatus(popup, /NotAllowed/)).toMatch(/^NotAllowed: forwarding to 127\.0\.0\.1:9 is not allowed/);
    expect(events.some((e) => e.type === 'refused' && e.reason === 'destination')).toBe(true);
  });

  it('refuses a web page origin', async () => {
    const page = await context!.newPage();
    await page.goto(site.url);
    const result = await page.evaluate(
      (url) =>
        new Promise<{ opened: boolean; code: number }>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => resolve({ opened: true, code: 0 });
          ws.onclose = (ev) => resolve({ opened: false, code: ev.code });
        }),
      agent.url,
    );
    expect(result).toEqual({ opened: false, code: 1006 });
    await waitFor(() => events.some((e) => e.type === 'refused' && e.reason === 'origin' && e.message.includes(`'${site.url}'`)));
    await page.close();
  });

  it('refuses a DNS-rebinding Host, even from the allowlisted extension', async () => {
    const url = agent.url.replace('127.0.0.1', 'rebind.test');
    const result = await popup.evaluate(
      (u) =>
        new Promise<{ opened: boolean; code: number }>((resolve) => {
          const ws = new WebSocket(u);
          ws.onopen = () => resolve({ opened: true, code: 0 });
          ws.onclose = (ev) => resolve({ opened: false, code: ev.code });
        }),
      url,
    );
    expect(result.opened).toBe(false);
    await waitFor(() => events.some((e) => e.type === 'refused' && e.reason === 'host' && e.message.includes(`'rebind.test:${agent.port}'`)));
  });

  it('drops an open connection the moment the pairing is revoked, and refuses it afterwards', async () => {
    await popup.click('#connect');
    expect(await waitStatus(popup, /Connected|: /)).toBe('Connected to Test agent.');
    // A request in flight: the echo service sends a first part and never ends.
    // The background holds the fetch; the popup is told when its first part came.
    await popup.evaluate((slow) => {
      const w = window as unknown as { burrowExample: { fetchHeld(u: string, onFirstPart: () => void): Promise<string> }; pending: Promise<string> };
      w.pending = w.burrowExample.fetchHeld(slow, () => ((window as unknown as { firstPart: boolean }).firstPart = true));
    }, `http://127.0.0.1:${echo.port}/slow`);
    await popup.waitForFunction(() => (window as unknown as { firstPart?: boolean }).firstPart === true);
    expect(await agent.pairings.revoke(clientId)).toBe(true);
    expect(await waitStatus(popup, /Disconnected/)).toBe('Disconnected: Revoked: the pairing was revoked on the agent');
    expect(await popup.evaluate(() => (window as unknown as { pending: Promise<string> }).pending)).toBe('Revoked');
    await popup.fill('#url', `http://127.0.0.1:${echo.port}/echo`);
    await popup.click('#fetch');
    expect(await waitStatus(popup, /^Revoked/)).toBe("Revoked: the pairing 'Burrow example extension' was revoked");
  });

  it('refuses an unpaired key', async () => {
    await agent.pairings.remove(clientId);
    await popup.click('#fetch');
    expect(await waitStatus(popup, /^Unpaired/)).toBe('Unpaired: this key is not paired with the agent: pair with a code first');
  });

  it('logged and published nothing secret', async () => {
    expect(secretHex).toMatch(/^[0-9a-f]{64}$/);
    const text = logger.lines.join('\n') + JSON.stringify(events);
    expect(text).not.toContain(secretHex);
    expect(text).not.toContain(pairingCode);
    expect(text).not.toMatch(/[0-9a-f]{64}/);
    expect(logger.lines.filter((l) => l.includes('agent.refused')).length).toBeGreaterThanOrEqual(5);
  });
});
