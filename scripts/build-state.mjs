// Whether dist/ is a build of the sources as they are now, so `npm start` compiles only when it must.
// `npm run build` brackets tsc with this script: prebuild (`begin`) deletes the stamp and snapshots the
// inputs, postbuild (`finish`) turns the snapshot into dist/.build-stamp.json. A build that fails never
// reaches postbuild, so it leaves no stamp, and a file edited while tsc ran no longer matches the snapshot.
//
// The inputs: the TypeScript sources under the directories tsconfig's `include` names (the ones
// `tsc --watch` watches; new files there count), every config file tsc read (tsconfig.json, or the
// projects the build names, and what they extend), package.json (its `type` shapes the output) and the
// TypeScript version. Plain JavaScript, because it runs before anything is compiled; only `begin` loads
// TypeScript (to read tsconfig, which is JSONC), so checking a current build costs a walk and a hash of
// the sources, not a compiler start.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder `npm start` runs from; fixed rather than read from tsconfig so that checking needs no parser. */
export const OUT_DIR = 'dist';
export const STAMP = `${OUT_DIR}/.build-stamp.json`;
const PENDING = `${OUT_DIR}/.build-stamp.pending.json`;
const FORMAT = 1;
const SOURCE = /\.(?:ts|tsx|mts|cts)$/;
/** Never inputs, wherever an include root is: dependencies, the output itself, dot folders such as .git. */
const SKIPPED_DIRECTORIES = new Set(['node_modules', OUT_DIR]);

/**
 * @typedef {{ readonly path: string, readonly recursive: boolean }} SourceDirectory
 * @typedef {{
 *   readonly format: number,
 *   readonly typescript: string | null,
 *   readonly directories: readonly SourceDirectory[],
 *   readonly files: readonly string[],
 *   readonly configs: Readonly<Record<string, string>>,
 *   readonly sources: Readonly<Record<string, string>>,
 * }} Stamp
 * @typedef {{ readonly current: true } | { readonly current: false, readonly reason: string }} BuildState
 */

/** Whether dist/ was built from exactly the inputs there are now; when not, a reason a person can read. */
export async function buildState(root) {
  /** @type {Stamp} */
  let stamp;
  try {
    stamp = JSON.parse(await readFile(join(root, STAMP), 'utf8'));
  } catch (error) {
    if (error?.code === 'ENOENT') return { current: false, reason: 'no build stamp: never built, or the last build failed' };
    return { current: false, reason: `unreadable build stamp (${error.message})` };
  }
  if (stamp?.format !== FORMAT) return { current: false, reason: 'build stamp from another version of this script' };
  const typescript = await typescriptVersion(root);
  // Without TypeScript (a production install) nothing could be rebuilt anyway; the sources still count.
  if (typescript !== null && typescript !== stamp.typescript)
    return { current: false, reason: `TypeScript ${typescript} differs from the ${stamp.typescript} that built it` };
  const configs = await hashFiles(root, Object.keys(stamp.configs));
  const config = differences(stamp.configs, configs)[0];
  if (config !== undefined) return { current: false, reason: `${config} changed` };
  const sources = await hashFiles(root, await listSources(root, stamp.directories, stamp.files));
  const changed = differences(stamp.sources, sources);
  if (changed.length > 0) return { current: false, reason: `${changed[0]} changed${changed.length > 1 ? ` (and ${changed.length - 1} more)` : ''}` };
  return { current: true };
}

/**
 * prebuild: no stamp until this build succeeds, and a snapshot of the inputs it is about to read.
 * `projects`: the tsconfig files the build script passes to tsc.
 */
export async function beginBuild(root, projects = ['tsconfig.json']) {
  await rm(join(root, STAMP), { force: true });
  const stamp = await snapshot(root, projects);
  await mkdir(join(root, OUT_DIR), { recursive: true });
  await pruneOrphans(root);
  await writeFile(join(root, PENDING), `${JSON.stringify(stamp, null, 1)}\n`);
}

const OUTPUT = /\.(js|d\.ts)(\.map)?$/;

/**
 * tsc never deletes what it emitted, so a source moved or deleted would leave its old output in dist/,
 * where `npm test` would still run a test that no longer exists (against modules that moved). Removes
 * every output under dist/ whose source (the same path, .ts) is gone.
 */
async function pruneOrphans(root) {
  const walk = async (dir) => {
    for (const entry of await readdir(join(root, OUT_DIR, dir), { withFileTypes: true })) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        await walk(path);
      } else if (OUTPUT.test(path) && !existsSync(join(root, path.replace(OUTPUT, '.ts')))) {
        await rm(join(root, OUT_DIR, path), { force: true });
      }
    }
  };
  await walk('');
}

/** postbuild: the build succeeded, so the snapshot taken before it becomes the stamp. */
export async function finishBuild(root, projects = ['tsconfig.json']) {
  try {
    await rename(join(root, PENDING), join(root, STAMP));
  } catch (error) {
    if (error?.code !== 'ENOENT') throw error;
    // tsc run without the prebuild step: the inputs now are the best record there is.
    await writeFile(join(root, STAMP), `${JSON.stringify(await snapshot(root, projects), null, 1)}\n`);
  }
}

/** The inputs as they are now. Loads TypeScript to read each tsconfig the way tsc does (comments, extends). */
async function snapshot(root, projects) {
  const require = createRequire(join(root, 'package.json'));
  const ts = require('typescript');
  const read = [];
  const host = {
    useCaseSensitiveFileNames: ts.sys.useCaseSensitiveFileNames,
    readDirectory: ts.sys.readDirectory,
    fileExists: ts.sys.fileExists,
    readFile: (path) => {
      read.push(path);
      return ts.sys.readFile(path);
    },
  };
  const message = (diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  /** Directory path to whether it is walked recursively. */
  const directories = new Map();
  const named = [];
  for (const project of projects) {
    const configPath = resolve(root, project);
    const { config, error } = ts.readConfigFile(configPath, host.readFile);
    if (error) throw new Error(`${project}: ${message(error)}`);
    const parsed = ts.parseJsonConfigFileContent(config, host, dirname(configPath), undefined, configPath);
    if (parsed.errors.length > 0) throw new Error(`${project}: ${parsed.errors.map(message).join('; ')}`);
    for (const [path, flags] of Object.entries(parsed.wildcardDirectories ?? {})) {
      const key = inside(root, path);
      directories.set(key, directories.get(key) === true || (flags & ts.WatchDirectoryFlags.Recursive) !== 0);
    }
    named.push(...parsed.fileNames.map((path) => inside(root, path)));
  }
  const walkedDirectories = [...directories].map(([path, recursive]) => ({ path, recursive }));
  // Files named one by one (`files`, or an include without wildcards) that no directory walk finds.
  const walked = new Set(await listSources(root, walkedDirectories, []));
  const files = [...new Set(named)].filter((path) => !walked.has(path)).sort();
  const configFiles = [...new Set([...read.map((path) => inside(root, path)), 'package.json'])];
  return {
    format: FORMAT,
    typescript: ts.version,
    directories: walkedDirectories,
    files,
    configs: await hashFiles(root, configFiles),
    sources: await hashFiles(root, await listSources(root, walkedDirectories, files)),
  };
}

async function typescriptVersion(root) {
  try {
    const path = createRequire(join(root, 'package.json')).resolve('typescript/package.json');
    return JSON.parse(await readFile(path, 'utf8')).version;
  } catch {
    return null;
  }
}

/** Source files under the directories plus the named files, relative to root with '/', sorted. */
async function listSources(root, directories, files) {
  const found = new Set(files);
  const walk = async (dir, recursive) => {
    let entries;
    try {
      entries = await readdir(resolve(root, dir), { withFileTypes: true });
    } catch (error) {
      if (error?.code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (recursive && !entry.name.startsWith('.') && !SKIPPED_DIRECTORIES.has(entry.name)) await walk(path, true);
      } else if (SOURCE.test(entry.name)) {
        found.add(path);
      }
    }
  };
  for (const { path, recursive } of directories) await walk(path === '.' ? '' : path, recursive);
  return [...found].sort();
}

/** SHA-256 of each file by path; a missing file hashes to 'missing' so that deleting one counts as a change. */
async function hashFiles(root, paths) {
  const hashes = await Promise.all(
    paths.map(async (path) => {
      try {
        return createHash('sha256')
          .update(await readFile(resolve(root, path)))
          .digest('hex');
      } catch (error) {
        if (error?.code === 'ENOENT') return 'missing';
        throw error;
      }
    }),
  );
  return Object.fromEntries(paths.map((path, i) => [path, hashes[i]]));
}

/** Paths added, removed or changed between two hash maps, sorted. */
function differences(before, after) {
  const paths = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...paths].filter((path) => before[path] !== after[path]).sort();
}

/** `path` relative to root with '/' separators (a config extended from node_modules, say, stays followed). */
function inside(root, path) {
  const rel = relative(root, path);
  return rel === '' ? '.' : rel.split(sep).join('/');
}

// `node scripts/build-state.mjs begin|finish [tsconfig...]` from package.json's prebuild and postbuild
// scripts (name the tsconfig files the build passes to tsc, when not just tsconfig.json), or `check`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const [command, ...named] = process.argv.slice(2);
  const projects = named.length > 0 ? named : undefined;
  if (command === 'begin') await beginBuild(root, projects);
  else if (command === 'finish') await finishBuild(root, projects);
  else if (command === 'check') {
    const state = await buildState(root);
    process.stdout.write(state.current ? 'current\n' : `stale: ${state.reason}\n`);
    process.exitCode = state.current ? 0 : 1;
  } else {
    process.stderr.write('usage: node scripts/build-state.mjs begin|finish [tsconfig...] | check\n');
    process.exitCode = 2;
  }
}
