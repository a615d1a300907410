/**
 * A raw TCP half of a relayed pair for the relay tests: it sends the relay
 * handshake for `token` (side `tttttttttttttttt`) and collects what comes back.
 */
import { connect, type Socket } from 'node:net';

/** The relay handshake line for `token` and `side`. */
export const relayLine = (token: string, side: string): string => `please relay ${token} for side ${side}\n`;

export interface TcpRelayPeer {
  readonly socket: Socket;
  /** Settles when the relay (or the test) closed the socket. */
  readonly closed: Promise<void>;
  /** Everything received so far. */
  received(): Buffer;
}

export function tcpRelayPeer(port: number, token: string): TcpRelayPeer {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {
    /* the relay closing on us is part of these tests */
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(relayLine(token, 'tttttttttttttttt'));
  return { socket, closed, received: () => Buffer.concat(chunks) };
}
