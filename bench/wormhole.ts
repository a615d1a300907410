/**
 * Issue 2 benchmarks: SPAKE2 exchange cost, and the time from both sides
 * holding the code to the text delivered, against the Python CLI.
 */
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import { createWormhole, type WebSocketConstructor } from '@burrow/client';
import { startSpake2, utf8 } from '@burrow/protocol';
import { runWormhole, startMailboxServer } from '@burrow/testkit';
import { repeat, report, timeRuns, type Sample } from './lib.js';

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** One full symmetric exchange (both sides start and finish), in Burrow. */
function burrowSpake(): void {
  const pw = utf8('4-purple-sausages');
  const id = utf8('lothar.com/wormhole/text-or-file-xfer');
  const a = startSpake2({ password: pw, id, random });
  const b = startSpake2({ password: pw, id, random });
  a.finish(b.message);
  b.finish(a.message);
}

/** The same exchange timed inside python-spake2 (the library the CLI uses). */
function pythonSpake(runs: number): number[] {
  const script = `
import time, json
from spake2 import SPAKE2_Symmetric
pw=b"4-purple-sausages"; ids=b"lothar.com/wormhole/text-or-file-xfer"
out=[]
for i in range(${runs + 1}):
    t=time.perf_counter()
    a=SPAKE2_Symmetric(pw, idSymmetric=ids); b=SPAKE2_Symmetric(pw, idSymmetric=ids)
    ma=a.start(); mb=b.start(); a.finish(mb); b.finish(ma)
    out.append((time.perf_counter()-t)*1000)
print(json.dumps(out[1:]))`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' })) as number[];
}

export async function spakeBench(): Promise<void> {
  const runs = 30;
  const samples: Sample[] = [
    { name: 'python-spake2 (CLI)', values: pythonSpake(runs), unit: 'ms' },
    { name: 'Burrow (noble)', values: await timeRuns(runs, burrowSpake, 3), unit: 'ms' },
  ];
  report('SPAKE2 symmetric exchange, both sides', samples, 'python-spake2 (CLI)');
}

export async function textBench(): Promise<void> {
  const mailbox = await startMailboxServer();
  const WS = WebSocket as unknown as WebSocketConstructor;
  const runs = 8;
  let n = 100;
  const nextCode = () => `${n++}-bench-text`;
  const open = () => createWormhole({ mailbox: mailbox.url, WebSocket: WS });
  try {
    // Burrow ↔ Burrow: both wormholes connected; the clock starts when both get the code.
    const bb = await repeat(runs, async () => {
      const [s, r] = await Promise.all([open(), open()]);
      const code = nextCode();
      const t0 = performance.now();
      s.setCode(code);
      r.setCode(code);
      const [, text] = await Promise.all([s.sendText('bench'), r.receiveText()]);
      const ms = performance.now() - t0;
      if (text !== 'bench') throw new Error('wrong text');
      await Promise.all([s.close(), r.close()]);
      return ms;
    });
    // CLI processes include interpreter start-up: measure that alone too, so the reader can subtract it.
    const startup = await repeat(runs, async () => {
      const t0 = performance.now();
      execFileSync('wormhole', ['--version'], { stdio: 'ignore' });
      return performance.now() - t0;
    });
    const cc = await repeat(runs, async () => {
      const code = nextCode();
      const t0 = performance.now();
      const s = runWormhole(['send', '--code', code, '--text', 'bench'], { relayUrl: mailbox.url, stdin: '' });
      const r = runWormhole(['receive', code], { relayUrl: mailbox.url, stdin: '' });
      const res = await r.result;
      const ms = performance.now() - t0;
      await s.result;
      if (res.stdout !== 'bench\n') throw new Error(`CLI↔CLI failed: ${res.stderr}`);
      return ms;
    });
    const bc = await repeat(runs, async () => {
      const code = nextCode();
      const s = await open();
      const t0 = performance.now();
      s.setCode(code);
      const r = runWormhole(['receive', code], { relayUrl: mailbox.url, stdin: '' });
      const [, res] = await Promise.all([s.sendText('bench'), r.result]);
      const ms = performance.now() - t0;
      await s.close();
      if (res.stdout !== 'bench\n') throw new Error(`Burrow→CLI failed: ${res.stderr}`);
      return ms;
    });
    const cb = await repeat(runs, async () => {
      const code = nextCode();
      const r = await open();
      const t0 = performance.now();
      const s = runWormhole(['send', '--code', code, '--text', 'bench'], { relayUrl: mailbox.url, stdin: '' });
      r.setCode(code);
      const text = await r.receiveText();
      const ms = performance.now() - t0;
      await Promise.all([r.close(), s.result]);
      if (text !== 'bench') throw new Error('CLI→Burrow failed');
      return ms;
    });
    report(
      'Text delivered, from both sides holding the code (same local Debian mailbox)',
      [
        { name: 'CLI↔CLI', values: cc, unit: 'ms' },
        { name: 'Burrow→CLI', values: bc, unit: 'ms' },
        { name: 'CLI→Burrow', values: cb, unit: 'ms' },
        { name: 'Burrow↔Burrow', values: bb, unit: 'ms' },
        { name: '(CLI start-up alone)', values: startup, unit: 'ms' },
      ],
      'CLI↔CLI',
    );
  } finally {
    await mailbox.stop();
  }
}
