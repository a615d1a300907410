// A nested directory (empty folders, several files, odd names, modes) between
// Burrow and the Debian `wormhole` CLI 0.12, both directions, direct and
// through the relay. sha256 and mode of every entry must match. The CLI's
// zips contain only files (Python's zipfile walk), so empty folders cannot
// survive CLI → Burrow, nor can directory modes. Burrow's zips are laid out
// the same way plus an entry for each EMPTY folder (no entry for a folder
// that holds anything, which receivers that unpack every entry as a file
// choke on): Burrow → CLI keeps empty folders and their modes; a non-empty
// folder is created from its files' paths, with the receiver's default mode.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { receiveOffer, sendDirectory } from '@burrow/client';
import { directorySink, directorySource, nodeTransit } from '@burrow/client/node';
import { describeTree, ignoreDirModes, ignoreNonEmptyDirModes, inTempDir, listNames, makeTree, runWormhole, withoutEmptyDirs } from '@burrow/testkit';
import { burrow, useTransferRig } from './support/transfer.js';

describe('directory transfer with the wormhole CLI', () => {
  let tree: string;
  const rig = useTransferRig('dir', {
    relay: true,
    setup: (dir) => {
      tree = join(dir, 'tree');
      makeTree(tree);
      chmodSync(join(tree, 'a b', 'empty too'), 0o700); // an empty folder's mode travels in its entry
    },
  });

  for (const mode of ['direct', 'relay'] as const) {
    const noListen = mode === 'relay';

    it(`Burrow → CLI (${mode})`, async () => {
      const { mailbox, relay } = rig;
      await inTempDir('burrow-xfer-dir-out-', async (outDir) => {
        const w = await burrow(mailbox.url);
        const code = await w.allocateCode();
        const cli = runWormhole(['receive', '--accept-file', '--hide-progress', ...(noListen ? ['--no-listen'] : []), code], {
          relayUrl: mailbox.url,
          transitHelper: relay.hint,
          cwd: outDir,
          timeoutMs: 60_000,
        });
        const result = await sendDirectory(w, await directorySource(tree), { transit: nodeTransit({ relays: [relay.hint], noListen }) });
        await w.close();
        const r = await cli.result;
        expect(r.exitCode, r.stderr).toBe(0);
        expect(result.via).toBe(mode);
        const got = await describeTree(join(outDir, 'tree'));
        const sent = await describeTree(tree);
        expect(ignoreNonEmptyDirModes(got)).toEqual(ignoreNonEmptyDirModes(sent));
        // Nested folders arrive through their files; both empty folders (one nested) arrive as folders.
        expect(got.get('a b/deeper/deepest')?.type).toBe('dir');
        expect(got.get('empty')).toEqual({ type: 'dir', mode: sent.get('empty')!.mode });
        expect(got.get('a b/empty too')).toEqual({ type: 'dir', mode: sent.get('a b/empty too')!.mode });
        // numfiles counts the zip's entries: 9 files + 2 empty folders.
        expect(r.stderr).toContain('11 files');
      });
    }, 90_000);

    it(`CLI → Burrow (${mode})`, async () => {
      const { mailbox, relay, dir } = rig;
      await inTempDir('burrow-xfer-dir-in-', async (outDir) => {
        const cli = runWormhole(['send', '--hide-progress', ...(noListen ? ['--no-listen'] : []), tree], {
          relayUrl: mailbox.url,
          transitHelper: relay.hint,
          cwd: dir,
          timeoutMs: 60_000,
        });
        const w = await burrow(mailbox.url);
        w.setCode(await cli.code);
        const offer = await receiveOffer(w, { transit: nodeTransit({ relays: [relay.hint], noListen }) });
        expect(offer.type).toBe('directory');
        if (offer.type !== 'directory') return;
        expect(offer.name).toBe('tree');
        expect(offer.numFiles).toBe(9);
        const result = await offer.accept(await directorySink(join(outDir, offer.name)));
        await w.close();
        const r = await cli.result;
        expect(r.exitCode, r.stderr).toBe(0);
        expect(r.stderr).toContain('Transfer complete.');
        expect(result.via).toBe(mode);
        expect(listNames(outDir)).toEqual(['tree']);
        expect(ignoreDirModes(await describeTree(join(outDir, 'tree')))).toEqual(ignoreDirModes(withoutEmptyDirs(await describeTree(tree))));
      });
    }, 90_000);
  }
});
