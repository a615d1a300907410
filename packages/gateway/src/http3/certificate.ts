/**
 * A throwaway self-signed certificate for the HTTP/3 listener, in the only
 * shape browsers accept by hash (`serverCertificateHashes`): X.509 v3,
 * ECDSA P-256, valid for less than 14 days. Built with node:crypto and a
 * few lines of DER, so starting the gateway needs no openssl.
 *
 *   const c = selfSignedCertificate({ names: ['127.0.0.1', 'localhost'] });
 *   c.sha256; // hex SHA-256 of the DER certificate, for serverCertificateHashes
 */
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP, isIPv4 } from 'node:net';

/** A PEM certificate and key, with what a page needs to trust it. */
export interface SelfSignedCertificate {
  readonly cert: string;
  readonly key: string;
  /** SHA-256 of the DER certificate, lowercase hex. */
  readonly sha256: string;
  readonly notAfter: Date;
}

export interface SelfSignedOptions {
  /** Host names and IP addresses for subjectAltName (the first is also the CN). */
  readonly names: readonly string[];
  /** Validity in ms (default and at most 13 days: browsers refuse 14 and more). */
  readonly validForMs?: number;
  /** The clock (default Date.now). */
  readonly now?: number;
}

const DAY = 24 * 60 * 60 * 1000;
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const SUBJECT_ALT_NAME = '2.5.29.17';

function der(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) groups.unshift((v & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return der(0x06, Buffer.from(bytes));
}

/** UTCTime, YYMMDDHHMMSSZ (valid until 2049). */
function utcTime(d: Date): Buffer {
  return der(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));
}

function name(cn: string): Buffer {
  return der(0x30, der(0x31, der(0x30, oid(COMMON_NAME), der(0x0c, Buffer.from(cn)))));
}

function altName(n: string): Buffer {
  if (!isIP(n)) return der(0x82, Buffer.from(n));
  if (isIPv4(n)) return der(0x87, Buffer.from(n.split('.').map(Number)));
  // IPv6: expand "::" into the 8 groups.
  const [head, tail] = n.split('::') as [string, string | undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const fill = tail === undefined ? [] : Array<string>(8 - groups(head).length - groups(tail).length).fill('0');
  const all = [...groups(head), ...fill, ...groups(tail)];
  return der(0x87, Buffer.concat(all.map((g) => Buffer.from([parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]))));
}

function pem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A fresh ECDSA P-256 key and a self-signed certificate for `names`. */
export function selfSignedCertificate(options: SelfSignedOptions): SelfSignedCertificate {
  const names = options.names.filter((n) => n.length > 0 && n.length <= 253);
  if (names.length === 0) throw new TypeError('options.names must hold at least one host name or address');
  const validFor = Math.min(options.validForMs ?? 13 * DAY, 13 * DAY);
  if (!(validFor > 0)) throw new RangeError('options.validForMs must be positive');
  const now = options.now ?? Date.now();
  // Up to a minute of slack for clocks slightly behind; the whole span stays under 14 days.
  const notBefore = new Date(Math.floor(now / 1000) * 1000 - Math.min(60_000, Math.floor(validFor / 2000) * 1000));
  const notAfter = new Date(notBefore.getTime() + validFor);
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  serial[0]! |= 0x01;
  const algorithm = der(0x30, oid(ECDSA_WITH_SHA256));
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    algorithm,
    name(names[0]!),
    der(0x30, utcTime(notBefore), utcTime(notAfter)),
    name(names[0]!),
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, der(0x30, der(0x30, oid(SUBJECT_ALT_NAME), der(0x04, der(0x30, ...names.map(altName)))))),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const cert = der(0x30, tbs, algorithm, der(0x03, Buffer.from([0]), signature));
  return {
    cert: pem('CERTIFICATE', cert),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    sha256: createHash('sha256').update(cert).digest('hex'),
    notAfter,
  };
}
