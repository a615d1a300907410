/**
 * The network audit: run a browser under `strace -f` recording every
 * connect/sendto/sendmsg of every process it starts, then read the record
 * back, so a test can prove that only loopback addresses were contacted.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { isLoopbackHost } from './net.js';

/**
 * A shell script in `dir` that runs `binary` under `strace -f`, recording
 * every connect/sendto/sendmsg/sendmmsg of it and all its children in
 * `auditFile` (read it with {@link readNetworkAudit}). Use it as a
 * browser's executable path (Firefox: `launchFirefox({ auditFile })`;
 * Chromium: BURROW_CHROMIUM).
 */
export function auditedExecutable(binary: string, auditFile: string, dir: string): string {
  if (spawnSync('strace', ['-V'], { stdio: 'ignore' }).status !== 0) throw new Error('the network audit needs strace (apt-get install strace)');
  const wrapper = join(dir, `${binary.split('/').at(-1)}-audited.sh`);
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      // -f: every process; -qq: no attach/exit chatter; --seccomp-bpf: stop only on these syscalls.
      `exec strace -f -qq --seccomp-bpf -e trace=connect,sendto,sendmsg,sendmmsg -e signal=none -o '${auditFile}' '${binary}' "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  return wrapper;
}

/** One network syscall from a strace audit. */
export interface NetworkCall {
  readonly pid: number;
  readonly syscall: string;
  /** `AF_INET 127.0.0.1:4000`, `AF_INET6 [::1]:53`, `AF_UNIX "/path"`, `AF_NETLINK`, or `(connected socket)`. */
  readonly address: string;
  readonly family: 'inet' | 'inet6' | 'unix' | 'netlink' | 'none' | 'other';
  /** The IP for inet/inet6. */
  readonly ip?: string;
  /** What the kernel answered, e.g. `0`, `1200` or `-1 ENETUNREACH (Network is unreachable)`. */
  readonly result: string;
  readonly line: string;
}

/**
 * Parse a strace audit (see {@link auditedExecutable}): every connect/
 * sendto/sendmsg with the address it named and the kernel's answer. Calls
 * on a connected socket name no address (`family: 'none'`): their peer was
 * named by the socket's earlier connect, which is in the list too.
 */
export function readNetworkAudit(auditFile: string): NetworkCall[] {
  const calls: NetworkCall[] = [];
  /** Calls strace split across lines ("<unfinished ...>" … "<... connect resumed>"), by pid. */
  const pending = new Map<number, { call: Omit<NetworkCall, 'result'>; index: number }>();
  for (const line of readFileSync(auditFile, 'utf8').split('\n')) {
    const resumed = /^(\d+)\s+<\.\.\. (connect|sendto|sendmsg|sendmmsg) resumed>.*\)\s+=\s+(.*)$/.exec(line);
    if (resumed) {
      const p = pending.get(Number(resumed[1]));
      if (p && p.call.syscall === resumed[2]) {
        calls[p.index] = { ...p.call, result: resumed[3]!.trim() };
        pending.delete(Number(resumed[1]));
      }
      continue;
    }
    const m = /^(\d+)\s+(connect|sendto|sendmsg|sendmmsg)\(/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const syscall = m[2]!;
    const inet = /sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)/.exec(line);
    const inet6 = /sa_family=AF_INET6, sin6_port=htons\((\d+)\),.*?inet_pton\(AF_INET6, "([^"]+)"/.exec(line);
    let call: Omit<NetworkCall, 'result'>;
    if (inet) call = { pid, syscall, family: 'inet', ip: inet[2]!, address: `AF_INET ${inet[2]}:${inet[1]}`, line };
    else if (inet6) call = { pid, syscall, family: 'inet6', ip: inet6[2]!, address: `AF_INET6 [${inet6[2]}]:${inet6[1]}`, line };
    else if (/sa_family=AF_UNIX/.test(line)) call = { pid, syscall, family: 'unix', address: `AF_UNIX ${/sun_path=(@?"[^"]*")/.exec(line)?.[1] ?? ''}`, line };
    else if (/sa_family=AF_NETLINK/.test(line)) call = { pid, syscall, family: 'netlink', address: 'AF_NETLINK', line };
    else if (/sa_family=/.test(line)) call = { pid, syscall, family: 'other', address: /sa_family=(\w+)/.exec(line)![1]!, line };
    else call = { pid, syscall, family: 'none', address: '(connected socket)', line };
    const done = /\)\s+=\s+(.*)$/.exec(line);
    if (done && !line.endsWith('<unfinished ...>')) calls.push({ ...call, result: done[1]!.trim() });
    else {
      pending.set(pid, { call, index: calls.length });
      calls.push({ ...call, result: '?' });
    }
  }
  return calls;
}

/** The audited calls that named an IP address outside loopback (should be none). */
export function nonLoopbackCalls(calls: readonly NetworkCall[]): NetworkCall[] {
  return calls.filter((c) => (c.family === 'inet' || c.family === 'inet6') && !isLoopbackHost(c.ip!) && c.ip !== '::ffff:127.0.0.1');
}
