import { readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';

/**
 * Names of the network interfaces in this process's network namespace.
 *
 * Read from /proc/self/net/dev, which always reflects the current namespace.
 * (/sys/class/net does not: after a bare `unshare -n` it still shows the
 * host's interfaces, because sysfs keeps the namespace it was mounted in.)
 */
export function networkInterfaces(): string[] {
  const text = readFileSync('/proc/self/net/dev', 'utf8');
  return text
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0]?.trim() ?? '')
    .filter((name) => name !== '');
}

/** True when the only network interface is loopback. */
export function isPrivateNetwork(): boolean {
  const names = networkInterfaces();
  return names.length > 0 && names.every((n) => n === 'lo');
}

/**
 * Throws unless this process runs in a network namespace whose only
 * interface is `lo`. Interop and browser tests call this first, so nothing
 * they start (the wormhole CLI defaults to public servers) can reach beyond
 * loopback. Run tests through `node scripts/in-netns.mjs …` (`pnpm test`).
 */
export function assertPrivateNetwork(): void {
  const names = networkInterfaces();
  if (names.length === 0 || !names.every((n) => n === 'lo')) {
    throw new Error(
      `not in a private network namespace (interfaces: ${names.join(', ') || 'none'}); ` +
        'run the tests through `node scripts/in-netns.mjs …` (e.g. `pnpm test`)',
    );
  }
}

/** Hosts the testkit accepts for servers the CLI or browser may contact. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** A TCP port that was free on `host` a moment ago (bind to :0, then close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: no port assigned'));
        return;
      }
      server.close((err) => (err ? reject(err) : resolve(address.port)));
    });
  });
}

/** Open a TCP connection, resolving with the socket once connected. */
export function connectTcp(port: number, host = '127.0.0.1', timeoutMs = 2_000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect ${host}:${port} timed out`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
    socket.connect(port, host, () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}
