// The mailbox transport compliance suite run against every implementation:
// WebSocket and WebTransport (the @fails-components ponyfill, as browsers
// without native WebTransport use it) against a real gateway on 127.0.0.1,
// WebSocket against a scripted `ws` server (which, unlike the gateway, can
// send a binary frame), and the in-memory mailbox (the same server core, no
// sockets).
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startGateway, type Gateway } from '@burrow/gateway';
import { loadWebTransportPonyfill, testCertificate } from '@burrow/testkit';
import { webSocketTransport, webTransportTransport, type FrameConnection, type WebSocketConstructor, type WebTransportConstructor } from '../src/index.js';
import { MemoryMailbox } from '../src/testing.js';
import { mailboxTransportCompliance, type MailboxTransportRig } from './support/mailbox-transport-compliance.js';

/** Over the gateway's hard frame bound (4 × its 256 KiB limit): it drops the connection. */
const OVERSIZED = JSON.stringify({ type: 'ping', ping: 'x'.repeat(1_100_000) });

function gatewayRig(gw: Gateway, transport: ReturnType<typeof webSocketTransport>, url: string, unreachableUrl: string): MailboxTransportRig {
  return {
    transport,
    url,
    serverClose: (conn) => conn.send(OVERSIZED),
    unreachable: { transport, url: unreachableUrl },
    close: () => gw.close(),
  };
}

mailboxTransportCompliance('WebSocket (gateway)', { binaryFrames: false }, async () => {
  const gw = await startGateway({ host: '127.0.0.1', port: 0, transitPort: 0 });
  const transport = webSocketTransport({ WebSocket: WebSocket as unknown as WebSocketConstructor });
  return gatewayRig(gw, transport, gw.url, 'ws://127.0.0.1:1/v1');
});

mailboxTransportCompliance('WebTransport (gateway, ponyfill)', { binaryFrames: false }, async () => {
  const tls = testCertificate();
  const Ponyfill = await loadWebTransportPonyfill(tls.cert);
  const gw = await startGateway({ host: '127.0.0.1', port: 0, transitPort: 0, webtransportPort: 0, tls });
  const transport = webTransportTransport({ WebTransport: Ponyfill as unknown as WebTransportConstructor });
  return gatewayRig(gw, transport, `${gw.webtransportUrl!}/v1`, 'https://127.0.0.1:1/v1');
});

/** Asks the scripted server to drop this connection (close code 1011). */
const DROP_ME = JSON.stringify({ type: 'test-drop-me' });

/**
 * A scripted mailbox server on `ws`: just enough of the protocol for the
 * suite (a welcome, then an `ack` for every frame and a `pong` for every
 * `ping`), plus what the gateway never does: send a binary frame.
 */
async function scriptedServer(): Promise<{ url: string; newest(): WebSocket; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const sockets: WebSocket[] = [];
  server.on('connection', (ws) => {
    sockets.push(ws);
    ws.send(JSON.stringify({ type: 'welcome', welcome: {} }));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = String(data);
      if (text === DROP_ME) return ws.close(1011, 'dropped by the test');
      const frame = JSON.parse(text) as Record<string, unknown>;
      ws.send(JSON.stringify({ type: 'ack', id: frame['id'] ?? null }));
      if (frame['type'] === 'ping') ws.send(JSON.stringify({ type: 'pong', pong: frame['ping'] }));
    });
  });
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    newest: () => sockets.at(-1)!,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of server.clients) ws.terminate();
        server.close(() => resolve());
      }),
  };
}

mailboxTransportCompliance('WebSocket (scripted ws server)', { binaryFrames: true }, async () => {
  const server = await scriptedServer();
  const transport = webSocketTransport({ WebSocket: WebSocket as unknown as WebSocketConstructor });
  return {
    transport,
    url: server.url,
    serverClose: (conn) => conn.send(DROP_ME),
    unreachable: { transport, url: 'ws://127.0.0.1:1/v1' },
    injectBinary: (bytes) => server.newest().send(bytes),
    close: () => server.close(),
  };
});

mailboxTransportCompliance('in-memory', { binaryFrames: true }, async () => {
  const mailbox = new MemoryMailbox();
  const refusing = new MemoryMailbox();
  refusing.refuse(1_000);
  const serverEnd = (conn: FrameConnection) => mailbox.connections.find((c) => c.clientSide === conn);
  return {
    transport: mailbox.transport,
    url: mailbox.url,
    serverClose: (conn) => serverEnd(conn)!.drop(new Error('the server went away')),
    unreachable: { transport: refusing.transport, url: refusing.url },
    injectBinary: (bytes) => mailbox.openConnections.at(-1)!.inject(bytes),
  };
});
