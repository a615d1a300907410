/**
 * Zips from an independent writer for the zip reader tests of protocol and
 * client: Python's zipfile (Debian's /usr/bin/python3) writing into a
 * non-seekable pipe, so every entry it opens gets a data descriptor (flag
 * bit 3), which Burrow's own writer never makes; and Python reading one back.
 */
import { spawnSync } from 'node:child_process';

export interface StreamedEntry {
  readonly name: string;
  readonly data?: Uint8Array;
  readonly deflate?: boolean;
  readonly mode?: number;
  /** Python: force_zip64 (8-byte descriptor sizes, Zip64 extra in the local header). */
  readonly zip64?: boolean;
  /** Python: ZipFile.mkdir (a directory entry without a descriptor). */
  readonly mkdir?: boolean;
}

const PYTHON_WRITER = `
import base64, io, json, sys, zipfile
class Unseekable(io.RawIOBase):
    def __init__(s, f): s.f = f
    def writable(s): return True
    def seekable(s): return False
    def write(s, b): s.f.write(b); return len(b)
with zipfile.ZipFile(Unseekable(sys.stdout.buffer), 'w') as zf:
    for e in json.loads(sys.stdin.read()):
        if e.get('mkdir'):
            zf.mkdir(e['name'])
            continue
        zi = zipfile.ZipInfo(e['name'], date_time=(2024, 1, 2, 3, 4, 6))
        zi.compress_type = zipfile.ZIP_DEFLATED if e.get('deflate') else zipfile.ZIP_STORED
        zi.create_system = 3
        zi.external_attr = (e.get('mode', 0o644) | (0o40000 if e['name'].endswith('/') else 0o100000)) << 16
        with zf.open(zi, 'w', force_zip64=e.get('zip64', False)) as f:
            f.write(base64.b64decode(e.get('data', '')))
`;

/** A zip written by Python's zipfile into a non-seekable stream: every entry it opens gets a data descriptor. */
export function pythonStreamedZip(entries: readonly StreamedEntry[]): Uint8Array {
  const spec = entries.map((e) => ({ ...e, data: Buffer.from(e.data ?? new Uint8Array(0)).toString('base64') }));
  const r = spawnSync('/usr/bin/python3', ['-c', PYTHON_WRITER], { input: JSON.stringify(spec), maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`Debian's /usr/bin/python3 is required: ${String(r.stderr)}`);
  return new Uint8Array(r.stdout);
}

/** Python's zipfile, reading through the central directory: name → base64 bytes (it also checks every CRC). */
export function pythonReads(zip: Uint8Array): Record<string, string> {
  const script = `
import base64, io, json, sys, zipfile
z = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))
assert z.testzip() is None
print(json.dumps({i.filename: base64.b64encode(z.read(i)).decode() for i in z.infolist()}))`;
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: zip, maxBuffer: 1 << 28, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}
