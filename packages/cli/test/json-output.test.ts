// `--json` output of `burrow send` / `burrow receive`: the line shapes
// scripts read (docs-site/guide/cli.md "JSON output"), and usage errors of
// `send PATH…` that come before any network.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { filesDoneEvent, progressEvent, reporter, transitDoneEvent } from '../src/progress.js';

function text(): PassThrough & { isTTY: boolean; output(): string } {
  const out = Object.assign(new PassThrough(), { isTTY: false });
  let s = '';
  out.setEncoding('utf8').on('data', (d: string) => (s += d));
  return Object.assign(out, { output: () => s });
}

describe('burrow --json', () => {
  it('prints progress and done lines on stdout, nothing on stderr', () => {
    const stdout = text();
    const stderr = text();
    const out = reporter({ stdout, stderr }, { json: true });
    out.progress().onProgress!({ bytes: 5, total: 10, moved: 3, files: 2, filesDone: 1, elapsedMs: 12.6, bytesPerSecond: 1000.4, via: 'webrtc', done: false });
    out.event(
      filesDoneEvent({
        files: [{ path: 'a/b.bin', size: 10, sha256: 'ab'.repeat(32), resumedFrom: 4 }],
        bytes: 10,
        moved: 6,
        via: 'webrtc',
        connection: 'host udp 127.0.0.1:1 ⇄ host udp 127.0.0.1:2',
        reconnects: 0,
        elapsedMs: 40.2,
      }),
    );
    expect(stderr.output()).toBe('');
    expect(stdout.output().split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown)).toEqual([
      { event: 'progress', bytes: 5, total: 10, moved: 3, files: 2, filesDone: 1, bytesPerSecond: 1000, elapsedMs: 13, via: 'webrtc', done: false },
      {
        event: 'done',
        via: 'webrtc',
        connection: 'host udp 127.0.0.1:1 ⇄ host udp 127.0.0.1:2',
        bytes: 10,
        moved: 6,
        elapsedMs: 40,
        reconnects: 0,
        files: [{ path: 'a/b.bin', bytes: 10, sha256: 'ab'.repeat(32), resumedFrom: 4 }],
      },
    ]);
  });

  it('describes a Transit v1 file, and a folder by its zip', () => {
    const r = { bytes: 7, sha256: 'cd'.repeat(32), via: 'relay' as const, connection: '->relay:tcp:127.0.0.1:4001', elapsedMs: 3 };
    expect(transitDoneEvent(r, 'x.txt', 'file').files).toEqual([{ path: 'x.txt', bytes: 7, sha256: 'cd'.repeat(32), resumedFrom: 0 }]);
    expect(transitDoneEvent(r, 'photos', 'directory').files).toEqual([{ path: 'photos/', bytes: 7, zip: true, sha256: 'cd'.repeat(32), resumedFrom: 0 }]);
    expect(progressEvent({ bytes: 1, total: 2, elapsedMs: 0, bytesPerSecond: 0, done: false })).toEqual({ event: 'progress', bytes: 1, total: 2, bytesPerSecond: 0, elapsedMs: 0, done: false });
  });

  it('--hide-progress with --json prints no progress lines; without --json no JSON at all', () => {
    const stdout = text();
    const stderr = text();
    expect(reporter({ stdout, stderr }, { json: true, 'hide-progress': true }).progress().onProgress).toBeUndefined();
    const human = reporter({ stdout, stderr }, {});
    human.event({ event: 'code', code: '1-a-b' });
    human.progress().onProgress!({ bytes: 2, total: 2, elapsedMs: 1, bytesPerSecond: 2, done: true });
    expect(stdout.output()).toBe('');
    expect(stderr.output()).toContain('100%|');
  });

  it('send PATH… refuses a missing path before connecting; the error is a JSON line', async () => {
    const stdout = text();
    const stderr = text();
    const code = await main(['--relay-url', 'ws://127.0.0.1:9/v1', 'send', '--json', 'package.json', 'no-such-file'], { stdout, stderr, stdin: new PassThrough() });
    expect(code).toBe(2);
    expect(stderr.output()).toContain("no file/directory named 'no-such-file'");
    expect(JSON.parse(stdout.output())).toEqual({ event: 'error', code: 'Usage', message: "Cannot send: no file/directory named 'no-such-file'" });
  });
});
