// `npm run lint`'s import-cycle check: fails on any cycle among the TypeScript sources (src, test, bench,
// native), type-only and dynamic imports included, so that every layer imports in one direction. dpdm
// resolves nodenext's `.js` specifiers to the `.ts` files through tsconfig.json; a relative import it could
// not resolve would hide the cycles behind it, so that fails the check too.

import { parseCircular, parseDependencyTree } from 'dpdm';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const GLOBS = ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'native/**/*.ts'];
// Build outputs (test/package's fixtures import the packed lib/) and dependencies are not ours to check.
const escapedRoot = (root + sep).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const exclude = new RegExp(`^${escapedRoot}(node_modules|lib|dist)[\\\\/]|[\\\\/]node_modules[\\\\/]`);

const tree = await parseDependencyTree(GLOBS, { cwd: root, context: root, tsconfig: resolve(root, 'tsconfig.json'), exclude, transform: false });
const analysed = Object.entries(tree).filter(([id, deps]) => deps !== null && id.endsWith('.ts')).length;
const unresolved = Object.values(tree)
  .flatMap((deps) => deps ?? [])
  .filter((dep) => dep.id === null && dep.request.startsWith('.'));
const cycles = parseCircular(tree);

let failed = false;
if (analysed === 0) {
  console.error('check-cycles: no source file was analysed');
  failed = true;
}
for (const dep of unresolved) {
  console.error(`check-cycles: cannot resolve ${dep.request} imported by ${dep.issuer}`);
  failed = true;
}
for (const cycle of cycles) {
  console.error(`check-cycles: import cycle ${[...cycle, cycle[0]].join(' -> ')}`);
  failed = true;
}
if (failed) process.exit(1);
console.log(`check-cycles: no import cycle among ${analysed} files`);
