#!/usr/bin/env node
// Pack every public package as a user would install it (`pnpm pack:all`):
//
//   node scripts/pack.mjs [--no-build] [--warm-cache] [--json] [--dest DIR] [NAME…]
//
// NAMEs (protocol, client, …) pack only those packages; default: all.
//
// Each package is rebuilt from a clean dist/ (so no stale file ships), then
// `pnpm pack` writes .burrow/pack/burrow-<name>-<version>.tgz: dist only,
// `workspace:` ranges replaced by versions, `exports` without the repo's
// `source` condition (publishConfig). The @burrow/* packages a tarball
// depends on are not on the registry yet: install the tarballs you need
// together, e.g. `npm i ./burrow-protocol-0.1.0.tgz ./burrow-client-0.1.0.tgz`.
// @burrow/cli bundles its @burrow/* code and installs on its own.
//
// --warm-cache (needs the npm registry; run OUTSIDE the test network
// namespace): install the tarballs and Vite into a throwaway project with
// npm's cache at .burrow/npm-cache, so that the packaging tests, which run
// inside a namespace with no network, can `npm i --offline --cache
// .burrow/npm-cache`. Skipped when the registry dependencies are unchanged
// since the last warm-up (a stamp file named by their hash).
//
// --no-build packs the dist/ already there (tests do this after `pnpm build`).
// --json prints { "<package name>": "<tarball path>", … } on stdout.
// --install DIR: then `npm i` the tarballs into the project DIR (made if
// missing) as a user would, with `--vite` also the repo's Vite version;
// --install-global PREFIX: `npm i -g --prefix PREFIX` instead. Both use
// .burrow/npm-cache; with --offline nothing but that cache is read (tests).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Public packages, in build order (each after what it depends on). testkit stays private. */
export const PACKAGES = ['protocol', 'client', 'store', 'agent', 'gateway', 'cli'];
export const NPM_CACHE = join(root, '.burrow', 'npm-cache');

function say(line) {
  process.stderr.write(`pack: ${line}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', cwd: root, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status})\n${result.stdout ?? ''}`);
  return result.stdout ?? '';
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Build `dir` from an empty dist/; on failure put the previous dist/ back. */
function cleanBuild(dir) {
  const dist = join(dir, 'dist');
  const previous = join(dir, '.dist-before-pack');
  rmSync(previous, { recursive: true, force: true });
  if (existsSync(dist)) renameSync(dist, previous);
  try {
    run('pnpm', ['run', 'build'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    rmSync(previous, { recursive: true, force: true });
  } catch (err) {
    rmSync(dist, { recursive: true, force: true });
    if (existsSync(previous)) renameSync(previous, dist);
    throw err;
  }
}

/** Build (unless `build` is false) and pack each package into `dest`; returns name → tarball. */
export function packAll({ build = true, dest = join(root, '.burrow', 'pack'), packages = PACKAGES } = {}) {
  mkdirSync(dest, { recursive: true });
  const tarballs = {};
  for (const name of packages) {
    const dir = join(root, 'packages', name);
    const pkg = readJson(join(dir, 'package.json'));
    if (build) {
      say(`building ${pkg.name}`);
      cleanBuild(dir);
    } else if (!existsSync(join(dir, 'dist'))) {
      throw new Error(`${dir}/dist is missing: run \`pnpm build\` (or \`pnpm pack:all\`) first`);
    }
    const file = join(dest, `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`);
    rmSync(file, { force: true });
    run('pnpm', ['pack', '--pack-destination', dest], { cwd: dir });
    if (!existsSync(file)) throw new Error(`pnpm pack did not write ${file}`);
    tarballs[pkg.name] = file;
  }
  return tarballs;
}

/** The Vite version of the repo: the fresh project in the tests installs the same one. */
export function viteVersion() {
  return readJson(join(root, 'node_modules', 'vite', 'package.json')).version;
}

/**
 * npm arguments that install from the warmed cache only (inside the test
 * namespace). No install scripts: they would fetch prebuilt native binaries
 * (better-sqlite3) from the network. Nothing the tests run needs them:
 * bufferutil loads the prebuilds it ships, better-sqlite3 its binary only
 * when `burrow serve --data-dir` opens a database.
 */
export function offlineNpmArgs() {
  return ['--offline', '--ignore-scripts', '--cache', NPM_CACHE, '--no-audit', '--no-fund', '--loglevel', 'error'];
}

/** `npm i` the tarballs into `project` (or `-g` into `prefix`), from the cache only when `offline`. */
export function install(tarballs, { project, prefix, vite = false, offline = false }) {
  const cacheArgs = offline ? offlineNpmArgs() : ['--cache', NPM_CACHE, '--no-audit', '--no-fund', '--loglevel', 'error'];
  const specs = [...Object.values(tarballs), ...(vite ? [`vite@${viteVersion()}`] : [])];
  let args;
  if (prefix !== undefined) {
    mkdirSync(prefix, { recursive: true });
    args = ['i', '-g', '--prefix', prefix, ...cacheArgs, ...specs];
  } else {
    mkdirSync(project, { recursive: true });
    if (!existsSync(join(project, 'package.json'))) {
      writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'burrow-user-project', private: true, type: 'module' }, null, 2)}\n`);
    }
    args = ['i', ...cacheArgs, ...specs];
  }
  const result = spawnSync('npm', args, { cwd: project ?? prefix, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const hint = /ENOTCACHED/.test(result.stderr)
      ? '\nthe npm cache lacks a registry package: run `node scripts/pack.mjs --no-build --warm-cache` with network access (`pnpm test:all` does, before entering the test namespace)'
      : '';
    throw new Error(`npm ${args.join(' ')} failed (exit ${result.status})\n${result.stderr}${hint}`);
  }
}

/** Fill .burrow/npm-cache with every registry package the tarballs (and Vite) need. */
export function warmCache(tarballs) {
  const specs = Object.values(tarballs).map((file) => {
    const manifest = run('tar', ['-xzOf', file, 'package/package.json']);
    const { dependencies = {}, optionalDependencies = {} } = JSON.parse(manifest);
    return { dependencies, optionalDependencies };
  });
  const key = createHash('sha256').update(JSON.stringify({ specs, vite: viteVersion(), node: process.versions.modules })).digest('hex').slice(0, 16);
  const stamp = join(NPM_CACHE, `warm-${key}`);
  if (existsSync(stamp)) {
    say('npm cache already holds the registry dependencies');
    return;
  }
  const project = mkdtempSync(join(tmpdir(), 'burrow-warm-'));
  try {
    say(`warming ${NPM_CACHE} (npm registry)`);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'warm', private: true, type: 'module' }));
    // --ignore-scripts: the cache needs the packages' tarballs, not their native builds.
    const args = ['i', '--ignore-scripts', '--cache', NPM_CACHE, '--no-audit', '--no-fund', '--loglevel', 'error'];
    run('npm', [...args, ...Object.values(tarballs), `vite@${viteVersion()}`], {
      cwd: project,
    });
    writeFileSync(stamp, `${new Date().toISOString()}\n`);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const destIndex = args.indexOf('--dest');
  const valued = new Set(['--dest', '--install', '--install-global'].map((f) => args.indexOf(f) + 1).filter((i) => i > 0));
  const names = args.filter((a, i) => !a.startsWith('--') && !valued.has(i));
  try {
    const unknown = names.filter((n) => !PACKAGES.includes(n));
    if (unknown.length) throw new Error(`unknown package(s) ${unknown.join(', ')}; known: ${PACKAGES.join(', ')}`);
    const tarballs = packAll({
      build: !args.includes('--no-build'),
      ...(destIndex >= 0 ? { dest: resolve(args[destIndex + 1]) } : {}),
      ...(names.length ? { packages: PACKAGES.filter((p) => names.includes(p)) } : {}),
    });
    if (args.includes('--warm-cache')) warmCache(tarballs);
    const option = (flag) => (args.includes(flag) ? resolve(args[args.indexOf(flag) + 1]) : undefined);
    const project = option('--install');
    const prefix = option('--install-global');
    if (project !== undefined || prefix !== undefined) {
      install(tarballs, { project, prefix, vite: args.includes('--vite'), offline: args.includes('--offline') });
    }
    if (args.includes('--json')) process.stdout.write(`${JSON.stringify(tarballs)}\n`);
    else for (const file of Object.values(tarballs)) say(file);
  } catch (err) {
    say(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
