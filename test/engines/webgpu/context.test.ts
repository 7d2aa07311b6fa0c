import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { spliceShader } from '../../../src/engines/webgpu/context.js';
import { testGpu } from './device.js';

const { ctx, skip } = await testGpu();
after(() => ctx?.destroy());

test('spliceShader fills markers and rejects missing or unused code', () => {
  const text = 'a\n  //@splice BODY\nb';
  assert.equal(spliceShader(text, { BODY: 'x = 1;' }), 'a\nx = 1;\nb');
  assert.throws(() => spliceShader(text, {}), /splice 'BODY' has no code/);
  assert.throws(() => spliceShader(text, { BODY: '', OTHER: '' }), /no splice marker 'OTHER'/);
});

test('uploads round-trip through the device, and pooled buffers are reused after their submit', { skip }, async () => {
  const c = ctx!;
  const data = Int32Array.from({ length: 1001 }, (_, i) => i * 7 - 300);
  const buffer = c.upload(data);
  const back = new Int32Array(await c.read(buffer, data.byteLength));
  assert.deepEqual(back, data);
  const created = c.counters.buffersCreated;
  c.recycle([buffer]);
  const again = c.buffer(data.byteLength);
  assert.equal(again, buffer);
  assert.equal(c.counters.buffersCreated, created);
  // A 3-byte tail is padded, not dropped.
  const odd = c.upload(Uint8Array.of(1, 2, 3, 4, 5, 6, 7));
  assert.deepEqual([...new Uint8Array(await c.read(odd, 7))], [1, 2, 3, 4, 5, 6, 7]);
});
