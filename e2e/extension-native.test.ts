// Native messaging as a second way in: the example extension in Chromium
// reaches the agent with no TCP port open at all. The agent's native host
// manifest (installNativeHost) lets only this extension start
// `burrow agent native-host`, which serves it from the agent's file store
// with the same pairing, handshake and policy; a revocation made by another
// process drops the connection at once.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { assertPrivateNetwork, cleanup, makeTempDir, removeDir, startEcho, type EchoService } from '@burrow/testkit';
import { startGateway, type Gateway } from '@burrow/gateway';
import { Pairings, fileStore, installNativeHost, startAgent } from '@burrow/agent';
import { repoPath } from './support/static-server.js';
import { buildExtension, chromiumExtensionId, chromiumWithExtension, openChromiumPopup } from './support/extension.js';

const MAIN = repoPath('packages', 'cli', 'src', 'main.ts');

describe('the extension reaches the agent through native messaging, no TCP port', () => {
  let extDir: string;
  let dataDir: string;
  let profile: string;
  let gateway: Gateway;
  let echo: EchoService;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    assertPrivateNetwork();
    extDir = await buildExtension();
    dataDir = makeTempDir('burrow-agent-native-');
    profile = makeTempDir('burrow-profile-native-');
    [gateway, echo] = await Promise.all([startGateway({ port: 0, transitPort: null }), startEcho()]);
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await Promise.all([gateway?.close(), echo?.close()]);
    await cleanup();
    for (const d of [extDir, dataDir, profile]) removeDir(d);
  });

  it('pairs, then with the agent gone from 127.0.0.1 connects through the native host and fetches; a revocation drops it', async () => {
    const extId = chromiumExtensionId(extDir);
    const origin = `chrome-extension://${extId}`;
    const policy = ['--allow-origin', origin, '--allow-forward', `127.0.0.1:${echo.port}`];
    // Chromium reads a profile's own hosts from <user-data-dir>/NativeMessagingHosts.
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const { manifest } = await installNativeHost({
      browser: 'chromium',
      extensions: [origin],
      command: [process.execPath, '--conditions=source', '--import', tsx, MAIN, 'agent', 'native-host', '--data-dir', dataDir, '--name', 'Test agent', ...policy],
      dir: join(profile, 'NativeMessagingHosts'),
    });
    expect(manifest).toContain('dev.burrow.agent.json');

    // Pair through an agent on a TCP port, then stop it: nothing listens for the agent any more.
    const tcp = await startAgent({ store: fileStore(dataDir), port: 0, allowOrigins: [origin], mailbox: gateway.url, name: 'Test agent' });
    context = await chromiumWithExtension(profile, extDir);
    const popup = await openChromiumPopup(context, extId);
    await popup.fill('#mailbox', gateway.url);
    const offer = tcp.pair();
    await popup.fill('#code', await offer.code);
    await popup.click('#pair');
    expect(await popup.status(/Paired with|: /)).toBe('Paired with Test agent.');
    const { id: clientId } = await offer.paired;
    await tcp.shutdown();

    await popup.fill('#url', `http://127.0.0.1:${echo.port}/native`);
    const before = echo.requests;
    await popup.click('#fetch');
    expect(await popup.status(/HTTP|: /)).toBe('HTTP 200 through the agent.');
    expect(JSON.parse(await popup.text('#out'))).toMatchObject({ method: 'GET', path: '/native' });
    expect(echo.requests).toBe(before + 1);
    // The host authenticated it from the agent's store.
    expect((await new Pairings(fileStore(dataDir)).get(clientId))?.lastSeenAt).toBeTypeOf('number');

    // `burrow agent revoke` from another process: the host watches the store and drops the connection.
    await new Pairings(fileStore(dataDir)).revoke(clientId);
    expect(await popup.status(/Disconnected/)).toMatch(/^Disconnected: Revoked/);
  });
});
