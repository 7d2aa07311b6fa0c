// scripts/build-state.mjs and scripts/start.mjs on a small project made for each test (its tsconfig in
// JSONC, its package.json scripts copied from ours, our node_modules linked in), and on this repository:
// the build stamp follows every input, a failed build leaves none, and start.mjs compiles only a stale tree.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { processRunning, spawnLogged } from '../service/child-process.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

type BuildState = { current: true } | { current: false; reason: string };
interface BuildStateModule {
  buildState: (root: string) => Promise<BuildState>;
}

const { buildState } = (await import(pathToFileURL(join(ROOT, 'scripts/build-state.mjs')).href)) as BuildStateModule;

const TSCONFIG = `{
  // JSONC, as tsc reads it: comments and trailing commas.
  "extends": "./tsconfig.base.json",
  "compilerOptions": {
    "outDir": "dist",
    "rootDir": ".", /* sources from src and test */
  },
  "include": ["src", "test/**/*.ts"],
}
`;

const TSCONFIG_BASE = `{
  "compilerOptions": {
    "module": "nodenext",
    "target": "ES2022",
    "strict": true,
    "types": [], // nothing from @types
  },
}
`;

const SOURCES: Record<string, string> = {
  'src/greeting.ts': "export const greeting: string = 'hello';\n",
  'src/service/main.ts': "import { greeting } from '../greeting.js';\nconsole.log(JSON.stringify({ msg: 'fixture service ran', greeting }));\n",
  'test/greeting.test.ts': "import { greeting } from '../src/greeting.js';\nif (greeting !== 'hello') throw new Error(greeting);\n",
};

/** A fresh project with our build, prebuild, postbuild and start scripts (the build one replaceable). */
async function fixture(build?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gpuframe-start-'));
  await mkdir(join(dir, 'scripts'));
  for (const file of ['build-state.mjs', 'start.mjs']) await copyFile(join(ROOT, 'scripts', file), join(dir, 'scripts', file));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const copied = { prebuild: scripts['prebuild'], build: build ?? scripts['build'], postbuild: scripts['postbuild'], start: scripts['start'] };
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'start-fixture', private: true, type: 'module', scripts: copied }, null, 2));
  await writeFile(join(dir, 'tsconfig.json'), TSCONFIG);
  await writeFile(join(dir, 'tsconfig.base.json'), TSCONFIG_BASE);
  for (const [path, text] of Object.entries(SOURCES)) await put(dir, path, text);
  return dir;
}

async function put(dir: string, path: string, text: string): Promise<void> {
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), text);
}

/** `npm <args>` in `dir`, with the npm these tests run under when there is one. */
function npm(dir: string, args: readonly string[]): { status: number | null; output: string } {
  const npmCli = process.env['npm_execpath'];
  const [command, prefix] = npmCli ? [process.execPath, [npmCli]] : ['npm', []];
  const run = spawnSync(command, [...prefix, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

function assertBuilt(dir: string): void {
  const run = npm(dir, ['run', 'build']);
  assert.equal(run.status, 0, run.output);
}

function assertStale(state: BuildState, reason: RegExp): void {
  assert.equal(state.current, false, 'stale');
  assert.match(state.reason, reason);
}

test('this repository after `npm run build` is current, so `npm start` starts without compiling', async () => {
  assert.deepEqual(await buildState(ROOT), { current: true });
});

test(
  'the build stamp follows the sources, new files under the include roots, tsconfig.json (JSONC) and the config it extends',
  { timeout: 300_000 },
  async () => {
    const dir = await fixture();
    try {
      assertStale(await buildState(dir), /no build stamp/);
      assertBuilt(dir);
      assert.ok(existsSync(join(dir, 'dist/src/service/main.js')));
      assert.deepEqual(await buildState(dir), { current: true });

      const original = SOURCES['src/greeting.ts']!;
      await put(dir, 'src/greeting.ts', original.replace('hello', 'hallo'));
      assertStale(await buildState(dir), /^src\/greeting\.ts changed$/);
      // Contents count, not times: the same text again is current, though the file was written since.
      await put(dir, 'src/greeting.ts', original);
      assert.deepEqual(await buildState(dir), { current: true });

      await put(dir, 'test/deep/more.test.ts', 'export {};\n');
      assertStale(await buildState(dir), /^test\/deep\/more\.test\.ts changed$/);
      await unlink(join(dir, 'test/deep/more.test.ts'));
      assert.deepEqual(await buildState(dir), { current: true });

      await unlink(join(dir, 'src/greeting.ts'));
      assertStale(await buildState(dir), /^src\/greeting\.ts changed$/);
      await put(dir, 'src/greeting.ts', original);

      await writeFile(join(dir, 'tsconfig.json'), TSCONFIG.replace('"rootDir": ".",', '"rootDir": ".", "noUnusedLocals": true,'));
      assertStale(await buildState(dir), /^tsconfig\.json changed$/);
      await writeFile(join(dir, 'tsconfig.json'), TSCONFIG);
      assert.deepEqual(await buildState(dir), { current: true });
      await writeFile(join(dir, 'tsconfig.base.json'), TSCONFIG_BASE.replace('"strict": true,', '"strict": false,'));
      assertStale(await buildState(dir), /^tsconfig\.base\.json changed$/);
      await writeFile(join(dir, 'tsconfig.base.json'), TSCONFIG_BASE);

      await rm(join(dir, 'dist/.build-stamp.json'));
      assertStale(await buildState(dir), /no build stamp/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test('a build removes the output of a source that was deleted or moved, so no stale test or module is left in dist/', { timeout: 300_000 }, async () => {
  const dir = await fixture();
  try {
    await put(dir, 'test/old.test.ts', 'export const old = 1;\n');
    assertBuilt(dir);
    assert.ok(existsSync(join(dir, 'dist/test/old.test.js')));
    await rm(join(dir, 'test/old.test.ts'));
    assertBuilt(dir);
    assert.equal(existsSync(join(dir, 'dist/test/old.test.js')), false, 'the deleted test is gone from dist/');
    assert.ok(existsSync(join(dir, 'dist/test/greeting.test.js')), 'outputs of sources still there are kept');
    assert.ok(existsSync(join(dir, 'dist/src/service/main.js')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failed build leaves no stamp, even where a good build left one, though tsc wrote its output', { timeout: 300_000 }, async () => {
  const dir = await fixture();
  try {
    assertBuilt(dir);
    assert.deepEqual(await buildState(dir), { current: true });
    await put(dir, 'src/greeting.ts', "export const greeting: number = 'hello';\n");
    const run = npm(dir, ['run', 'build']);
    assert.notEqual(run.status, 0, 'a type error fails the build');
    assert.match(run.output, /TS2322/);
    assert.ok(existsSync(join(dir, 'dist/src/greeting.js')), 'tsc emitted despite the error');
    assertStale(await buildState(dir), /no build stamp/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test(
  'a source edited during the build, after tsc read it, leaves the build stale: the stamp records the inputs as the build began',
  { timeout: 300_000 },
  async () => {
    const dir = await fixture(`tsc -p tsconfig.json && node -e "require('fs').appendFileSync('src/greeting.ts', '// edited during the build\\n')"`);
    try {
      assertBuilt(dir);
      assertStale(await buildState(dir), /^src\/greeting\.ts changed$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test(
  'start.mjs builds a stale tree then runs it; while the tree is current it runs it without building; a failed build runs nothing',
  { timeout: 300_000 },
  async () => {
    const dir = await fixture();
    const start = async () => {
      const child = spawnLogged(process.execPath, ['scripts/start.mjs'], { cwd: dir });
      return { exit: await child.exited, lines: child.lines, msgs: child.lines.map((l) => l['msg']) };
    };
    try {
      const first = await start();
      assert.deepEqual(first.exit, { code: 0, signal: null }, JSON.stringify(first.lines));
      assert.equal(first.lines.find((l) => l['msg'] === 'build is not current: building')?.['reason'], 'no build stamp: never built, or the last build failed');
      assert.equal(first.lines.find((l) => l['msg'] === 'starting service')?.['built'], true);
      assert.equal(first.lines.find((l) => l['msg'] === 'fixture service ran')?.['greeting'], 'hello');
      assert.ok(first.lines.some((l) => l['msg'] === 'raw' && String(l['text']).includes('tsc -p tsconfig.json')));

      const stamped = (await stat(join(dir, 'dist/.build-stamp.json'))).mtimeMs;
      const second = await start();
      assert.deepEqual(second.exit, { code: 0, signal: null });
      assert.ok(!second.msgs.includes('build is not current: building'));
      assert.equal(second.lines.find((l) => l['msg'] === 'starting service')?.['built'], false);
      assert.ok(second.msgs.includes('fixture service ran'));
      assert.equal((await stat(join(dir, 'dist/.build-stamp.json'))).mtimeMs, stamped, 'no build ran');

      await put(dir, 'src/greeting.ts', "export const greeting: string = 'hallo';\n");
      const third = await start();
      assert.equal(third.lines.find((l) => l['msg'] === 'build is not current: building')?.['reason'], 'src/greeting.ts changed');
      assert.equal(third.lines.find((l) => l['msg'] === 'fixture service ran')?.['greeting'], 'hallo', 'the rebuilt code ran');

      await put(dir, 'src/greeting.ts', "export const greeting: number = 'hello';\n");
      const broken = await start();
      assert.notEqual(broken.exit.code, 0);
      assert.ok(broken.msgs.includes('build failed; not starting'));
      assert.ok(!broken.msgs.includes('fixture service ran'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test('a SIGTERM while start.mjs builds stops the whole build (npm, its shell, the compiler) and start.mjs, by that signal', { timeout: 300_000 }, async () => {
  // A build that records its pid and then sleeps: the compiler at the moment a process manager stops the service.
  const dir = await fixture(`node -e "require('fs').writeFileSync('building.pid', String(process.pid)); setTimeout(() => {}, 600000)"`);
  const child = spawnLogged(process.execPath, ['scripts/start.mjs'], { cwd: dir });
  let builder: number | null = null;
  try {
    await child.waitFor((l) => l['msg'] === 'build is not current: building', 60_000);
    while (builder === null) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const text = await readFile(join(dir, 'building.pid'), 'utf8').catch(() => '');
      if (text !== '') builder = Number(text);
    }
    assert.ok(processRunning(builder));
    child.process.kill('SIGTERM');
    assert.deepEqual(await child.exited, { code: null, signal: 'SIGTERM' });
    assert.ok(child.lines.some((l) => l['msg'] === 'build stopped by signal; not starting'));
    // Signalled with its group, the sleeper may take a moment after start.mjs to be gone.
    for (let i = 0; i < 600 && processRunning(builder); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(processRunning(builder), false, 'the build was stopped, not left running');
    assert.ok(!existsSync(join(dir, 'dist/.build-stamp.json')));
  } finally {
    child.process.kill('SIGKILL');
    if (builder !== null && processRunning(builder)) process.kill(builder, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
