/**
 * Shared by the WebTransport browser tests (native and ponyfill): a
 * throwaway certificate written to disk, and the page-to-page text exchange
 * both run (each page script defines `send(...args, text)`,
 * `receive(...args, code)` and `sent`).
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export interface TestCertificateFiles {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** SHA-256 of the DER certificate, hex (for `serverCertificateHashes`). */
  readonly sha256: string;
}

/**
 * A self-signed ECDSA P-256 certificate for 127.0.0.1, valid 10 days (what
 * `serverCertificateHashes` accepts: ECDSA, under 14 days), written to `dir`.
 */
export function writeTestCertificate(dir: string): TestCertificateFiles {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-days', '10', '-nodes',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  const cert = readFileSync(certFile, 'utf8');
  const sha256 = createHash('sha256').update(new X509Certificate(cert).raw).digest('hex');
  return { cert, key: readFileSync(keyFile, 'utf8'), certFile, keyFile, sha256 };
}

type ExchangeWindow = {
  send(...args: string[]): Promise<string>;
  sent: Promise<{ verifier: string }>;
  receive(...args: string[]): Promise<{ text: string; verifier: string }>;
};

/** Page `a` sends `text`, page `b` receives it with the code; both see the same verifier. */
export async function pageToPageText(a: Page, b: Page, args: readonly string[], text: string): Promise<void> {
  const code = await a.evaluate((xs) => (window as unknown as ExchangeWindow).send(...xs), [...args, text]);
  expect(code).toMatch(/^\d+-\w+-\w+$/);
  const got = await b.evaluate((xs) => (window as unknown as ExchangeWindow).receive(...xs), [...args, code]);
  const sent = await a.evaluate(() => (window as unknown as ExchangeWindow).sent);
  expect(got.text).toBe(text);
  expect(got.verifier).toMatch(/^[0-9a-f]{64}$/);
  expect(sent.verifier).toBe(got.verifier);
}
