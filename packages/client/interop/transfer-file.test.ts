// A ≥ 50 MB random file between Burrow and the Debian `wormhole` CLI 0.12,
// both directions, once over direct TCP and once forced through the Debian
// transit relay 0.2.1 (nobody listens: Burrow `noListen`, CLI `--no-listen`).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { receiveOffer, sendFile } from '@burrow/client';
import { fileSink, fileSource, nodeTransit } from '@burrow/client/node';
import { inTempDir, listNames, randomFile, runWormhole, sha256File } from '@burrow/testkit';
import { burrow, useTransferRig } from './support/transfer.js';

const SIZE = 52 * 1024 * 1024 + 12345;

describe('file transfer with the wormhole CLI', () => {
  let big: string;
  let bigSha: string;
  const rig = useTransferRig('file', {
    relay: true,
    setupTimeoutMs: 120_000,
    setup: async (dir) => {
      big = join(dir, 'big.bin');
      randomFile(big, SIZE);
      bigSha = await sha256File(big);
    },
  });

  for (const mode of ['direct', 'relay'] as const) {
    const noListen = mode === 'relay';

    it(`Burrow → CLI (${mode})`, async () => {
      const { mailbox, relay, dir } = rig;
      const out = join(dir, `from-burrow-${mode}.bin`);
      const w = await burrow(mailbox.url);
      const code = await w.allocateCode();
      const cli = runWormhole(['receive', '--accept-file', '--hide-progress', ...(noListen ? ['--no-listen'] : []), '-o', out, code], {
        relayUrl: mailbox.url,
        transitHelper: relay.hint,
        cwd: dir,
        timeoutMs: 150_000,
      });
      const result = await sendFile(w, await fileSource(big), { transit: nodeTransit({ relays: [relay.hint], noListen }) });
      await w.close();
      const r = await cli.result;
      expect(r.exitCode, r.stderr).toBe(0);
      expect(result.via).toBe(mode);
      expect(result.sha256).toBe(bigSha);
      expect(await sha256File(out)).toBe(bigSha);
      console.log(`Burrow → CLI ${mode}: ${(SIZE / 1e6 / (result.elapsedMs / 1000)).toFixed(1)} MB/s via ${result.connection}`);
    }, 180_000);

    it(`CLI → Burrow (${mode})`, async () => {
      const { mailbox, relay, dir } = rig;
      await inTempDir('burrow-xfer-in-', async (outDir) => {
        const cli = runWormhole(['send', '--hide-progress', ...(noListen ? ['--no-listen'] : []), big], {
          relayUrl: mailbox.url,
          transitHelper: relay.hint,
          cwd: dir,
          timeoutMs: 150_000,
        });
        const w = await burrow(mailbox.url);
        w.setCode(await cli.code);
        const offer = await receiveOffer(w, { transit: nodeTransit({ relays: [relay.hint], noListen }) });
        expect(offer.type).toBe('file');
        if (offer.type !== 'file') return;
        expect(offer.name).toBe('big.bin');
        expect(offer.size).toBe(SIZE);
        const result = await offer.accept(await fileSink(join(outDir, offer.name)));
        await w.close();
        const r = await cli.result;
        expect(r.exitCode, r.stderr).toBe(0);
        expect(r.stderr).toContain('Confirmation received. Transfer complete.');
        expect(result.via).toBe(mode);
        expect(listNames(outDir)).toEqual(['big.bin']);
        expect(await sha256File(join(outDir, 'big.bin'))).toBe(bigSha);
        console.log(`CLI → Burrow ${mode}: ${(SIZE / 1e6 / (result.elapsedMs / 1000)).toFixed(1)} MB/s via ${result.connection}`);
      });
    }, 180_000);
  }
});
