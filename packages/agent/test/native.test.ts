// native-v1: agent-v1 over native messaging framing, end to end in one
// process — a client's port adapter (as an extension's runtime.Port) talking
// to the native host's stdin/stdout of an agent with no TCP port.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeMessageReader, encodeNativeMessage } from '@burrow/protocol/agent';
import { Pairings, loadIdentity, memoryStore, type KeyValueStore } from '@burrow/store';
import { callerOrigin, serveNativeHost, startAgent, type Agent } from '../src/index.js';
import { connectAgent, nativeMessaging, type NativePort } from '../src/client/index.js';
import { EXTENSION_ORIGIN, startEcho, type EchoService } from '../interop/support.js';

/** What the browser does on `connectNative`: start the host, and carry the Port's messages to its stdin and from its stdout. */
function browserPort(agentStore: KeyValueStore, forward: string, origin: string): { port: NativePort; hostDone: Promise<void> } {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const hostDone = serveNativeHost({ store: agentStore, allowOrigins: [EXTENSION_ORIGIN], allowForward: [forward] }, { origin, input: stdin, output: stdout });
  const onMessage: ((m: unknown) => void)[] = [];
  const onDisconnect: (() => void)[] = [];
  const reader = new NativeMessageReader();
  stdout.on('data', (chunk: Buffer) => {
    for (const m of reader.push(chunk)) for (const l of onMessage) l(m);
  });
  stdout.on('end', () => onDisconnect.forEach((l) => l()));
  return {
    hostDone,
    port: {
      postMessage: (m) => stdin.write(encodeNativeMessage(m as Record<string, never>)),
      disconnect: () => stdin.end(),
      onMessage: { addListener: (l) => void onMessage.push(l) },
      onDisconnect: { addListener: (l) => void onDisconnect.push(l) },
    },
  };
}

describe('native messaging (native-v1)', () => {
  let echo: EchoService;
  let agentStore: KeyValueStore;
  let clientStore: KeyValueStore;
  let agentId: string;

  beforeAll(async () => {
    echo = await startEcho();
    agentStore = memoryStore();
    const agent: Agent = await startAgent({ store: agentStore, port: null });
    agentId = agent.id;
    expect(agent.port).toBe(0); // no TCP port
    await agent.shutdown();
    clientStore = memoryStore();
    const secret = crypto.getRandomValues(new Uint8Array(32));
    await new Pairings(agentStore).add({ id: await loadIdentity(clientStore), name: 'Extension', peerRole: 'client', origin: EXTENSION_ORIGIN }, secret);
    await new Pairings(clientStore).add({ id: agentId, name: 'Agent', peerRole: 'agent', endpoint: 'ws://127.0.0.1:1/v1' }, secret);
  });
  afterAll(() => echo.close());

  it('frames: length-prefixed JSON split anywhere', () => {
    const bytes = new Uint8Array([...encodeNativeMessage({ t: 'hello' }), ...encodeNativeMessage({ b: '00ff' })]);
    const reader = new NativeMessageReader();
    const got = [...bytes].flatMap((b) => reader.push(new Uint8Array([b])));
    expect(got).toEqual([{ t: 'hello' }, { b: '00ff' }]);
    expect(() => new NativeMessageReader().push(new Uint8Array([0xff, 0xff, 0xff, 0x7f]))).toThrow(RangeError);
  });

  it('the origin Chromium names when it starts the host', () => {
    expect(callerOrigin([`${EXTENSION_ORIGIN}/`])).toBe(EXTENSION_ORIGIN);
    expect(callerOrigin(['/path/to/manifest.json', 'addon@example'])).toBeUndefined();
  });

  it('pairs nothing new, opens no port, and serves the paired extension: handshake, call, forward', async () => {
    let hostDone: Promise<void> | undefined;
    const connectNative = () => {
      const b = browserPort(agentStore, `127.0.0.1:${echo.port}`, `${EXTENSION_ORIGIN}/`);
      hostDone = b.hostDone;
      return b.port;
    };
    const session = await connectAgent({ store: clientStore, WebSocket: nativeMessaging(connectNative) });
    expect(await session.call('info')).toMatchObject({ id: agentId });
    const res = await session.fetch(`http://127.0.0.1:${echo.port}/native`, { method: 'POST', body: 'no tcp' });
    expect(await res.json()).toMatchObject({ path: '/native', body: 'no tcp' });
    await session.close();
    await hostDone; // the host exits when the extension hangs up
  });

  it('refuses an extension origin the agent does not allow', async () => {
    let hostDone: Promise<void> | undefined;
    const connectNative = () => {
      const b = browserPort(agentStore, `127.0.0.1:${echo.port}`, 'chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba/');
      hostDone = b.hostDone;
      return b.port;
    };
    await expect(connectAgent({ store: clientStore, WebSocket: nativeMessaging(connectNative) })).rejects.toMatchObject({ code: 'NotAllowed' });
    await hostDone;
  });
});
