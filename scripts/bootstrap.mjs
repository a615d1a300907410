#!/usr/bin/env node
// The README's two commands on a machine with only Node and npm:
//
//   npm start   →  node scripts/bootstrap.mjs start
//   npm test    →  node scripts/bootstrap.mjs test
//
// Each makes sure what it needs is here — pnpm 10 (installed with npm when
// missing, into .burrow/tools), the workspace's
// dependencies (when node_modules does not match pnpm-lock.yaml) and, for
// tests, the Debian packages of the test rig (scripts/debian-packages.sh) —
// then runs the real command through pnpm. Quick when all is present.
// Plain Node, no dependencies: it runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const PNPM_MAJOR = '10';
const COMMANDS = {
  start: { script: 'start:now', debian: false },
  test: { script: 'test:all', debian: true },
};

function say(line) {
  process.stderr.write(`bootstrap: ${line}\n`);
}

function die(line) {
  say(`error: ${line}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) die(`${command}: ${result.error.message}`);
  return result.status ?? 1;
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) die(`Node >= 20.19 is required, this is ${process.version}`);
}

/** `pnpm --version` of the pnpm on PATH (.burrow/tools first), or ''. */
function pnpmVersion(env) {
  const result = spawnSync('pnpm', ['--version'], { cwd: root, env, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : '';
}

function ensurePnpm() {
  const tools = join(root, '.burrow', 'tools');
  const env = { ...process.env, PATH: [join(tools, 'node_modules', '.bin'), process.env.PATH].join(delimiter) };
  if (pnpmVersion(env).split('.')[0] === PNPM_MAJOR) return env;
  // Into the project, not globally: no root needed, nothing changed outside.
  say(`installing pnpm ${PNPM_MAJOR} with npm into .burrow/tools`);
  const args = ['install', '--prefix', tools, '--no-save', '--no-audit', '--no-fund', `pnpm@${PNPM_MAJOR}`];
  if (run('npm', args, { env }) !== 0) die('could not install pnpm with npm');
  const version = pnpmVersion(env);
  if (version.split('.')[0] !== PNPM_MAJOR) die(`pnpm ${PNPM_MAJOR} still not usable after install (found: ${version || 'none'})`);
  return env;
}

/** pnpm keeps a copy of the lockfile it installed from; a difference means install. */
function dependenciesCurrent() {
  const installed = join(root, 'node_modules', '.pnpm', 'lock.yaml');
  if (!existsSync(installed)) return false;
  return readFileSync(installed, 'utf8') === readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8');
}

const name = process.argv[2];
const command = COMMANDS[name];
if (!command) die(`usage: node scripts/bootstrap.mjs ${Object.keys(COMMANDS).join('|')} [args…]`);
checkNode();
if (command.debian && process.env.BURROW_SKIP_DEBIAN !== '1') {
  if (run('bash', [join(root, 'scripts', 'debian-packages.sh')]) !== 0) die('the Debian packages of the test rig could not be installed');
}
const env = ensurePnpm();
if (!dependenciesCurrent()) {
  say('installing dependencies (pnpm install --frozen-lockfile)');
  if (run('pnpm', ['install', '--frozen-lockfile'], { env }) !== 0) die('pnpm install failed');
}
const status = run('pnpm', ['run', command.script, ...process.argv.slice(3)], { env });
process.exit(status);
