// Interrupted transfers: the CLI peer killed mid-stream (either direction) and
// the transit relay killed mid-stream. Burrow must fail with a clear error,
// quickly, and leave nothing that looks like a complete file.
import { bestEffort } from '@burrow/protocol';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWormholeError, receiveOffer, sendFile, type TransferProgress } from '@burrow/client';
import { fileSink, fileSource, nodeTransit } from '@burrow/client/node';
import { inTempDir, listNames, randomFile, runWormhole, startTransitRelay, type TransitRelay } from '@burrow/testkit';
import { burrow, useTransferRig } from './support/transfer.js';

const SIZE = 60 * 1024 * 1024;

describe('interrupted transfers', () => {
  let big: string;
  const rig = useTransferRig('int', {
    setup: (dir) => {
      big = join(dir, 'big.bin');
      randomFile(big, SIZE);
    },
  });

  /** A Debian relay of its own (the test may kill it) and an output folder, both gone afterwards. */
  const withRelay = async (fn: (relay: TransitRelay, outDir: string) => Promise<void>): Promise<void> => {
    const relay = await startTransitRelay();
    try {
      await inTempDir('burrow-xfer-int-out-', (outDir) => fn(relay, outDir));
    } finally {
      await relay.stop();
    }
  };

  /** Progress callback that runs `fn` once, after `after` bytes. */
  const once = (after: number, fn: () => void) => {
    let fired = false;
    return (p: TransferProgress) => {
      if (!fired && p.bytes >= after) {
        fired = true;
        fn();
      }
    };
  };

  it('CLI sender killed mid-stream: receiver fails, no file is left', async () => {
    const { mailbox, dir } = rig;
    await withRelay(async (relay, outDir) => {
      const cli = runWormhole(['send', '--hide-progress', big], { relayUrl: mailbox.url, transitHelper: relay.hint, cwd: dir });
      const w = await burrow(mailbox.url);
      w.setCode(await cli.code);
      const offer = await receiveOffer(w, { transit: nodeTransit({ relays: [relay.hint] }) });
      if (offer.type !== 'file') throw new Error('expected a file offer');
      const started = Date.now();
      const err = await offer
        .accept(await fileSink(join(outDir, offer.name)), { progressIntervalMs: 5, onProgress: once(4 << 20, () => cli.kill('SIGKILL')) })
        .then(() => undefined, (e: unknown) => e);
      expect(isWormholeError(err, 'TransferFailed'), String(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(listNames(outDir)).toEqual([]);
      await w.close().catch(bestEffort);
    });
  }, 60_000);

  it('CLI receiver killed mid-stream: sender fails without hanging', async () => {
    const { mailbox } = rig;
    await withRelay(async (relay, outDir) => {
      const w = await burrow(mailbox.url);
      const code = await w.allocateCode();
      const out = join(outDir, 'big.bin');
      const cli = runWormhole(['receive', '--accept-file', '--hide-progress', '-o', out, code], {
        relayUrl: mailbox.url,
        transitHelper: relay.hint,
        cwd: outDir,
      });
      const started = Date.now();
      const err = await sendFile(w, await fileSource(big), {
        transit: nodeTransit({ relays: [relay.hint] }),
        progressIntervalMs: 5,
        onProgress: once(4 << 20, () => cli.kill('SIGKILL')),
      }).then(() => undefined, (e: unknown) => e);
      expect(isWormholeError(err, 'TransferFailed'), String(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(15_000);
      // Python writes to OUT.tmp and only renames on success.
      expect(listNames(outDir)).not.toContain('big.bin');
      await w.close().catch(bestEffort);
    });
  }, 60_000);

  it('relay killed mid-stream: receiver fails, no file is left', async () => {
    const { mailbox, dir } = rig;
    await withRelay(async (relay, outDir) => {
      const cli = runWormhole(['send', '--hide-progress', '--no-listen', big], { relayUrl: mailbox.url, transitHelper: relay.hint, cwd: dir });
      const w = await burrow(mailbox.url);
      w.setCode(await cli.code);
      const offer = await receiveOffer(w, { transit: nodeTransit({ relays: [relay.hint], noListen: true }) });
      if (offer.type !== 'file') throw new Error('expected a file offer');
      const started = Date.now();
      const err = await offer
        .accept(await fileSink(join(outDir, offer.name)), { progressIntervalMs: 5, onProgress: once(4 << 20, () => void relay.stop()) })
        .then(() => undefined, (e: unknown) => e);
      expect(isWormholeError(err, 'TransferFailed'), String(err)).toBe(true);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(listNames(outDir)).toEqual([]);
      const r = await cli.result;
      expect(r.exitCode).not.toBe(0);
      await w.close().catch(bestEffort);
    });
  }, 60_000);
});
