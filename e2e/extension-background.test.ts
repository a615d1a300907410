// The example extension as people really run it: its background (Chromium's
// MV3 service worker, Firefox's MV3 background script) holds the agent
// connection, so it outlives the popup; when the browser stops the
// background anyway, the next popup wakes it and it reconnects with no code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { haveFirefox, launchFirefox, makeTempDir, removeDir, waitFor, type FirefoxBrowser } from '@burrow/testkit';
import { memoryStore, startAgent, type Agent, type AgentEvent } from '@burrow/agent';
import { GECKO_ID, buildExtension, chromiumExtensionId, chromiumWithExtension, firefoxUuidPrefs, openChromiumPopup, openFirefoxPopup, type Popup } from './support/extension.js';
import { useExtensionRig } from './support/extension-rig.js';

const FIREFOX_UUID = '6f1c2a3e-8d4b-4c6a-9e1f-0b2d3c4e5f60';

describe('the extension background holds the agent connection', () => {
  const rig = useExtensionRig();

  /** An agent that allows only `origin`, and the events it publishes. */
  async function agentFor(origin: string): Promise<{ agent: Agent; events: AgentEvent[] }> {
    const agent = await startAgent({ store: memoryStore(), port: 0, allowOrigins: [origin], allowForward: [`127.0.0.1:${rig.echo.port}`], mailbox: rig.gateway.url, name: 'Test agent' });
    const events: AgentEvent[] = [];
    void (async () => {
      for await (const e of agent.events()) events.push(e);
    })();
    return { agent, events };
  }

  const count = (events: AgentEvent[], type: AgentEvent['type']) => events.filter((e) => e.type === type).length;

  /** Pair from the popup, connect, and close the popup: the background keeps the session. */
  async function pairConnectAndClose(agent: Agent, events: AgentEvent[], open: () => Promise<Popup>): Promise<void> {
    const popup = await open();
    expect(await popup.status(/Not paired yet/)).toContain('Not paired yet');
    await popup.fill('#mailbox', rig.gateway.url);
    const offer = agent.pair();
    await popup.fill('#code', await offer.code);
    await popup.click('#pair');
    expect(await popup.status(/Paired with|: /)).toBe('Paired with Test agent.');
    await offer.paired;
    await popup.click('#connect');
    expect(await popup.status(/Connected|: /)).toBe('Connected to Test agent.');
    await waitFor(() => count(events, 'connected') === 1);
    await popup.close();
    // A new popup finds the same connection: nothing was closed or opened again.
    const again = await open();
    expect(await again.status(/Connected|Paired|: /)).toBe('Connected to Test agent.');
    expect([count(events, 'connected'), count(events, 'disconnected')]).toEqual([1, 0]);
    expect(agent.status().sessions).toHaveLength(1);
    await again.close();
  }

  /** After the background was stopped: a popup wakes it, it reconnects with no code, and a fetch goes through. */
  async function reconnectsWithNoCode(events: AgentEvent[], open: () => Promise<Popup>): Promise<void> {
    await waitFor(() => count(events, 'disconnected') === 1, { timeoutMs: 30_000, message: 'the stopped background to drop its connection' });
    const popup = await open();
    await waitFor(() => count(events, 'connected') === 2, { timeoutMs: 30_000, message: 'the woken background to reconnect' });
    await popup.fill('#url', `http://127.0.0.1:${rig.echo.port}/after-wake`);
    await popup.click('#fetch');
    expect(await popup.status(/HTTP|: /)).toBe('HTTP 200 through the agent.');
    expect(JSON.parse(await popup.text('#out'))).toMatchObject({ method: 'GET', path: '/after-wake' });
    await popup.close();
  }

  it('Chromium: survives the popup closing and the service worker being stopped', async () => {
    const extId = chromiumExtensionId(rig.extDir);
    const { agent, events } = await agentFor(`chrome-extension://${extId}`);
    const profile = makeTempDir('burrow-profile-bg-');
    let context: BrowserContext | undefined;
    try {
      context = await chromiumWithExtension(profile, rig.extDir);
      const ctx = context;
      const open = () => openChromiumPopup(ctx, extId);
      await pairConnectAndClose(agent, events, open);
      // Stop the extension's service worker as chrome://serviceworker-internals would, from a page of its origin.
      const page = await ctx.newPage();
      await page.goto(`chrome-extension://${extId}/manifest.json`);
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.stopAllWorkers');
      await page.close();
      await reconnectsWithNoCode(events, open);
    } finally {
      await context?.close().catch(() => undefined);
      await agent.shutdown();
      removeDir(profile);
    }
  });

  it.skipIf(!haveFirefox())('Firefox: survives the popup closing and the background script being suspended', async () => {
    const { agent, events } = await agentFor(`moz-extension://${FIREFOX_UUID}`);
    let firefox: FirefoxBrowser | undefined;
    try {
      // A fixed internal UUID, so the agent can allow the origin up front; a short idle timeout, so the background is suspended soon.
      firefox = await launchFirefox({ systemAccess: true, prefs: { ...firefoxUuidPrefs(FIREFOX_UUID), 'extensions.background.idle.timeout': 3000 } });
      const ff = firefox;
      expect(await ff.browser.installExtension(rig.extDir)).toBe(GECKO_ID);
      const open = () => openFirefoxPopup(ff, FIREFOX_UUID);
      await pairConnectAndClose(agent, events, open);
      // Nothing keeps it busy now: Firefox suspends the background script after its idle timeout.
      await reconnectsWithNoCode(events, open);
    } finally {
      await firefox?.close();
      await agent.shutdown();
    }
  });
});
