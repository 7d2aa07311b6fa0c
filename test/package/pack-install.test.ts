// The package as a user gets it: `npm pack`, then the tarball installed into temporary projects with
// `npm ci --offline` (the dependencies come from the npm cache the repository's own `npm ci` filled).
// One project takes everything (webgpu, koa and their types) and type-checks and runs a consumer that
// uses models, a join, group-by and the Koa helpers; one takes gpuframe alone without optional packages,
// and still loads both entry points, runs queries on the CPU and gets a typed error for 'webgpu'. Installs
// from the repository folder and from git build the package through its prepare script.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gpuSkip } from '../engines/webgpu/device.js';
import { consumerProject, type ConsumerSpec, type Lockfile, type PackedManifest } from './consumer-lock.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/package/fixtures');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
/** Per child process: generous, since packing and installing share a loaded machine with the suite. */
const CHILD_TIMEOUT_MS = 5 * 60_000;

const execFileAsync = promisify(execFile);

/** The environment without the npm_* variables a running npm script sets (its prefix, its package). */
function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('npm_')));
}

async function run(command: string, args: readonly string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { cwd, env: childEnv(), timeout: CHILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { message, stdout, stderr } = error as { message: string; stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${message}\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** The last line of a child's standard output, parsed. */
function lastJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

async function treeBytes(path: string): Promise<number> {
  const info = await lstat(path);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await treeBytes(join(path, entry));
  return total;
}

const MB = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

interface PackResult {
  readonly filename: string;
  readonly integrity: string;
  readonly size: number;
  readonly files: readonly { path: string }[];
}

/** Relative specifiers a compiled module imports at run time (static and dynamic). */
function relativeImports(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g)) found.push(match[2]!);
  return found;
}

async function installConsumer(dir: string, repoLock: Lockfile, spec: ConsumerSpec, fixture: string, npmArgs: readonly string[]): Promise<void> {
  const { packageJson, lock } = consumerProject(repoLock, spec);
  await cp(join(FIXTURES, fixture), dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify(packageJson, null, 2));
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
  await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', ...npmArgs], dir);
}

/** Imports `gpuframe` and `gpuframe/koa` in a child process run in `dir` and checks what they export. */
async function checkEntryPoints(dir: string): Promise<void> {
  const script =
    "const core = await import('gpuframe'); const koa = await import('gpuframe/koa'); console.log(JSON.stringify({ core: Object.keys(core), koa: Object.keys(koa) }));";
  const { core, koa } = lastJsonLine(await run(process.execPath, ['--input-type=module', '-e', script], dir)) as { core: string[]; koa: string[] };
  for (const name of ['DataFrameModel', 'createExecutor', 'col', 'BackendUnavailableError']) assert.ok(core.includes(name), name);
  for (const name of ['columnarBody', 'executorLifecycle', 'sendFrame', 'registerErrorHandlers']) assert.ok(koa.includes(name), name);
}

/** Type-checks and runs the lean fixture in `dir`, installed without optional packages and without koa. */
async function checkLean(dir: string): Promise<void> {
  await run(process.execPath, [TSC, '-p', 'tsconfig.json'], dir);
  const out = lastJsonLine(await run(process.execPath, ['out/lean.js'], dir)) as Record<string, unknown>;
  assert.deepEqual(out['totals'], [
    { sensor: 'a', total: 5, n: 2 },
    { sensor: 'b', total: 2, n: 1 },
    { sensor: 'c', total: 0.5, n: 1 },
  ]);
  assert.deepEqual(out['onAuto'], [
    { sensor: 'a', value: 4 },
    { sensor: 'b', value: 2 },
  ]);
  const webgpu = out['webgpu'] as { name: string; code: string; status: number; message: string };
  assert.equal(webgpu.name, 'BackendUnavailableError');
  assert.equal(webgpu.code, 'backend_unavailable');
  assert.equal(webgpu.status, 503);
  assert.match(webgpu.message, /npm install webgpu/);
  assert.equal(out['adapter'], null);
  assert.match(String(out['gpuUnavailable']), /npm install webgpu/);
  assert.equal(out['columnarBody'], 'function');
}

test('the packed tarball installs, loads and type-checks in other projects', { timeout: 15 * 60_000 }, async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'gpuframe-pack-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));

  // `npm pack` runs `prepare`, which builds lib/ from the sources.
  const [packed] = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', tmp], ROOT)) as PackResult[];
  assert.ok(packed);
  const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as PackedManifest & { license: string };
  const repoLock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  const registry = (await run('npm', ['config', 'get', 'registry'], ROOT)).trim();
  const spec = (alsoInstall: readonly string[]): ConsumerSpec => ({
    packed: { manifest, spec: `file:../${packed.filename}`, integrity: packed.integrity },
    alsoInstall,
    registry,
  });
  t.diagnostic(`tarball ${MB(packed.size)}, ${packed.files.length} files`);

  await t.test('the tarball holds the library, its shaders and licence, and nothing of the tests, benchmarks or service', async () => {
    const paths = new Set(packed.files.map((f) => f.path));
    for (const needed of [
      'package.json',
      'README.md',
      'LICENSE',
      'lib/src/index.js',
      'lib/src/index.d.ts',
      'lib/src/koa/index.js',
      'lib/src/koa/index.d.ts',
      'lib/native/dawn.js',
      'shaders/aggregate.wgsl',
    ]) {
      assert.ok(paths.has(needed), `${needed} is packed`);
    }
    const stray = [...paths].filter((p) => /(^|\/)(test|bench|service|dist)\//.test(p) || p.endsWith('.map') || (p.endsWith('.ts') && !p.endsWith('.d.ts')));
    assert.deepEqual(stray, []);
    // Every module a shipped module imports is shipped too (the bug was dist/native/dawn.js left out).
    const missing: string[] = [];
    for (const path of paths) {
      if (!path.endsWith('.js')) continue;
      for (const specifier of relativeImports(await readFile(join(ROOT, path), 'utf8'))) {
        const target = posix.normalize(posix.join(posix.dirname(path), specifier));
        if (!paths.has(target)) missing.push(`${path} -> ${target}`);
      }
    }
    assert.deepEqual(missing, []);
    assert.equal(manifest.license, 'MIT');
    assert.match(await readFile(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} /);
  });

  const full = join(tmp, 'full');
  await installConsumer(full, repoLock, spec(['zod', 'koa', '@types/koa', '@types/node']), 'consumer', []);
  t.diagnostic(`gpuframe with webgpu, koa and types: node_modules ${MB(await treeBytes(join(full, 'node_modules')))}`);

  await t.test('both entry points load from the installed tarball, webgpu (optional) included by default', async () => {
    await checkEntryPoints(full);
    assert.ok(await exists(join(full, 'node_modules/webgpu/package.json')));
    assert.ok(!(await exists(join(full, 'node_modules/@duckdb'))), 'the service database is not installed');
    assert.ok(!(await exists(join(full, 'node_modules/@koa/router'))), 'the service router is not installed');
  });

  await t.test('a consumer of models, a join, group-by and the Koa helpers type-checks: strict, skipLibCheck false', async () => {
    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], full);
  });

  await t.test('the compiled consumer gets the right rows on the CPU and an answer from its Koa app over loopback', async () => {
    const out = lastJsonLine(await run(process.execPath, ['out/consumer.js'], full));
    const byCountry = [
      { country: null, total: 14.5, n: 1 },
      { country: 'DE', total: 40, n: 1 },
      { country: 'NL', total: 19, n: 1 },
    ];
    assert.deepEqual(out, {
      rows: byCountry,
      collected: byCountry,
      firstCountry: 'NL',
      row: { order_id: 1, user_id: 1, amount: 1 },
      status: 200,
      answer: [
        { user_id: 7, total: 4 },
        { user_id: 8, total: 2 },
      ],
      unavailable: 'BackendUnavailableError',
    });
  });

  await t.test('the WebGPU engine runs from the installed package: Dawn loads and the kernels find their shaders', { skip: await gpuSkip() }, async () => {
    const out = lastJsonLine(await run(process.execPath, ['out/gpu.js'], full)) as { adapter: string | null; rows: unknown; plan: string };
    assert.deepEqual(out.rows, [
      { store: 2, units: 6, n: 2 },
      { store: 1, units: 3, n: 1 },
    ]);
    assert.match(out.plan, /^Aggregate .*\[webgpu/m);
  });

  const lean = join(tmp, 'lean');
  await installConsumer(lean, repoLock, spec(['zod', '@types/node']), 'lean', ['--omit=optional']);
  t.diagnostic(`gpuframe alone, --omit=optional: node_modules ${MB(await treeBytes(join(lean, 'node_modules')))}`);

  await t.test('gpuframe alone with --omit=optional installs no webgpu, koa or service packages', async () => {
    for (const absent of ['webgpu', 'koa', '@types/koa', '@duckdb', '@koa/router']) {
      assert.ok(!(await exists(join(lean, 'node_modules', absent))), `${absent} is not installed`);
    }
    assert.ok(await exists(join(lean, 'node_modules/gpuframe/package.json')));
  });

  await t.test('without webgpu and koa: types check, queries run on the CPU, webgpu is a typed error naming the package', () => checkLean(lean));

  // A folder install links the folder, whose own `npm ci` installed the dependencies, and runs its prepare.
  await t.test('installed from the repository folder: prepare builds lib/ and both entry points load', async () => {
    await rm(join(ROOT, 'lib'), { recursive: true, force: true });
    const folder = join(tmp, 'folder');
    await mkdir(folder);
    await writeFile(
      join(folder, 'package.json'),
      JSON.stringify({ name: 'folder-consumer', private: true, type: 'module', dependencies: { gpuframe: `file:${ROOT}` } }),
    );
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], folder);
    assert.ok(await exists(join(ROOT, 'lib/src/index.js')), 'prepare rebuilt lib/');
    await checkEntryPoints(folder);
  });

  // A git install clones the commit, installs its dependencies (dev ones too), runs prepare and packs the
  // result: this checks HEAD, not uncommitted changes.
  const head = await run('git', ['rev-parse', 'HEAD'], ROOT).then(
    (out) => out.trim(),
    () => null,
  );
  await t.test(
    'installed from git: the clone builds through prepare and works like the tarball',
    { skip: head === null ? 'the repository is not a git checkout' : false },
    async () => {
      const git = join(tmp, 'git');
      const url = `git+${pathToFileURL(ROOT.replace(/\/$/, '')).href}#${head!}`;
      await installConsumer(git, repoLock, { ...spec(['zod', '@types/node']), packed: { manifest, spec: url } }, 'lean', ['--omit=optional']);
      assert.ok(await exists(join(git, 'node_modules/gpuframe/lib/src/koa/index.js')));
      assert.ok(!(await exists(join(git, 'node_modules/gpuframe/src'))), 'only the packed files are installed');
      await checkLean(git);
    },
  );
});
