// The physical planner and the registry: every operator is implemented by the CPU engine and either by the
// WebGPU engine or declared CPU-only, in files named after it; fusions are explicit in the operators;
// placement follows the policy and says why an operator stays off the device; explain() before a run names
// the engine explainAnalyze() then reports; 'auto' on a software adapter keeps the CPU's fusions; and a
// stream runs through the dispatcher, on the device where the planner puts it.

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { OPERATOR_NAMES, operatorInputs, type PhysicalOp } from '../../src/exec/operators.js';
import { CPU_ONLY, planPhysical } from '../../src/exec/physical.js';
import { REGISTRY } from '../../src/exec/registry.js';
import { BackendUnavailableError, col, countRows, createExecutor, DataFrameModel, ExecutorClosedError, type Executor, type Frame } from '../../src/index.js';
import { optimize } from '../../src/plan/optimize.js';
import { gpuSkip } from '../engines/webgpu/device.js';
import { arrowRows, buildBoth, Chooser, describePlan, fieldsOf, genPlan, randomTable, runs } from '../property/harness.js';

const root = new URL('../../../', import.meta.url);
const skip = await gpuSkip();

const Sales = DataFrameModel({ id: z.int32(), region: z.string(), units: z.int32(), price: z.float64() });
const sales = Sales.fromRows(Array.from({ length: 40 }, (_, i) => ({ id: i, region: ['east', 'west', 'north'][i % 3]!, units: (i * 7) % 23, price: i / 4 })));
/** The same rows with the price as float32: every column a type the device holds. */
const narrow = DataFrameModel({ id: z.int32(), region: z.string(), units: z.int32(), price: z.float32() }).fromRows(sales.collectSync());

function physicalOf(frame: Frame, policy = CPU_ONLY): PhysicalOp {
  return planPhysical(optimize(frame.plan), policy);
}

/** Operator names from the root down, depth first. */
function shape(op: PhysicalOp): string[] {
  return [`${op.op}@${op.placement.engine}`, ...operatorInputs(op).flatMap(shape)];
}

describe('the operator registry', () => {
  it('names every operator the same in the plan, both engines and shaders/: CPU always, WebGPU or a CPU-only reason', () => {
    const cpuOps = readdirSync(new URL('src/engines/cpu/ops/', root)).filter((f) => f !== 'index.ts' && f !== 'types.ts');
    const gpuOps = readdirSync(new URL('src/engines/webgpu/ops/', root)).filter((f) => f !== 'index.ts' && f !== 'types.ts');
    const compute = OPERATOR_NAMES.filter((n) => n !== 'source');
    assert.deepEqual(cpuOps.sort(), compute.map((n) => `${n}.ts`).sort(), 'engines/cpu/ops holds one file per operator');
    const onDevice = compute.filter((n) => REGISTRY[n].webgpu !== null);
    assert.deepEqual(gpuOps.sort(), onDevice.map((n) => `${n}.ts`).sort(), 'engines/webgpu/ops holds one file per device operator');
    for (const name of compute) {
      const entry = REGISTRY[name];
      if (entry.webgpu === null) assert.ok(entry.cpuOnly.length > 10, `${name} says why it is CPU-only`);
      else assert.ok(existsSync(new URL(`shaders/${name}.wgsl`, root)), `shaders/${name}.wgsl`);
    }
  });
});

describe('lowering', () => {
  it('fuses a filter-project chain and the head above it into one operator with a row window', () => {
    const op = physicalOf(
      sales
        .filter(col('units').gt(5))
        .withColumns({ v: col('price').mul(2) })
        .head(3),
    );
    assert.ok(op.op === 'filter-project' && op.predicate !== null && op.window.offset === 0 && op.window.length === 3);
    assert.deepEqual(shape(op), ['filter-project@cpu', 'source@cpu']);
    assert.deepEqual([op.node.kind, ...op.fused.map((n) => n.kind)], ['slice', 'project', 'filter']);
  });

  it('cuts a sort to its head (top-k), and reads a filter inside an aggregate', () => {
    const top = physicalOf(sales.sort('price', { descending: true }).slice(2, 5));
    assert.ok(top.op === 'sort' && top.window.offset === 2 && top.window.length === 5, shape(top).join(' '));
    const agg = physicalOf(sales.filter(col('units').gt(5)).groupBy('region').agg({ n: countRows() }));
    assert.ok(agg.op === 'aggregate' && agg.predicate !== null);
    assert.deepEqual(shape(agg), ['aggregate@cpu', 'source@cpu']);
  });

  it('reads the filter under a group head as a selection on the CPU, but leaves it to the device where that runs it', () => {
    const frame = narrow.filter(col('units').gt(5)).groupBy('region').head(2);
    const cpu = physicalOf(frame);
    assert.ok(cpu.op === 'group-head' && cpu.predicate !== null);
    assert.deepEqual(shape(cpu), ['group-head@cpu', 'source@cpu']);
    const gpu = physicalOf(frame, { gpu: { handoffRows: 0 } });
    assert.ok(gpu.op === 'group-head' && gpu.predicate === null);
    assert.deepEqual(shape(gpu), ['group-head@cpu', 'filter-project@webgpu', 'source@cpu']);
  });

  it('fuses a slice without an end into the filter-project too, so it streams window by window', () => {
    const op = physicalOf(sales.filter(col('units').gt(5)).slice(7));
    assert.ok(op.op === 'filter-project' && op.window.offset === 7 && op.window.length === Infinity, shape(op).join(' '));
  });

  it('bounds a join by every pairing of its inputs, so the operator above is never kept off the device by an underestimate', () => {
    const other = narrow.select('id', 'units').rename({ units: 'u2' });
    const policy = { gpu: { handoffRows: 50 } };
    const inner = physicalOf(narrow.select('id', 'units').join(other, { on: 'id' }).sort('u2'), policy);
    assert.deepEqual(shape(inner), ['sort@webgpu', 'join@cpu', 'source@cpu', 'filter-project@cpu', 'source@cpu']);
    assert.equal(inner.placement.inputRows, 40 * 40);
    const semi = physicalOf(narrow.select('id', 'units').join(other, { on: 'id', how: 'semi' }).sort('units'), policy);
    assert.equal(semi.placement.engine, 'cpu');
    assert.equal(semi.placement.inputRows, 40);
  });

  it('places each operator by the policy and says why one stays on the CPU', () => {
    const frame = narrow.filter(col('units').gt(5)).sort('price').unique(['region']);
    const onDevice = physicalOf(frame, { gpu: { handoffRows: 0 } });
    assert.deepEqual(shape(onDevice), ['unique@cpu', 'sort@webgpu', 'filter-project@webgpu', 'source@cpu']);
    assert.match(onDevice.placement.why ?? '', /^CPU-only: /);
    const wide = physicalOf(sales.filter(col('units').gt(5)).sort('price'), { gpu: { handoffRows: 0 } });
    assert.deepEqual(shape(wide), ['sort@cpu', 'filter-project@cpu', 'source@cpu']);
    assert.equal(wide.placement.why, "sort key 'price' is float64");
    assert.equal(operatorInputs(wide)[0]!.placement.why, 'float64 values', 'the filter passes a float64 column through');
    const small = physicalOf(frame, { gpu: { handoffRows: 41 } });
    assert.deepEqual(shape(small), ['unique@cpu', 'sort@cpu', 'filter-project@cpu', 'source@cpu']);
    assert.equal(operatorInputs(operatorInputs(small)[0]!)[0]!.placement.why, 'at most 40 rows, below the hand-off size (41)');
    const explained = frame.explain();
    assert.ok(!explained.includes('webgpu') && !explained.includes(':'), explained);
  });
});

/** The engine each explain() line names, and the engine each explainAnalyze() line ran on (null: fused or a source). */
function plannedEngines(text: string): string[] {
  return text.split('\n').map((line) => /\[(cpu|webgpu)(: [^\]]*)?\]$/.exec(line)?.[1] ?? `unparsed: ${line}`);
}

function analysedEngines(text: string): (string | null)[] {
  return text.split('\n').map((line) => {
    if (line.endsWith('[fused into parent]') || !line.endsWith(' ms]')) return null;
    if (line.includes('(planned on webgpu; ran on the CPU: ')) return 'webgpu';
    return /\[(cpu|webgpu) [\d.]+ ms\]$/.exec(line)?.[1] ?? `unparsed: ${line}`;
  });
}

describe('explain() before a run', () => {
  const executors: [string, Executor][] = [['pool', createExecutor({ maxWorkers: 2, inlineThreshold: 0 })]];
  if (skip === false) executors.push(['webgpu', createExecutor({ backend: 'webgpu', maxWorkers: 0, gpu: { maxBindingBytes: 8192 } })]);
  after(() => Promise.all(executors.map(([, e]) => e.close())));

  it('names the engine explainAnalyze() reports for each operator, on the same executor (a fallback says it was planned there)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 'c', ch.int(1, 300));
        const steps = genPlan(ch, fieldsOf(table), 4, 40);
        const frame = steps.reduce((f, s) => s.frame(f), buildBoth(table).frame);
        for (const [name, executor] of executors) {
          const label = `${name}\n${describePlan(table, steps)}`;
          const planned = plannedEngines(frame.explain({ executor }));
          let analysed: string;
          try {
            analysed = await frame.explainAnalyze({ executor });
          } catch {
            return; // an overflow or other typed error: what it says is checked by the property tests
          }
          const ran = analysedEngines(analysed);
          assert.equal(ran.length, planned.length, label);
          ran.forEach((engine, i) => {
            if (engine !== null) assert.equal(engine, planned[i], `${label}\nexplain:\n${frame.explain({ executor })}\nexplainAnalyze:\n${analysed}`);
          });
          if (name === 'pool') assert.ok(planned.every((e) => e === 'cpu'));
        }
      }),
      runs(40),
    );
  });
});

describe("'auto' on a software adapter", { skip }, () => {
  const rows = 1 << 20;
  const Big = DataFrameModel({ id: z.int32(), units: z.int32() });
  let big: Frame;
  const auto = createExecutor({ backend: 'auto', maxWorkers: 0 });
  let software = false;
  before(async () => {
    const ids = Int32Array.from({ length: rows }, (_, i) => i);
    big = Big.fromColumns({ id: Array.from(ids), units: Array.from(ids, (i) => (i * 7) % 101) });
    software = (await auto.warmUp())?.architecture === 'software';
  });
  after(() => auto.close());

  it('runs every operator on the CPU with the CPU engine’s fusions: a head over a filter stops the scan early', async (t) => {
    if (!software) {
      t.skip('the adapter is a hardware one');
      return;
    }
    const query = big.filter(col('units').gt(50)).head(5);
    const explained = query.explain({ executor: auto }).split('\n');
    assert.match(explained[0]!, /^Slice offset=0 length=5 \[cpu: 'auto' leaves a software adapter .* to the CPU\]$/);
    assert.match(explained[1]!, /^ {2}Filter \(units gt 50\) \[cpu\]$/);
    const analysed = (await query.explainAnalyze({ executor: auto })).split('\n');
    assert.match(analysed[0]!, /^Slice offset=0 length=5 \[cpu [\d.]+ ms\]$/);
    assert.equal(analysed[1], '  Filter (units gt 50) [fused into parent]');
    const firstFive = Array.from({ length: 200 }, (_, i) => i)
      .filter((i) => (i * 7) % 101 > 50)
      .slice(0, 5);
    assert.deepEqual(
      (await query.collect({ executor: auto })).map((r) => r.id),
      firstFive,
    );
  });
});

describe('streaming through the dispatcher', { skip }, () => {
  const gpu = createExecutor({ backend: 'webgpu', maxWorkers: 0 });
  after(() => gpu.close());

  it('streams a filter-project on the device where the planner puts it, with the rows collect gives', async () => {
    await fc.assert(
      fc.asyncProperty(fc.gen(), async (g) => {
        const ch = new Chooser(g);
        const table = randomTable(ch, 's', ch.int(1, 3000), ['int32', 'float32', 'bool', 'utf8', 'enum']);
        const { frame: source } = buildBoth(table);
        const fields = fieldsOf(table);
        const name = fields[0]!.name;
        let frame = source.filter(col(name).isNotNull());
        if (ch.chance(50)) frame = frame.head(ch.int(0, 3000));
        const expected = frame.collectSync();
        const uploads = gpu.stats().gpu?.resident.uploads ?? 0;
        const batchSize = ch.pick([1, 7, 512, 65_536]);
        const rows: Record<string, unknown>[] = [];
        for await (const batch of frame.stream({ executor: gpu, batchSize })) rows.push(...arrowRows(batch, fields));
        assert.deepEqual(rows, expected, describePlan(table, []));
        const explained = frame.explain({ executor: gpu });
        assert.match(explained, /Filter .*\[webgpu\]|Slice .*\[webgpu\]/);
        if (expected.length > 0) assert.ok((gpu.stats().gpu?.resident.uploads ?? 0) > uploads, 'the stream uploaded its windows to the device');
      }),
      runs(25),
    );
  });
});

describe('the dispatcher', () => {
  it('copies a head out of a filter, so a few rows do not keep the whole input’s output buffers alive', async () => {
    const Wide = DataFrameModel({ id: z.int32(), v: z.float64() });
    const wide = Wide.fromColumns({ id: Array.from({ length: 100_000 }, (_, i) => i), v: Array.from({ length: 100_000 }, (_, i) => i / 2) });
    const table = await wide
      .filter(col('id').gt(10))
      .withColumns({ w: col('v').mul(2) })
      .head(3)
      .toArrow();
    assert.deepEqual(table.getChild('w')?.toArray(), Float64Array.of(11, 12, 13));
    for (const name of ['id', 'v', 'w']) {
      const values = table.getChild(name)!.data[0]!.values as ArrayLike<number> & { buffer: ArrayBufferLike };
      assert.ok(values.buffer.byteLength <= 64, `${name}: a ${values.buffer.byteLength}-byte buffer behind 3 rows`);
    }
  });

  it('makes close() wait for a stream’s window in flight, and refuses the stream’s next window once closing', async () => {
    const executor = createExecutor({ maxWorkers: 2, inlineThreshold: 0 });
    const Ids = DataFrameModel({ id: z.int32() });
    const ids = Ids.fromColumns({ id: Array.from({ length: 600_000 }, (_, i) => i) });
    const stream = ids.filter(col('id').ge(0)).stream({ executor, batchSize: 50_000 })[Symbol.asyncIterator]();
    const first = await stream.next();
    assert.equal(first.done ? 0 : first.value.numRows, 50_000);
    const closed = executor.close();
    let seen = 50_000;
    await assert.rejects(
      (async () => {
        for (let next = await stream.next(); !next.done; next = await stream.next()) seen += next.value.numRows;
      })(),
      ExecutorClosedError,
    );
    await closed;
    // The rows of the windows already computed still came out (a window is 2 workers × 65,536 rows), and nothing after them.
    assert.ok(seen > 0 && seen < 600_000 && seen % 131_072 === 0, `${seen} rows streamed`);
  });

  it("explain() on a 'webgpu' executor without an adapter says that running the plan fails, as it does", async () => {
    const executor = createExecutor({ backend: 'webgpu', maxWorkers: 0, gpu: { dawn: { options: ['backend=d3d12'] } } });
    try {
      await assert.rejects(sales.collect({ executor }), BackendUnavailableError);
      const lines = sales.filter(col('units').gt(5)).explain({ executor }).split('\n');
      assert.match(lines.at(-1)!, /^-- running this plan fails: backend 'webgpu' has no device: /);
    } finally {
      await executor.close();
    }
  });
});
