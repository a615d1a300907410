/**
 * The layout's rules, checked: which @burrow package each package's sources
 * may import (DESIGN §1: protocol ← client ← store/agent ← cli, protocol ←
 * gateway ← cli; nothing imports "up"), that package.json dependencies say
 * the same, and that no source reaches into another package by relative path.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..', '..');
const packagesDir = join(root, 'packages');

/** What each package's src/ may import from the workspace. */
const ALLOWED: Record<string, readonly string[]> = {
  protocol: [],
  client: ['protocol'],
  store: ['protocol'],
  gateway: ['protocol'],
  agent: ['protocol', 'client', 'store'],
  cli: ['protocol', 'client', 'store', 'agent', 'gateway'],
  testkit: ['protocol', 'client', 'gateway'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(path).isDirectory()) return files(path);
    return /\.(ts|mjs|js)$/.test(name) ? [path] : [];
  });
}

function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+['"]([^'"]+)['"]/gms)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

const packages = readdirSync(packagesDir).filter((name) => statSync(join(packagesDir, name, 'package.json'), { throwIfNoEntry: false }));

describe('package layering', () => {
  it('knows every package', () => {
    expect(packages.sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  it.each(packages)('%s/src imports only the packages below it', (name) => {
    const offenders: string[] = [];
    for (const file of files(join(packagesDir, name, 'src'))) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const m = /^@burrow\/([^/]+)/.exec(spec);
        if (m && m[1] !== name && !ALLOWED[name]!.includes(m[1]!)) offenders.push(`${relative(root, file)} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it.each(packages)('%s/package.json runtime dependencies follow the same arrows', (name) => {
    const pkg = JSON.parse(readFileSync(join(packagesDir, name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const burrow = Object.keys(pkg.dependencies ?? {})
      .filter((d) => d.startsWith('@burrow/'))
      .map((d) => d.slice('@burrow/'.length));
    expect(burrow.filter((d) => !ALLOWED[name]!.includes(d))).toEqual([]);
  });

  it('the gateway depends on nothing @burrow but protocol, not even for tests (testkit aside)', () => {
    const pkg = JSON.parse(readFileSync(join(packagesDir, 'gateway', 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const all = Object.keys({ ...pkg['dependencies'], ...pkg['devDependencies'], ...pkg['optionalDependencies'] }).filter((d) => d.startsWith('@burrow/'));
    expect(all.sort()).toEqual(['@burrow/protocol', '@burrow/testkit']);
  });

  it('no file reaches into another package by relative path', () => {
    const offenders: string[] = [];
    const dirs = [...packages.map((p) => join(packagesDir, p)), join(root, 'bench'), join(root, 'scripts'), join(root, 'e2e'), join(root, 'playground', 'src')];
    for (const dir of dirs) {
      for (const file of files(dir)) {
        for (const spec of specifiers(readFileSync(file, 'utf8'))) {
          if (!spec.startsWith('.')) continue;
          const target = resolve(file, '..', spec);
          const inPackages = target.startsWith(packagesDir + sep);
          const owner = relative(packagesDir, file).split(sep)[0];
          const targetPackage = relative(packagesDir, target).split(sep)[0];
          if (inPackages && (!file.startsWith(packagesDir + sep) || owner !== targetPackage)) offenders.push(`${relative(root, file)} → ${spec}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
