import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { encodeExclusiveScan } from '../../../src/engines/webgpu/kernels/prefix-sum.js';
import { testGpu } from './device.js';

const { ctx, skip } = await testGpu();
after(() => ctx?.destroy());

async function scanOnDevice(values: Uint32Array): Promise<{ prefix: Uint32Array; total: number }> {
  const c = ctx!;
  const run = c.begin();
  const input = run.temp(values.byteLength + 4);
  c.write(input, 0, values);
  const output = run.temp(values.byteLength + 4);
  const total = run.temp(4);
  encodeExclusiveScan(c, run, input, output, values.length, total);
  const keep = [output, total];
  await run.submit(keep);
  const [prefix, sum] = await c.readMany([
    { buffer: output, bytes: values.byteLength },
    { buffer: total, bytes: 4 },
  ]);
  c.recycle(keep);
  return { prefix: new Uint32Array(prefix!), total: new Uint32Array(sum!)[0]! };
}

function reference(values: Uint32Array): { prefix: Uint32Array; total: number } {
  const prefix = new Uint32Array(values.length);
  let running = 0;
  values.forEach((v, i) => {
    prefix[i] = running;
    running = (running + v) >>> 0;
  });
  return { prefix, total: running };
}

test('exclusive scan matches a sequential one at block and multi-level boundaries', { skip }, async () => {
  for (const n of [0, 1, 2, 1023, 1024, 1025, 4096 * 257 + 3, 1024 * 1024 + 1]) {
    const values = Uint32Array.from({ length: n }, (_, i) => (i * 2654435761) % 7);
    const got = await scanOnDevice(values);
    const want = reference(values);
    assert.equal(got.total, want.total, `total for n=${n}`);
    assert.deepEqual(got.prefix, want.prefix, `prefix for n=${n}`);
  }
});

test('exclusive scan agrees with the reference on random inputs (wrapping u32)', { skip }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint32Array({ maxLength: 5000 }), async (values) => {
      const got = await scanOnDevice(values);
      const want = reference(values);
      assert.equal(got.total, want.total);
      assert.deepEqual(got.prefix, want.prefix);
    }),
    { numRuns: 40 },
  );
});
