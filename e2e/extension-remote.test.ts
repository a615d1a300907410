// The example extension reaching its agent through the mailbox (remote-v1
// over WebRTC) when the agent's 127.0.0.1 port is dead: Chromium (from an
// offscreen document, since its service worker has no RTCPeerConnection)
// and Firefox (from the background script). Then the agent revokes it, and
// the extension is told `Revoked` through the mailbox within seconds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { RTCPeerConnection as NdcPeerConnection } from 'node-datachannel/polyfill';
import { haveFirefox, launchFirefox, makeTempDir, removeDir, waitFor, type FirefoxBrowser } from '@burrow/testkit';
import type { RTCPeerConnectionConstructor } from '@burrow/client';
import { memoryStore, startAgent, type Agent, type AgentEvent, type KeyValueStore } from '@burrow/agent';
import { GECKO_ID, buildExtension, chromiumExtensionId, chromiumWithExtension, firefoxUuidPrefs, openChromiumPopup, openFirefoxPopup, type Popup } from './support/extension.js';
import { useExtensionRig } from './support/extension-rig.js';

const FIREFOX_UUID = '0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f';

describe('the extension reconnects through the mailbox when the local port is dead', () => {
  const rig = useExtensionRig();

  /**
   * Pair through an agent on one port, then move the agent (same store, so
   * the same identity and pairings) to another port with remote on: the
   * port the extension knows is dead. Fetch through the mailbox, revoke, be told.
   */
  async function scenario(origin: string, popup: Popup): Promise<void> {
    const store: KeyValueStore = memoryStore();
    const options = { store, allowOrigins: [origin], allowForward: [`127.0.0.1:${rig.echo.port}`], mailbox: rig.gateway.url, name: 'Test agent' };
    const first = await startAgent({ ...options, port: 0 });
    await popup.fill('#mailbox', rig.gateway.url);
    const offer = first.pair();
    await popup.fill('#code', await offer.code);
    await popup.click('#pair');
    expect(await popup.status(/Paired with|: /)).toBe('Paired with Test agent.');
    const { id: clientId } = await offer.paired;
    await first.shutdown();

    const agent: Agent = await startAgent({
      ...options,
      port: 0,
      remote: { RTCPeerConnection: NdcPeerConnection as unknown as RTCPeerConnectionConstructor, connect: { rtcConfiguration: { bindAddress: '127.0.0.1' } }, retryMs: 100 },
    });
    const events: AgentEvent[] = [];
    void (async () => {
      for await (const e of agent.events()) events.push(e);
    })();
    try {
      await waitFor(() => agent.status().remoteListeners >= 2, { message: 'the agent at its rendezvous' });
      await popup.fill('#url', `http://127.0.0.1:${rig.echo.port}/through-the-mailbox`);
      await popup.click('#fetch');
      expect(await popup.status(/HTTP|: /)).toBe('HTTP 200 through the agent.');
      expect(events).toContainEqual(expect.objectContaining({ type: 'connected', via: 'remote' }));
      expect(agent.status().sessions).toContainEqual(expect.objectContaining({ pairingId: clientId, via: 'remote' }));
      expect((await agent.connect(clientId)).kind).toBe('webrtc');

      // Revoked while connected: the control stream says so at once.
      expect(await agent.pairings.revoke(clientId)).toBe(true);
      expect(await popup.status(/Disconnected/)).toMatch(/^Disconnected: Revoked/);
      // And the next attempt, with no session left: told through the mailbox, within seconds.
      const t0 = performance.now();
      await popup.click('#fetch');
      expect(await popup.status(/^Revoked|Timeout|Connection/)).toMatch(/^Revoked: Test agent revoked this pairing/);
      expect(performance.now() - t0).toBeLessThan(15_000);
      await waitFor(() => events.some((e) => e.type === 'revocation-told' && e.pairingId === clientId));
    } finally {
      await agent.shutdown();
    }
  }

  it('Chromium (offscreen document, WebRTC)', async () => {
    const extId = chromiumExtensionId(rig.extDir);
    const profile = makeTempDir('burrow-profile-remote-');
    let context: BrowserContext | undefined;
    try {
      context = await chromiumWithExtension(profile, rig.extDir);
      await scenario(`chrome-extension://${extId}`, await openChromiumPopup(context, extId));
    } finally {
      await context?.close().catch(() => undefined);
      removeDir(profile);
    }
  });

  it.skipIf(!haveFirefox())('Firefox (background script, WebRTC)', async () => {
    let firefox: FirefoxBrowser | undefined;
    try {
      firefox = await launchFirefox({ systemAccess: true, prefs: firefoxUuidPrefs(FIREFOX_UUID) });
      expect(await firefox.browser.installExtension(rig.extDir)).toBe(GECKO_ID);
      await scenario(`moz-extension://${FIREFOX_UUID}`, await openFirefoxPopup(firefox, FIREFOX_UUID));
    } finally {
      await firefox?.close();
    }
  });
});
