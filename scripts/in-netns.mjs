#!/usr/bin/env node
// Run a command inside a private network namespace where only loopback is up,
// so tests can never reach anything beyond 127.0.0.1 / ::1.
//
//   node scripts/in-netns.mjs <command> [args…]
//
// Already in such a namespace (only `lo`): bring lo up and run the command.
// Otherwise re-run this script under `unshare -n` (`unshare -r -n` when not
// root). If no namespace can be made, fail loudly; never run outside one.
// The command sees BURROW_NETNS=1. Exit code and signals are propagated.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';

const REEXEC = 'BURROW_NETNS_REEXEC';
const self = fileURLToPath(import.meta.url);
const command = process.argv.slice(2);

function die(message) {
  process.stderr.write(`in-netns: ${message}\n`);
  process.exit(125);
}

if (command.length === 0) die('usage: node scripts/in-netns.mjs <command> [args…]');

// /proc/self/net/dev reflects this process's namespace; /sys/class/net does
// not after a bare `unshare -n` (sysfs stays bound to the host namespace).
function interfaces() {
  return readFileSync('/proc/self/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0].trim())
    .filter(Boolean);
}

function loopbackUp() {
  return (networkInterfaces().lo ?? []).some((a) => a.address === '127.0.0.1');
}

/** Run `argv`, forwarding signals, then exit the way it exited. */
function run(argv, env) {
  const [cmd, ...args] = argv;
  const child = spawn(cmd, args, { stdio: 'inherit', env });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const forward = (sig) => {
    try {
      child.kill(sig);
    } catch {
      // child already gone
    }
  };
  for (const sig of signals) process.on(sig, forward);
  child.once('error', (err) => die(`cannot run ${cmd}: ${err.message}`));
  child.once('exit', (code, signal) => {
    for (const sig of signals) process.off(sig, forward);
    if (signal) {
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}

const names = interfaces();
if (names.length > 0 && names.every((n) => n === 'lo')) {
  if (!loopbackUp()) {
    const r = spawnSync('ip', ['link', 'set', 'lo', 'up'], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.error) die(`cannot run \`ip link set lo up\` (${r.error.message}); install iproute2`);
    if (r.status !== 0 || !loopbackUp()) die('could not bring up the loopback interface in the private namespace');
  }
  const env = { ...process.env, BURROW_NETNS: '1' };
  delete env[REEXEC];
  run(command, env);
} else {
  if (process.env[REEXEC]) {
    die(`still see non-loopback interfaces (${names.join(', ')}) after unshare; refusing to run outside a private network`);
  }
  const isRoot = process.getuid?.() === 0;
  // -r: map the current user to root in a new user namespace (unprivileged).
  const unshare = isRoot ? ['unshare', '-n'] : ['unshare', '-r', '-n'];
  const probe = spawnSync(unshare[0], [...unshare.slice(1), '--', 'true'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? probe.error.message : (probe.stderr || `exit ${probe.status}`).trim();
    die(
      `cannot create a private network namespace with \`${unshare.join(' ')}\`: ${why}\n` +
        'in-netns: tests must not run on the host network. Run as root (or allow unprivileged user ' +
        'namespaces), or run inside a container started with --network none.',
    );
  }
  run([...unshare, '--', process.execPath, self, ...command], { ...process.env, [REEXEC]: '1' });
}
