// Issue 17: a folder zipped by a streaming writer (Python's zipfile into a
// pipe: every entry has a data descriptor) sent through the Debian mailbox
// server and transit relay by a bare Node sender (the `wormhole` CLI cannot
// make such zips), received by receiveOffer + the Node directory sink, and
// by `burrow receive`. A corrupted one is refused, leaving nothing behind.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { receiveOffer } from '@burrow/client';
import { directorySink, nodeTransit } from '@burrow/client/node';
import { inTempDir, listNames } from '@burrow/testkit';
import { descriptorTree, pythonStreamedZip, sendZipAsDirectory } from '../test/support/zip-sender.js';
import { burrow, useTransferRig } from './support/transfer.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const CLI = join(ROOT, 'packages/cli/src/main.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

const tree = descriptorTree();
const zip = pythonStreamedZip(tree);
const meta = { dirname: 'streamed', numbytes: tree.reduce((n, e) => n + (e.data?.length ?? 0), 0), numfiles: tree.filter((e) => !e.name.endsWith('/')).length };

function expectTree(root: string): void {
  for (const e of tree) {
    const p = join(root, e.name);
    expect(statSync(p).mode & 0o777, e.name).toBe(e.mode ?? 0o644);
    if (!e.name.endsWith('/')) expect(Buffer.compare(readFileSync(p), e.data!), e.name).toBe(0);
  }
}

describe('a folder with data descriptors, through the Debian mailbox and relay', () => {
  const rig = useTransferRig('descriptor', { relay: true });

  for (const mode of ['direct', 'relay'] as const) {
    it(`receiveOffer + directorySink (${mode})`, async () => {
      await inTempDir('burrow-dd-in-', async (outDir) => {
        const a = await burrow(rig.mailbox.url);
        const b = await burrow(rig.mailbox.url);
        b.setCode(await a.allocateCode());
        const noListen = mode === 'relay';
        const sending = sendZipAsDirectory(a, zip, meta, nodeTransit({ relays: [rig.relay.hint], noListen, listen: { host: '127.0.0.1', addresses: ['127.0.0.1'] } }));
        const offer = await receiveOffer(b, { transit: nodeTransit({ relays: [rig.relay.hint], noListen: true }) });
        if (offer.type !== 'directory') throw new Error(`expected a directory, got ${offer.type}`);
        const result = await offer.accept(await directorySink(join(outDir, offer.name)));
        expect(await sending).toMatchObject({ ok: true, sha256: result.sha256 });
        expect(result.via).toBe(mode);
        await Promise.all([a.close(), b.close()]);
        expect(listNames(outDir)).toEqual(['streamed']);
        expectTree(join(outDir, 'streamed'));
      });
    }, 90_000);
  }

  it('a corrupted descriptor: RemoteProtocol, nothing left behind', async () => {
    await inTempDir('burrow-dd-bad-', async (outDir) => {
      const bad = zip.slice();
      const v = new DataView(bad.buffer);
      const dd = bad.findIndex((_, i) => i > 40 && i + 4 <= bad.length && v.getUint32(i, true) === 0x08074b50);
      v.setUint32(dd + 4, v.getUint32(dd + 4, true) ^ 1, true);
      const a = await burrow(rig.mailbox.url);
      const b = await burrow(rig.mailbox.url);
      b.setCode(await a.allocateCode());
      const sending = sendZipAsDirectory(a, bad, meta, nodeTransit({ relays: [rig.relay.hint], noListen: true }));
      const offer = await receiveOffer(b, { transit: nodeTransit({ relays: [rig.relay.hint], noListen: true }) });
      if (offer.type !== 'directory') throw new Error(`expected a directory, got ${offer.type}`);
      await expect(offer.accept(await directorySink(join(outDir, offer.name)))).rejects.toMatchObject({ code: 'RemoteProtocol' });
      expect(await sending).toBeUndefined();
      await Promise.all([a.close(), b.close()]);
      expect(listNames(outDir)).toEqual([]);
    });
  }, 90_000);

  it('burrow receive --accept-file', async () => {
    await inTempDir('burrow-dd-cli-', async (outDir) => {
      const a = await burrow(rig.mailbox.url);
      const code = await a.allocateCode();
      const flags = ['--relay-url', rig.mailbox.url, '--transit-helper', rig.relay.hint];
      const child = spawn(process.execPath, ['--conditions=source', '--import', TSX, CLI, ...flags, 'receive', '--accept-file', '--hide-progress', code], { cwd: outDir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((res) => child.once('close', res));
      try {
        const ack = await sendZipAsDirectory(a, zip, meta, nodeTransit({ relays: [rig.relay.hint], noListen: true }));
        expect(ack, stderr).toMatchObject({ ok: true });
        expect(await exited, stderr).toBe(0);
      } finally {
        child.kill('SIGKILL');
        await a.close();
      }
      expect(listNames(outDir)).toEqual(['streamed']);
      expectTree(join(outDir, 'streamed'));
    });
  }, 90_000);
});
