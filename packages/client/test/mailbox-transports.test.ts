// The mailbox transport compliance suite run against every implementation:
// WebSocket and WebTransport (the @fails-components ponyfill, as browsers
// without native WebTransport use it) against a real gateway on 127.0.0.1,
// and the in-memory mailbox (the same server core, no sockets).
import WebSocket from 'ws';
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

mailboxTransportCompliance('WebSocket (gateway)', async () => {
  const gw = await startGateway({ host: '127.0.0.1', port: 0, transitPort: 0 });
  const transport = webSocketTransport({ WebSocket: WebSocket as unknown as WebSocketConstructor });
  return gatewayRig(gw, transport, gw.url, 'ws://127.0.0.1:1/v1');
});

mailboxTransportCompliance('WebTransport (gateway, ponyfill)', async () => {
  const tls = testCertificate();
  const Ponyfill = await loadWebTransportPonyfill(tls.cert);
  const gw = await startGateway({ host: '127.0.0.1', port: 0, transitPort: 0, webtransportPort: 0, tls });
  const transport = webTransportTransport({ WebTransport: Ponyfill as unknown as WebTransportConstructor });
  return gatewayRig(gw, transport, `${gw.webtransportUrl!}/v1`, 'https://127.0.0.1:1/v1');
});

mailboxTransportCompliance('in-memory', async () => {
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
