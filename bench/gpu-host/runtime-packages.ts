// Lists the installed npm packages the compiled project needs at run time on an x64 Linux host, for
// make-bundle.sh: every production dependency, the devDependencies the compiled benchmarks import, and
// everything those depend on, without type-only packages or other platforms' native builds.
//   node dist/bench/gpu-host/runtime-packages.js <repo root>   → package folders relative to the root

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

interface PackageJson {
  readonly name?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
}

const TARGET = { os: 'linux', cpu: 'x64' } as const;

/** Declarations and compilers only: nothing in them runs. */
function typesOnly(name: string): boolean {
  return name.startsWith('@types/') || name === '@webgpu/types' || name === 'undici-types' || name === 'typescript';
}

/** npm's `os`/`cpu` fields: a list of allowed values, or of excluded ones written `!value`. */
function allows(list: readonly string[] | undefined, value: string): boolean {
  if (!list || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  const allowed = list.filter((entry) => !entry.startsWith('!'));
  return allowed.length === 0 || allowed.includes(value);
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Node's lookup: `name` in node_modules of `from` or of any folder above it, up to the root. */
function resolvePackage(name: string, from: string, root: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return null;
  }
}

function compiledSources(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.js'))
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'));
}

function runtimePackages(root: string): string[] {
  const manifest = readPackage(root);
  const sources = ['src', 'native', 'bench'].flatMap((part) => compiledSources(join(root, 'dist', part)));
  // A devDependency counts when compiled code names it in an import, a dynamic import or a require.
  const imported = (name: string): boolean =>
    sources.some((text) => [`'${name}'`, `"${name}"`, `'${name}/`, `"${name}/`].some((quoted) => text.includes(quoted)));
  const roots = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {}).filter(imported)];
  const found = new Set<string>();
  const queue: [string, string][] = roots.map((name) => [name, root]);
  for (let next = queue.shift(); next; next = queue.shift()) {
    const [name, from] = next;
    if (typesOnly(name)) continue;
    const dir = resolvePackage(name, from, root);
    // Optional dependencies for other platforms are not installed; a missing required one fails at run time anyway.
    if (dir === null || found.has(dir)) continue;
    const pkg = readPackage(dir);
    if (!allows(pkg.os, TARGET.os) || !allows(pkg.cpu, TARGET.cpu)) continue;
    found.add(dir);
    for (const deps of [pkg.dependencies, pkg.optionalDependencies, pkg.peerDependencies]) {
      for (const dep of Object.keys(deps ?? {})) queue.push([dep, dir]);
    }
  }
  return [...found].map((dir) => relative(root, dir)).sort();
}

const root = process.argv[2];
if (root === undefined) {
  process.stderr.write('usage: runtime-packages.js <repo root>\n');
  process.exit(2);
}
process.stdout.write(`${runtimePackages(root).join('\n')}\n`);
