/**
 * Issue 4/13 benchmarks (file transfer): throughput of one file (100 MB
 * unless BURROW_BENCH_MB says otherwise) for CLI→CLI (the baseline),
 * Burrow→CLI, CLI→Burrow and Burrow→Burrow, each peer its own process, over
 * direct TCP on loopback and through the Debian transit relay (both sides
 * `--no-listen`). Measured the same way for every pair: on the sender, from
 * "transit connected" to "ack received" (Burrow prints it; Python's
 * --dump-timing has it). Every received file's sha256 is checked.
 *
 * Also: peak RSS and CPU seconds (user + system) of the Burrow processes
 * and of the CLI→CLI baseline's two processes (/usr/bin/time), against a
 * bare Burrow CLI start-up; and, as context, the seal rate of 64 KiB transit
 * records with noble and with libsodium (what nodeTransit() uses) next to
 * node:crypto's sha256.
 *
 * Runs per case: 2 unless BURROW_BENCH_RUNS says otherwise.
 * BURROW_BENCH_CASES=REGEX runs only the matching cases (the CLI→CLI
 * baseline of each path always runs).
 * BURROW_BENCH_PROF=DIR writes CPU profiles of the Burrow processes there.
 * BURROW_BENCH_BASELINE=DIR: a copy of another revision's tree (its
 * packages/ with their node_modules, e.g. `git archive` plus the links) —
 * every Burrow case also runs with that tree's CLI, as "… [base]", taking
 * turns with this tree's in every round (an A/B on a loaded machine).
 * BURROW_BENCH_PERF=DIR runs this tree's Burrow processes under
 * `perf record -g` (per-thread CPU: `perf report --sort comm`; the call
 * graphs slow the process down: for where time goes in the transfer, set
 * BURROW_BENCH_PERF_G=0 to record without them and look only at the
 * transfer's window).
 * BURROW_BENCH_BUILT=1 runs this tree's CLI as users get it — the bundled
 * build behind packages/cli/bin/burrow.js (`pnpm build` first; a stale build
 * measures stale code) — instead of the TypeScript sources through tsx. The
 * built receiver costs about half the CPU and two thirds of the memory
 * (stop 23: 0.47 vs 0.83 CPU-s, 97–104 vs 145–149 MB per 100 MB received).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RecordEncoder, nobleSecretBox, recordKey } from '@burrow/protocol';
import { nodeSecretBox } from '@burrow/client/node';
import {
  makeTempDir,
  onCleanup,
  randomFile,
  removeDir,
  runWormhole,
  sha256File,
  startDebianPeers,
  wormholeBin,
} from '@burrow/testkit';
import { envNumber, repeat, report, type Sample } from './lib.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
// Run with --conditions=source (pnpm bench): the CLI's TypeScript entry.
const MAIN = fileURLToPath(import.meta.resolve('@burrow/cli'));
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
/** BURROW_BENCH_BUILT: this tree's CLI from its bundled build, as installed (see above). */
const BUILT = process.env['BURROW_BENCH_BUILT'] === '1';
const BUILT_BIN = join(ROOT, 'packages/cli/bin/burrow.js');

interface Proc {
  stderr(): string;
  code: Promise<string>;
  done: Promise<number | null>;
}

/** The Burrow CLI (`main`: its TypeScript entry) under /usr/bin/time (for its peak RSS), killed after `timeoutMs` or on clean-up. */
function burrowCli(args: string[], cwd: string, timeoutMs: number, main = MAIN): Proc {
  const prof = process.env['BURROW_BENCH_PROF'];
  const perfDir = main === MAIN ? process.env['BURROW_BENCH_PERF'] : undefined;
  // BURROW_BENCH_NODE_ARGS: extra node flags for this tree's Burrow processes (a diagnostic; their stdout is passed through).
  const nodeArgs = main === MAIN ? (process.env['BURROW_BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean) : [];
  const perf = perfDir ? ['perf', 'record', '-F', '999', ...(process.env['BURROW_BENCH_PERF_G'] === '0' ? [] : ['-g']), '-q', '-o', join(perfDir, `${Date.now()}-${args[0]}.data`), '--'] : [];
  const child = spawn(
    '/usr/bin/time',
    ['-f', 'maxrss_kb=%M cpu_s=%U+%S minflt=%R', ...perf, process.execPath, ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...nodeArgs, ...(BUILT && main === MAIN ? [BUILT_BIN] : ['--conditions=source', '--import', TSX, main]), ...args],
    { cwd, stdio: ['ignore', nodeArgs.length > 0 ? 'inherit' : 'ignore', 'pipe'], detached: true },
  );
  const kill = () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const unregister = onCleanup(kill);
  const timer = setTimeout(kill, timeoutMs);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((res, rej) => {
    child.once('error', rej);
    child.once('close', (code) => {
      clearTimeout(timer);
      unregister();
      res(code);
    });
  });
  const code = new Promise<string>((res, rej) => {
    const t = setInterval(() => {
      const m = /Wormhole code is: (\S+)/.exec(err);
      if (m) clearInterval(t), res(m[1]!);
    }, 20);
    void done.then(
      () => (clearInterval(t), rej(new Error(`burrow ${args.join(' ')} exited before printing a code:\n${err}`))),
      (e: unknown) => (clearInterval(t), rej(e)),
    );
  });
  code.catch(() => { /* awaited below; only keeps an early rejection from being unhandled */ });
  return { stderr: () => err, code, done };
}

function pythonTransferSeconds(timingFile: string): number {
  const events = JSON.parse(readFileSync(timingFile, 'utf8')) as { name: string; start: number; stop: number | null }[];
  const connected = events.find((e) => e.name === 'transit connected');
  const ack = events.find((e) => e.name === 'get ack');
  if (!connected || !ack) throw new Error(`${timingFile}: no "transit connected" / "get ack" events`);
  return (ack.stop ?? ack.start) - connected.start;
}

function burrowSeconds(stderr: string): number {
  const m = /Sent .*? in ([\d.]+) s/.exec(stderr);
  if (!m) throw new Error(`no "Sent … in … s" line from the Burrow sender:\n${stderr}`);
  return Number(m[1]);
}

function maxRssMb(stderr: string): number {
  const m = /maxrss_kb=(\d+)/.exec(stderr);
  if (!m) throw new Error(`no maxrss from /usr/bin/time:\n${stderr}`);
  return Number(m[1]) / 1024;
}

/** User + system CPU seconds of the whole process (start-up included), from /usr/bin/time. */
function cpuSeconds(stderr: string): number {
  const m = /cpu_s=([\d.]+)\+([\d.]+)/.exec(stderr);
  if (!m) throw new Error(`no cpu time from /usr/bin/time:\n${stderr}`);
  return Number(m[1]) + Number(m[2]);
}

function check(ok: boolean, what: string, detail: string): void {
  if (!ok) throw new Error(`${what} failed:\n${detail}`);
}

async function checkSha(path: string, want: string, what: string): Promise<void> {
  const got = await sha256File(path);
  if (got !== want) throw new Error(`${what}: received file sha256 ${got} ≠ source ${want}`);
}

export async function transferBench(): Promise<void> {
  const runs = Math.round(envNumber('BURROW_BENCH_RUNS', 2));
  const mb = envNumber('BURROW_BENCH_MB', 100);
  const size = Math.round(mb * 1000 * 1000);
  const timeoutMs = 60_000 + mb * 1_000;

  if (BUILT) {
    if (!existsSync(join(ROOT, 'packages/cli/dist/main.js'))) throw new Error('BURROW_BENCH_BUILT=1: packages/cli/dist is missing, run `pnpm build` first');
    console.log("(BURROW_BENCH_BUILT=1: this tree's Burrow runs from its bundled build, packages/cli/bin/burrow.js)");
  }
  const peers = await startDebianPeers();
  const { mailbox, relay } = peers;
  const dir = makeTempDir('burrow-bench-');
  const savedBin = process.env['BURROW_WORMHOLE_BIN'];
  try {
    // Every `wormhole` run goes through /usr/bin/time, appending one line per process to cliLog.
    const cliLog = join(dir, 'cli-time.log');
    const wrapper = join(dir, 'wormhole-timed');
    writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/time -a -o '${cliLog}' -f 'wormhole %C|maxrss_kb=%M cpu_s=%U+%S minflt=%R' '${wormholeBin()}' "$@"\n`, { mode: 0o755 });
    writeFileSync(cliLog, '');
    process.env['BURROW_WORMHOLE_BIN'] = wrapper;
    /** The /usr/bin/time lines of the CLI's send and receive processes that ended since the last call. */
    let cliSeen = 0;
    const cliTimes = (): { send: string; receive: string } => {
      const lines = readFileSync(cliLog, 'utf8').split('\n').filter(Boolean);
      const fresh = lines.slice(cliSeen);
      cliSeen = lines.length;
      const find = (verb: string) => fresh.find((l) => new RegExp(`^wormhole .* ${verb} `).test(l)) ?? '';
      return { send: find('send'), receive: find('receive') };
    };
    const file = join(dir, 'f.bin');
    randomFile(file, size);
    const sha = await sha256File(file);
    const opts = { relayUrl: mailbox.url, transitHelper: relay.hint, timeoutMs };
    const bflags = ['--relay-url', mailbox.url, '--transit-helper', relay.hint];

    /** One transfer: returns MB/s on the sender and the /usr/bin/time output of each Burrow process in it. */
    type Case = (out: string) => Promise<{ mbps: number; procs: Record<string, string> }>;
    /**
     * The four pairs over one path: `direct` (both listen) or `relay` (neither does); with `base`
     * (a baseline tree), only the Burrow cases, run with that tree's CLI and labelled "[base]".
     */
    const pairs = (path: 'direct' | 'relay', base?: string): Record<string, Case> => {
      const noListen = path === 'relay' ? ['--no-listen'] : [];
      const sendArgs = ['send', ...noListen, '--hide-progress', file];
      const receiveArgs = (out: string, code: string) => ['receive', ...noListen, '--accept-file', '--hide-progress', '-o', join(out, 'x'), code];
      const tag = (name: string) => `${name}${base ? ' [base]' : ''} ${path}`;
      const main = base ? join(base, 'packages/cli/src/main.ts') : MAIN;
      const burrowProc = (args: string[], cwd: string, ms: number) => burrowCli(args, cwd, ms, main);
      return {
        ...(base ? {} : { [tag('CLI→CLI')]: async (out: string) => {
          const timing = join(out, 'timing.json');
          const s = runWormhole(['--dump-timing', timing, ...sendArgs], { ...opts, cwd: dir });
          const r = runWormhole(receiveArgs(out, await s.code), { ...opts, cwd: out });
          const [sr, rr] = await Promise.all([s.result, r.result]);
          check(sr.exitCode === 0, 'CLI send', sr.stderr);
          check(rr.exitCode === 0, 'CLI receive', rr.stderr);
          await checkSha(join(out, 'x'), sha, tag('CLI→CLI'));
          const times = cliTimes();
          return { mbps: mb / pythonTransferSeconds(timing), procs: { [`${tag('CLI→CLI')} (sender)`]: times.send, [`${tag('CLI→CLI')} (receiver)`]: times.receive } };
        } }),
        [tag('Burrow→CLI')]: async (out) => {
          const s = burrowProc([...bflags, ...sendArgs], dir, timeoutMs);
          const r = runWormhole(receiveArgs(out, await s.code), { ...opts, cwd: out });
          const [sc, rr] = await Promise.all([s.done, r.result]);
          check(sc === 0, 'Burrow send', s.stderr());
          check(rr.exitCode === 0, 'CLI receive', rr.stderr);
          await checkSha(join(out, 'x'), sha, tag('Burrow→CLI'));
          return { mbps: mb / burrowSeconds(s.stderr()), procs: { [`${tag('Burrow→CLI')} (sender)`]: s.stderr() } };
        },
        [tag('CLI→Burrow')]: async (out) => {
          const timing = join(out, 'timing.json');
          const s = runWormhole(['--dump-timing', timing, ...sendArgs], { ...opts, cwd: dir });
          const r = burrowProc([...bflags, ...receiveArgs(out, await s.code)], out, timeoutMs);
          const [sr, rc] = await Promise.all([s.result, r.done]);
          check(sr.exitCode === 0, 'CLI send', sr.stderr);
          check(rc === 0, 'Burrow receive', r.stderr());
          await checkSha(join(out, 'x'), sha, tag('CLI→Burrow'));
          return { mbps: mb / pythonTransferSeconds(timing), procs: { [`${tag('CLI→Burrow')} (receiver)`]: r.stderr() } };
        },
        // Two Burrow CLIs speak files-v1 over connect() with their defaults; the file lands inside -o x/.
        // direct: both listen, so direct-v1's head start wins (direct TCP); relay: neither listens, the
        // leader gives direct-v1 up at once and WebRTC (node-datachannel on loopback) carries it.
        [tag('Burrow→Burrow files-v1')]: async (out) => {
          const s = burrowProc([...bflags, ...sendArgs], dir, timeoutMs);
          const r = burrowProc([...bflags, ...receiveArgs(out, await s.code)], out, timeoutMs);
          const [sc, rc] = await Promise.all([s.done, r.done]);
          check(sc === 0, 'Burrow send', s.stderr());
          check(rc === 0, 'Burrow receive', r.stderr());
          await checkSha(join(out, 'x', 'f.bin'), sha, tag('Burrow→Burrow files-v1'));
          return {
            mbps: mb / burrowSeconds(s.stderr()),
            procs: { [`${tag('Burrow→Burrow files-v1')} (sender)`]: s.stderr(), [`${tag('Burrow→Burrow files-v1')} (receiver)`]: r.stderr() },
          };
        },
        // The same two CLIs with --no-webrtc: files-v1 over mux-v1 on Transit (direct TCP, or the relay).
        [tag('Burrow→Burrow files-v1 --no-webrtc')]: async (out) => {
          const s = burrowProc([...bflags, '--no-webrtc', ...sendArgs], dir, timeoutMs);
          const r = burrowProc([...bflags, '--no-webrtc', ...receiveArgs(out, await s.code)], out, timeoutMs);
          const [sc, rc] = await Promise.all([s.done, r.done]);
          check(sc === 0, 'Burrow send', s.stderr());
          check(rc === 0, 'Burrow receive', r.stderr());
          await checkSha(join(out, 'x', 'f.bin'), sha, tag('Burrow→Burrow files-v1 --no-webrtc'));
          return {
            mbps: mb / burrowSeconds(s.stderr()),
            procs: { [`${tag('Burrow→Burrow files-v1 --no-webrtc')} (sender)`]: s.stderr(), [`${tag('Burrow→Burrow files-v1 --no-webrtc')} (receiver)`]: r.stderr() },
          };
        },
      };
    };
    const only = process.env['BURROW_BENCH_CASES'] ? new RegExp(process.env['BURROW_BENCH_CASES']) : undefined;
    const base = process.env['BURROW_BENCH_BASELINE'];
    const all = { ...pairs('direct'), ...(base ? pairs('direct', base) : {}), ...pairs('relay'), ...(base ? pairs('relay', base) : {}) };
    const cases: Record<string, Case> = Object.fromEntries(
      Object.entries(all).filter(([name]) => !only || name.startsWith('CLI→CLI') || only.test(name)),
    );

    // Interleave the cases run by run, so slow drift on a shared VM hits them all alike.
    const mbps: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    const rss: Record<string, number[]> = {};
    const cpu: Record<string, number[]> = {};
    const faults: Record<string, number[]> = {};
    for (let i = 0; i < runs; i++) {
      for (const [name, run] of Object.entries(cases)) {
        const out = makeTempDir('burrow-bench-out-');
        try {
          const res = await run(out);
          mbps[name]!.push(res.mbps);
          for (const [k, err] of Object.entries(res.procs)) {
            (rss[k] ??= []).push(maxRssMb(err));
            (cpu[k] ??= []).push(cpuSeconds(err));
            (faults[k] ??= []).push(Number(/minflt=(\d+)/.exec(err)?.[1] ?? NaN) / 1000);
          }
        } finally {
          removeDir(out);
        }
      }
    }

    // RSS baseline: the same Burrow CLI doing nothing (`--help`), so the ratio shows what a transfer adds.
    const idle: number[] = [];
    const idleCpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const p = burrowCli(['--help'], dir, 30_000);
      const c = await p.done;
      check(c === 0, 'burrow --help', p.stderr());
      idle.push(maxRssMb(p.stderr()));
      idleCpu.push(cpuSeconds(p.stderr()));
    }

    for (const path of ['direct', 'relay'] as const) {
      if (!Object.keys(mbps).some((name) => name.endsWith(` ${path}`) && !name.startsWith('CLI→CLI'))) continue;
      report(
        `File transfer throughput, ${mb} MB, ${path === 'direct' ? 'direct TCP' : 'through the Debian transit relay'} on loopback (sender: transit connected → ack)`,
        Object.entries(mbps)
          .filter(([name]) => name.endsWith(` ${path}`))
          .map(([name, values]) => ({ name, values, unit: 'MB/s' })),
        `CLI→CLI ${path}`,
        true,
      );
    }
    report(
      `Peak RSS of the Burrow processes and the CLI→CLI baseline's (${mb} MB transfer)`,
      [
        { name: 'burrow --help (idle)', values: idle, unit: 'MB' },
        ...Object.entries(rss).map(([name, values]) => ({ name, values, unit: 'MB' })),
      ],
      'burrow --help (idle)',
    );
    report(
      `CPU seconds (user + system) of the Burrow processes and the CLI→CLI baseline's, start-up included (${mb} MB transfer)`,
      [
        { name: 'burrow --help (idle)', values: idleCpu, unit: 's' },
        ...Object.entries(cpu).map(([name, values]) => ({ name, values, unit: 's' })),
      ],
      'burrow --help (idle)',
    );
    report(
      `Minor page faults (thousands) of the Burrow processes and the CLI→CLI baseline's (${mb} MB transfer): fresh memory touched`,
      Object.entries(faults).map(([name, values]) => ({ name, values, unit: 'k' })),
      Object.keys(faults)[0] ?? '',
    );
  } finally {
    if (savedBin === undefined) delete process.env['BURROW_WORMHOLE_BIN'];
    else process.env['BURROW_WORMHOLE_BIN'] = savedBin;
    removeDir(dir);
    await peers.stop();
  }

  await cryptoContext();
}

/** Context for the tables above: noble and libsodium sealing 64 KiB records next to node:crypto sha256. */
async function cryptoContext(): Promise<void> {
  const RECORD = 64 * 1024;
  const TOTAL = 32 * 1024 * 1024;
  const n = TOTAL / RECORD;
  const block = new Uint8Array(randomBytes(RECORD));
  const key = recordKey(new Uint8Array(randomBytes(32)));
  const mbps = (ms: number) => TOTAL / 1e6 / (ms / 1000);
  const sha = await repeat(5, async () => {
    const t0 = performance.now();
    const h = createHash('sha256');
    for (let i = 0; i < n; i++) h.update(block);
    h.digest();
    return mbps(performance.now() - t0);
  });
  const seal = (secretBox: typeof nobleSecretBox) =>
    repeat(5, async () => {
      const enc = new RecordEncoder(key, { secretBox });
      const t0 = performance.now();
      for (let i = 0; i < n; i++) enc.encode(block);
      return mbps(performance.now() - t0);
    });
  const sodium = nodeSecretBox();
  const samples: Sample[] = [
    { name: 'node:crypto sha256', values: sha, unit: 'MB/s' },
    { name: 'noble secretbox seal (RecordEncoder)', values: await seal(nobleSecretBox), unit: 'MB/s' },
    { name: `${sodium.name} secretbox seal (RecordEncoder, nodeTransit)`, values: await seal(sodium), unit: 'MB/s' },
  ];
  report(`In-process crypto, ${TOTAL / 1024 / 1024} MiB in 64 KiB records (context: what seals Burrow's transit)`, samples, 'node:crypto sha256', true);
}
