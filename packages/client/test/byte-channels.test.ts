// Every Transit byte channel against the one compliance suite: TCP direct
// (our dialer and listener), TCP through the gateway's relay, WebSocket and
// WebTransport (ponyfill) through the gateway's relay, all on loopback.
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { startGateway, type Gateway } from '@burrow/gateway';
import { loadWebTransportPonyfill, testCertificate } from '@burrow/testkit';
import { tcpDialer, tcpListen } from '../src/node/index.js';
import type { ByteChannel } from '../src/transit/types.js';
import { webSocketDialer } from '../src/transit/websocket.js';
import { webTransportDialer } from '../src/transit/webtransport.js';
import type { WebTransportConstructor } from '../src/transports/webtransport.js';
import { byteChannelCompliance, relayPair } from './support/byte-channel-compliance.js';

let gw: Gateway;
let WebTransport: WebTransportConstructor;
/** A port nobody listens on (bound once, then closed). */
let deadPort: number;

beforeAll(async () => {
  const tls = testCertificate();
  WebTransport = (await loadWebTransportPonyfill(tls.cert)) as unknown as WebTransportConstructor;
  gw = await startGateway({ host: '127.0.0.1', port: 0, transitPort: 0, webtransportPort: 0, tls });
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  deadPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(async () => {
  await gw?.close();
});

const tcp = tcpDialer({ connectTimeoutMs: 5_000 });
// The gateway serves wss with a test certificate: the WebSocket the ponyfill
// loader installed trusts it.
const ws: ReturnType<typeof webSocketDialer> = (url, o) => webSocketDialer()(url, o);
const wt = () => webTransportDialer({ WebTransport });
// Kernel socket buffers on loopback reach several MiB each way; a relay adds its own.
const TCP_BOUND = 16 << 20;
const RELAY_BOUND = 40 << 20;

byteChannelCompliance('TCP direct', {
  async pair() {
    let accepted!: (c: ByteChannel) => void;
    const incoming = new Promise<ByteChannel>((resolve) => (accepted = resolve));
    const listener = await tcpListen({ host: '127.0.0.1', addresses: ['127.0.0.1'] })((channel) => accepted(channel));
    try {
      const hint = listener.hints[0]!;
      const dialed = await tcp(hint.hostname, hint.port, {});
      return [dialed, await incoming];
    } finally {
      listener.close();
    }
  },
  dialFailure: (o) => tcp('127.0.0.1', deadPort, o),
  dialFailureCode: 'Connection',
  bounded: true,
  bufferBound: TCP_BOUND,
});

byteChannelCompliance('TCP through the gateway relay', {
  pair: () => relayPair(() => tcp('127.0.0.1', gw.transitPort!, {}), () => tcp('127.0.0.1', gw.transitPort!, {})),
  dialFailure: (o) => tcp('127.0.0.1', deadPort, o),
  dialFailureCode: 'Connection',
  bounded: true,
  bufferBound: RELAY_BOUND,
});

byteChannelCompliance('WebSocket through the gateway relay', {
  pair: () => relayPair(() => ws(gw.relayUrl, {}), () => ws(gw.relayUrl, {})),
  dialFailure: (o) => ws(`ws://127.0.0.1:${deadPort}/relay`, o),
  dialFailureCode: 'Connection',
  bounded: true,
  bufferBound: RELAY_BOUND,
});

byteChannelCompliance('WebTransport through the gateway relay', {
  pair: () => relayPair(() => wt()(`${gw.webtransportUrl}/relay`, {}), () => wt()(`${gw.webtransportUrl}/relay`, {})),
  dialFailure: (o) => wt()(`https://127.0.0.1:${deadPort}/relay`, o),
  dialFailureCode: 'Connection',
  largeBytes: 2 << 20,
  // Measured: the writer gets the whole 64 MiB ahead of a reader that does
  // not read. The ponyfill's WebSocket mapping resolves stream writes once
  // handed to its WebSocket, on our side and on the gateway's; the dialer
  // itself queues nothing (see the note in transit/webtransport.ts).
  bounded: false,
  unboundedBecause: 'the @fails-components ponyfill (WebSocket mapping) has no stream flow control',
});
