// The support matrix: read from the registry and the engines, and README.md's copy kept equal to it.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { expressionSupport, operatorSupport, supportMatrixMarkdown } from '../../src/exec/support.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('the support matrix', () => {
  it('README.md holds what `npm run ops` prints (run `npm run ops -- --write` after changing an engine)', () => {
    const match = /<!-- ops:begin[^>]*-->\n([\s\S]*?)\n<!-- ops:end -->/.exec(readme);
    assert.ok(match, 'README.md has the ops section');
    assert.equal(match[1], supportMatrixMarkdown());
  });

  it('lists every compute operator, and what the engines are known to lack as CPU-only', () => {
    const ops = new Map(operatorSupport().map((o) => [o.name, o.cpuOnly]));
    assert.deepEqual([...ops.keys()].sort(), ['aggregate', 'fill-null', 'filter-project', 'group-head', 'join', 'slice', 'sort', 'unique']);
    assert.equal(ops.get('aggregate'), null);
    assert.match(ops.get('fill-null') ?? '', /whole column/);
    assert.match(ops.get('unique') ?? '', /no device kernel/);
  });

  it('reads expression support from the engines: WGSL has no 64-bit types, no correctly rounded f32 division or remainder, and the holistic aggregations stay on the CPU', () => {
    const rows = new Map(expressionSupport().map((e) => [e.expression, e.cells]));
    assert.equal(rows.get('col')?.float64, 'cpu');
    assert.equal(rows.get('col')?.int32, 'cpu, webgpu');
    assert.equal(rows.get('add')?.int32, 'cpu, webgpu');
    assert.equal(rows.get('div')?.float32, 'cpu');
    assert.equal(rows.get('lower')?.int32, 'n/a', 'lower() of a number does not bind');
    assert.equal(rows.get('mod')?.float32, 'cpu');
    assert.equal(rows.get('round')?.float32, 'cpu');
    assert.equal(rows.get('nUnique()')?.utf8, 'cpu');
    assert.equal(rows.get('col')?.date, 'cpu');
    assert.equal(rows.get('median()')?.int32, 'cpu');
    assert.equal(rows.get('sum()')?.int32, 'cpu, webgpu');
  });
});
