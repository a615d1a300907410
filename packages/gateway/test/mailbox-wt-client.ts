/**
 * Test-side WebTransport for Node: the @fails-components browser ponyfill
 * (WebSocket mapping, what browsers without native WebTransport use) running
 * over `ws`, a throwaway TLS certificate, and a Burrow MailboxTransport over
 * WebTransport as a reference for the client package.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import type { FrameConnection, MailboxTransport } from '@burrow/client';
import { encodeFrame, FrameDecoder } from '../src/mailbox/webtransport.js';

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

export interface WebTransportLike {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<unknown>;
  createBidirectionalStream(): Promise<{ readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }>;
  close(): void;
}
export type WebTransportCtor = new (url: string, options?: Record<string, unknown>) => WebTransportLike;

/**
 * The browser ponyfill, made to run in Node 20: its WebSocket is `ws`
 * trusting `cert`, and `navigator` exists. (Its import-time probe of an
 * outside host only runs where a native WebTransport exists: not in Node.)
 */
export async function loadPonyfill(cert: string): Promise<WebTransportCtor> {
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
  const mod = (await import(pathToFileURL(entry).href)) as { WebTransportPonyfill: WebTransportCtor };
  return mod.WebTransportPonyfill;
}

/**
 * Mailbox frames over WebTransport for Burrow's client: one bidirectional
 * stream, each frame a 4-byte big-endian length and UTF-8 JSON.
 */
export function webTransportMailbox(WebTransport: WebTransportCtor): MailboxTransport {
  return (url, handlers) => {
    let done = false;
    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      handlers.closed(error);
    };
    const wt = new WebTransport(url.replace(/^wss?:/, 'https:'));
    let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    void (async () => {
      await wt.ready;
      const stream = await wt.createBidirectionalStream();
      writer = stream.writable.getWriter();
      handlers.open();
      const frames = new FrameDecoder(1 << 20);
      const reader = stream.readable.getReader();
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        for (const f of frames.push(value)) handlers.frame(decoder.decode(f));
      }
      finish();
    })().catch((err: unknown) => finish(err));
    void wt.closed.then(
      () => finish(),
      (err: unknown) => finish(err),
    );
    const connection: FrameConnection = {
      send(frame) {
        if (!done) void writer?.write(encodeFrame(encoder.encode(frame))).catch(() => {});
      },
      close() {
        try {
          wt.close();
        } catch {
          // already closed
        }
      },
    };
    return connection;
  };
}
