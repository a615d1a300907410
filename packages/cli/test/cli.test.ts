// The command's own habits, without a network peer: version, help and exit
// statuses, the progress bar, and typing a code with Tab completion
// (nameplates from a real gateway on loopback, words from the PGP list).
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createWormhole, type TransferProgress, type WebSocketConstructor } from '@burrow/client';
import { startGateway, type Gateway } from '@burrow/gateway';
import { EXIT, main, VERSION } from '../src/main.js';
import { parse } from '../src/args.js';
import { serve } from '../src/serve.js';
import { waitFor } from '@burrow/testkit';
import { codeCompleter, CODE_PROMPT, inputCode, nameplateLister, type NameplateLister } from '../src/code-input.js';
import { formatDuration, progressBar, progressLine } from '../src/progress.js';

function sink(isTTY = false): PassThrough & { isTTY: boolean; text(): string } {
  const out = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  out.setEncoding('utf8').on('data', (d: string) => (text += d));
  return Object.assign(out, { text: () => text });
}

async function runMain(argv: string[]) {
  const stdout = sink();
  const stderr = sink();
  const code = await main(argv, { stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('burrow: version, help, exit statuses', () => {
  it('VERSION is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
    expect(EXIT).toEqual({ ok: 0, failed: 1, usage: 2, internal: 70, interrupted: 130 });
  });

  it('--version, --help, no command, an unknown command and an unknown flag', async () => {
    expect(await runMain(['--version'])).toEqual({ code: 0, stdout: `burrow ${VERSION}\n`, stderr: '' });
    const help = await runMain(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit status: 0 done; 1 transfer failed');
    expect(help.stdout).toContain('130 interrupted');
    expect((await runMain([])).code).toBe(2);
    expect(await runMain(['teleport'])).toEqual({ code: 2, stdout: '', stderr: "burrow: unknown command 'teleport'\n" });
    expect((await runMain(['--frobnicate'])).code).toBe(2);
  });
});

describe('burrow serve flags', () => {
  it('--data-sync takes normal or full; anything else is a usage error', async () => {
    const bad = await runMain(['serve', '--port', '0', '--transit-port', '0', '--data-sync', 'sometimes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--data-sync must be normal or full');
  });

  it('--public-host names the host clients reach, in the printed URLs', async () => {
    const stop = new AbortController();
    const stdout = sink();
    const stderr = sink();
    const { values } = parse(['serve', '--port', '0', '--transit-port', '0', '--drain-seconds', '0', '--public-host', 'relay.example.test']);
    const running = serve(values, { stdout, stderr, stdin: new PassThrough() }, stop.signal);
    await waitFor(() => stdout.text().includes('health'), { message: 'the serve banner' });
    stop.abort();
    await running;
    expect(stdout.text()).toMatch(/ws:\/\/relay\.example\.test:\d+\/v1/);
  });
});

describe('progress bar', () => {
  const at = (bytes: number, done = false): TransferProgress => ({ bytes, total: 5_200_000, elapsedMs: 1000, bytesPerSecond: bytes, done });

  it('shows percentage, bar, bytes, elapsed<remaining and rate', () => {
    expect(progressLine(at(2_200_000))).toBe(` 42%|${'#'.repeat(13)}${' '.repeat(17)}| 2.2 MB/5.2 MB [00:01<00:01, 2.2 MB/s]`);
    expect(progressLine({ ...at(0), bytesPerSecond: 0 })).toBe(`  0%|${' '.repeat(30)}| 0 Bytes/5.2 MB [00:01<?, ?/s]`);
    expect(progressLine(at(5_200_000, true))).toMatch(/^100%\|#{30}\| 5\.2 MB\/5\.2 MB \[00:01<00:00, 5\.2 MB\/s\]$/);
    expect([formatDuration(65), formatDuration(3723), formatDuration(Number.NaN)]).toEqual(['01:05', '1:02:03', '?']);
  });

  it('redraws in place on a terminal, writes only the final line to a pipe, nothing with --hide-progress', () => {
    const tty = sink(true);
    progressBar(tty, false).onProgress!(at(1_000_000));
    progressBar(tty, false).onProgress!(at(5_200_000, true));
    expect(tty.text()).toMatch(/^\r 19%\|.*\x1b\[K\r100%\|.*\x1b\[K\n$/);
    const pipe = sink(false);
    const bar = progressBar(pipe, false).onProgress!;
    bar(at(1_000_000));
    bar(at(5_200_000, true));
    expect(pipe.text()).toBe(`${progressLine(at(5_200_000, true))}\n`);
    expect(progressBar(tty, true)).toEqual({});
  });
});

describe('typing the code', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway({ port: 0, transitPort: 0 });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('completes nameplates before the first hyphen, then PGP words', async () => {
    const complete = codeCompleter(async () => ['12', '15', '3']);
    expect(await complete('1')).toEqual([['12-', '15-'], '1']);
    expect(await complete('4-purple-sa')).toEqual([['4-purple-sailboat', '4-purple-sawdust'], '4-purple-sa']);
    expect(await complete('4-purple-saw')).toEqual([['4-purple-sawdust'], '4-purple-saw']);
    expect(await complete('12-adr')).toEqual([['12-adroitness-'], '12-adr']);
  });

  it('Tab at a terminal prompt completes the word in the line that is read', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const stderr = sink(true);
    const lister: NameplateLister = { list: async () => [], close: () => undefined };
    const code = inputCode({ stdin, stderr, stdout: sink() }, lister, AbortSignal.timeout(5000));
    stdin.write('4-purple-saw\t');
    stdin.write('\r');
    expect(await code).toBe('4-purple-sawdust');
    expect(stderr.text()).toContain(CODE_PROMPT);
  });

  it('lists the active nameplates of a real mailbox server', async () => {
    const w = await createWormhole({ mailbox: gateway.url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    try {
      await w.allocateCode(2);
      const nameplate = (await w.code).split('-')[0]!;
      const lister = nameplateLister(gateway.url, 'lothar.com/wormhole/text-or-file-xfer');
      try {
        expect(await lister.list()).toContain(nameplate);
        expect(await codeCompleter(() => lister.list())(nameplate)).toEqual([[`${nameplate}-`], nameplate]);
      } finally {
        lister.close();
      }
    } finally {
      // Nobody came for the code: the wormhole closes lonely, as it should.
      await expect(w.close()).rejects.toMatchObject({ code: 'Lonely' });
    }
  });
});
