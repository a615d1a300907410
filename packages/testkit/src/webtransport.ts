/**
 * WebTransport in Node for tests: a throwaway TLS certificate, and the
 * @fails-components browser ponyfill (its WebSocket mapping, what browsers
 * without native WebTransport use) running over `ws`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

/** A self-signed ECDSA P-256 certificate for 127.0.0.1/localhost, valid 10 days. */
export function testCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'burrow-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-days', '10', '-nodes',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The subset of the ponyfill's `WebTransport` the tests use. */
export interface PonyfillWebTransport {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  createBidirectionalStream(): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }>;
  close(): void;
}
export type PonyfillWebTransportCtor = new (url: string, options?: Record<string, unknown>) => PonyfillWebTransport;

/**
 * The browser ponyfill, made to run in Node 20: its WebSocket is `ws`
 * trusting `cert`, and `navigator` exists. (Its import-time probe of an
 * outside host only runs where a native WebTransport exists: not in Node.)
 * Replaces `globalThis.WebSocket` for the rest of the test file.
 */
export async function loadWebTransportPonyfill(cert: string): Promise<PonyfillWebTransportCtor> {
  const g = globalThis as Record<string, unknown>;
  g['navigator'] ??= {};
  g['WebSocket'] = class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca: cert });
    }
  };
  // The package exports only its Node entry; the browser one sits beside it.
  const wsDir = dirname(createRequire(import.meta.url).resolve('ws'));
  const pnpmRoot = wsDir.slice(0, wsDir.indexOf('/node_modules/.pnpm/') + '/node_modules/.pnpm/'.length);
  const entry = join(pnpmRoot, '@fails-components+webtransport@1.6.8/node_modules/@fails-components/webtransport/lib/index.browser.js');
  const mod = (await import(pathToFileURL(entry).href)) as { WebTransportPonyfill: PonyfillWebTransportCtor };
  return mod.WebTransportPonyfill;
}
