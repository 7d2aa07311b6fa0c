// BillingStore against real DuckDB files: rollups add up to a plain Map reference, a batch lands exactly
// once or not at all (duplicates, failures inside the transaction, a process killed mid-write), and
// dead letters replay without double counting.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { BillingStore, BillingStoreClosedError, type BillingStoreOptions, type RollupBatch, type RollupRow } from '../../src/service/store.js';

type Entry = readonly [userId: number, total: number, count: number];

function batchOf(batchId: string, entries: readonly Entry[], requestId = `req-${batchId}`): RollupBatch & { readonly totals: number[] } {
  return {
    batchId,
    requestId,
    acceptedRows: entries.reduce((sum, [, , count]) => sum + count, 0),
    userIds: entries.map(([userId]) => userId),
    totals: entries.map(([, total]) => total),
    counts: entries.map(([, , count]) => count),
  };
}

/** Cents as the store's exact total text: "-0.75", "15.00". */
function centsText(cents: bigint): string {
  const magnitude = (cents < 0n ? -cents : cents).toString().padStart(3, '0');
  return `${cents < 0n ? '-' : ''}${magnitude.slice(0, -2)}.${magnitude.slice(-2)}`;
}

/** The rollups a list of batches must add up to, first occurrence of each batch id only; totals summed exactly in cents. */
function reference(batches: readonly RollupBatch[]): RollupRow[] {
  const seen = new Set<string>();
  const acc = new Map<number, { cents: bigint; count: number }>();
  for (const batch of batches) {
    if (seen.has(batch.batchId)) continue;
    seen.add(batch.batchId);
    for (let i = 0; i < batch.userIds.length; i++) {
      const entry = acc.get(batch.userIds[i]!) ?? { cents: 0n, count: 0 };
      // Test totals are quarters: × 100 is an exact integer.
      entry.cents += BigInt(Number(batch.totals[i]!) * 100);
      entry.count += batch.counts[i]!;
      acc.set(batch.userIds[i]!, entry);
    }
  }
  return [...acc.entries()]
    .sort(([a], [b]) => a - b)
    .map(([user_id, { cents, count }]) => ({ user_id, total: centsText(cents), count, mean: Number(centsText(cents)) / count }));
}

async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'billing-store-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function withStore<T>(path: string, body: (store: BillingStore) => Promise<T>, options: BillingStoreOptions = {}): Promise<T> {
  const store = await BillingStore.open(path, options);
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

/** Reads the ledger behind the store's back, to check it against the rollups. */
async function ledgerSums(path: string): Promise<{ batchIds: string[]; rows: number; total: number; rollupCount: number; rollupTotal: number }> {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    const ids = (await connection.runAndReadAll('SELECT batch_id FROM batches ORDER BY batch_id'))
      .getRowsJS()
      .map(([id]) => String(id as string | number | bigint));
    const [row] = (
      await connection.runAndReadAll(
        'SELECT (SELECT coalesce(sum("rows"), 0) FROM batches), (SELECT coalesce(sum(total), 0) FROM batches), (SELECT coalesce(sum(count), 0) FROM rollups), (SELECT coalesce(sum(total), 0) FROM rollups)',
      )
    ).getRowsJS();
    const [rows, total, rollupCount, rollupTotal] = (row ?? []).map(Number);
    return { batchIds: ids, rows: rows!, total: total!, rollupCount: rollupCount!, rollupTotal: rollupTotal! };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const quarter = (n: number): number => n / 4;

describe('BillingStore.persist and rollups', () => {
  test('accumulate per user across batches, ordered by user id', async () => {
    await withTempDir(async (dir) => {
      await withStore(join(dir, 'nested', 'billing.duckdb'), async (store) => {
        assert.deepEqual(await store.rollups(), []);
        assert.deepEqual(await store.totals(), { batches: 0, rows: 0, users: 0 });
        assert.deepEqual(
          await store.persist(
            batchOf('a', [
              [7, 10.5, 3],
              [-2, 1, 1],
              [2 ** 31 - 1, 0.25, 2],
            ]),
          ),
          { duplicate: false },
        );
        assert.deepEqual(
          await store.persist(
            batchOf('b', [
              [7, 4.5, 1],
              [3, -0.75, 4],
            ]),
          ),
          { duplicate: false },
        );
        assert.deepEqual(await store.rollups(), [
          { user_id: -2, total: '1.00', count: 1, mean: 1 },
          { user_id: 3, total: '-0.75', count: 4, mean: -0.1875 },
          { user_id: 7, total: '15.00', count: 4, mean: 3.75 },
          { user_id: 2 ** 31 - 1, total: '0.25', count: 2, mean: 0.125 },
        ]);
        assert.deepEqual(await store.totals(), { batches: 2, rows: 11, users: 4 });
      });
    });
  });

  test('property: any sequence of batches, repeated ids included, matches a Map reference exactly', async () => {
    const entry = fc.tuple(
      fc.oneof(fc.integer({ min: -3, max: 12 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1)),
      fc.integer({ min: -4000, max: 4000 }).map(quarter),
      fc.integer({ min: 0, max: 40 }),
    );
    const batch = fc.record({
      id: fc.integer({ min: 0, max: 5 }),
      entries: fc.uniqueArray(entry, { selector: ([userId]) => userId, maxLength: 10 }),
      typed: fc.boolean(),
    });
    await withTempDir(async (dir) => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(batch, { maxLength: 6 }), async (specs) => {
          const batches = specs.map(({ id, entries, typed }) => {
            const plain = batchOf(`batch-${id}`, entries);
            return typed
              ? { ...plain, userIds: Int32Array.from(plain.userIds), totals: Float64Array.from(plain.totals), counts: Uint32Array.from(plain.counts) }
              : plain;
          });
          await withStore(join(dir, `run-${run++}.duckdb`), async (store) => {
            const seen = new Set<string>();
            for (const b of batches) {
              assert.deepEqual(await store.persist(b), { duplicate: seen.has(b.batchId) });
              seen.add(b.batchId);
            }
            const expected = reference(batches);
            assert.deepEqual(await store.rollups(), expected);
            const firsts = batches.filter((b, i) => batches.findIndex((o) => o.batchId === b.batchId) === i);
            assert.deepEqual(await store.totals(), {
              batches: seen.size,
              rows: firsts.reduce((sum, b) => sum + b.acceptedRows, 0),
              users: expected.length,
            });
          });
        }),
        { numRuns: 30 },
      );
    });
  });

  test('a repeated batch id changes nothing and answers duplicate; a repeated request id is not a duplicate', async () => {
    await withTempDir(async (dir) => {
      await withStore(join(dir, 'billing.duckdb'), async (store) => {
        assert.deepEqual(await store.persist(batchOf('same', [[1, 2, 1]], 'req')), { duplicate: false });
        assert.deepEqual(await store.persist(batchOf('same', [[1, 2, 1]], 'req')), { duplicate: true });
        assert.deepEqual(
          await store.persist(
            batchOf(
              'same',
              [
                [1, 100, 5],
                [2, 3, 1],
              ],
              'other',
            ),
          ),
          { duplicate: true },
          'the id decides, not the content',
        );
        assert.deepEqual(await store.rollups(), [{ user_id: 1, total: '2.00', count: 1, mean: 2 }]);
        assert.deepEqual(await store.persist(batchOf('next', [[1, 2, 1]], 'req')), { duplicate: false });
        assert.deepEqual(await store.totals(), { batches: 2, rows: 2, users: 1 });
        assert.deepEqual(await store.rollups(), [{ user_id: 1, total: '4.00', count: 2, mean: 2 }]);
      });
    });
  });

  test('a batch of 300,000 users (many staging chunks) lands whole, twice', async () => {
    const users = 300_000;
    const userIds = new Int32Array(users);
    const totals = new Float64Array(users);
    const counts = new Float64Array(users);
    for (let i = 0; i < users; i++) {
      userIds[i] = i * 7 - 1_000_000;
      totals[i] = quarter(i % 101);
      counts[i] = 1 + (i % 3);
    }
    const acceptedRows = counts.reduce((a, b) => a + b, 0);
    await withTempDir(async (dir) => {
      await withStore(join(dir, 'billing.duckdb'), async (store) => {
        await store.persist({ batchId: 'big-1', requestId: 'r', acceptedRows, userIds, totals, counts });
        await store.persist({ batchId: 'big-2', requestId: 'r', acceptedRows, userIds, totals, counts });
        assert.deepEqual(await store.totals(), { batches: 2, rows: 2 * acceptedRows, users });
        const rows = await store.rollups();
        assert.equal(rows.length, users);
        for (let i = 0; i < users; i++) {
          const row = rows[i]!;
          if (row.user_id !== userIds[i] || row.total !== (2 * totals[i]!).toFixed(2) || row.count !== 2 * counts[i]!) {
            assert.fail(`row ${i}: ${JSON.stringify(row)}`);
          }
        }
      });
    });
  });
});

describe('BillingStore failures leave nothing behind', () => {
  const invalid: readonly [string, RollupBatch, new (...args: never[]) => Error, RegExp][] = [
    ['lengths differ', { ...batchOf('x', [[1, 1, 1]]), totals: [1, 2] }, TypeError, /equal lengths/],
    ['user id not int32', batchOf('x', [[2 ** 31, 1, 1]]), RangeError, /userIds\[0\].*int32/],
    [
      'fractional user id',
      batchOf('x', [
        [1, 1, 1],
        [1.5, 1, 1],
      ]),
      RangeError,
      /userIds\[1\]/,
    ],
    [
      'user id twice',
      batchOf('x', [
        [4, 1, 1],
        [5, 1, 1],
        [4, 2, 1],
      ]),
      RangeError,
      /4 more than once/,
    ],
    ['total not finite', batchOf('x', [[1, Number.NaN, 1]]), RangeError, /totals\[0\]/],
    ['total infinite', batchOf('x', [[1, Infinity, 1]]), RangeError, /totals\[0\]/],
    ['negative count', { ...batchOf('x', [[1, 1, -1]]), acceptedRows: 0 }, RangeError, /counts\[0\]/],
    ['fractional count', { ...batchOf('x', [[1, 1, 0.5]]), acceptedRows: 0 }, RangeError, /counts\[0\]/],
    ['acceptedRows disagrees with counts', { ...batchOf('x', [[1, 1, 2]]), acceptedRows: 3 }, RangeError, /acceptedRows/],
    ['batch id unfit for a file name', batchOf('../x', [[1, 1, 1]]), RangeError, /batchId/],
    ['a string where a number belongs', { ...batchOf('x', [[1, 1, 1]]), userIds: ['1'] as unknown as number[] }, TypeError, /userIds\[0\]/],
    ['columns missing', { ...batchOf('x', []), counts: undefined } as unknown as RollupBatch, TypeError, /counts/],
  ];

  test('an invalid batch is refused with a TypeError or RangeError before the database is touched', async () => {
    await withTempDir(async (dir) => {
      await withStore(join(dir, 'billing.duckdb'), async (store) => {
        await store.persist(batchOf('first', [[1, 1, 1]]));
        for (const [name, batch, kind, message] of invalid) {
          await assert.rejects(store.persist(batch), (error: unknown) => error instanceof kind && message.test(error.message), name);
        }
        assert.deepEqual(await store.totals(), { batches: 1, rows: 1, users: 1 });
        assert.deepEqual(await store.rollups(), [{ user_id: 1, total: '1.00', count: 1, mean: 1 }]);
      });
    });
  });

  test('a constraint failure in the upsert rolls back the ledger row and the staged users too', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'billing.duckdb');
      // A stricter table made beforehand (open keeps existing tables): the upsert, the last statement of
      // the transaction, fails once a user's count reaches 100, after the ledger row and staging are written.
      const instance = await DuckDBInstance.create(path);
      const connection = await instance.connect();
      await connection.run('CREATE TABLE rollups (user_id INTEGER PRIMARY KEY, total DOUBLE NOT NULL, count BIGINT NOT NULL CHECK (count < 100))');
      connection.closeSync();
      instance.closeSync();

      await withStore(path, async (store) => {
        await store.persist(
          batchOf('ok', [
            [1, 1, 60],
            [2, 2, 1],
          ]),
        );
        const before = await store.rollups();
        const doomed = batchOf('doomed', [
          [3, 5, 1],
          [1, 1, 50],
          [4, 0.5, 2],
        ]);
        await assert.rejects(store.persist(doomed), /CHECK constraint failed/);
        assert.deepEqual(await store.rollups(), before);
        assert.deepEqual(await store.totals(), { batches: 1, rows: 61, users: 2 });
        // The ledger row was rolled back, so the id is free; leftovers in staging would show up here.
        assert.deepEqual(await store.persist(batchOf('doomed', [[5, 0.25, 1]])), { duplicate: false });
        assert.deepEqual(await store.rollups(), [...before, { user_id: 5, total: '0.25', count: 1, mean: 0.25 }]);
      });
      const sums = await ledgerSums(path);
      assert.deepEqual(sums.batchIds, ['doomed', 'ok']);
      assert.equal(sums.rows, sums.rollupCount);
    });
  });

  test('a process killed while persisting in a loop leaves whole batches only', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'billing.duckdb');
      const script = join(dir, 'writer.mjs');
      const storeUrl = new URL('../../src/service/store.js', import.meta.url).href;
      // Each run goes on from the batches already in the file, so the ledger should hold exactly 0..n-1.
      await writeFile(
        script,
        `const crashBatch = ${crashBatch.toString()};
const { BillingStore } = await import(${JSON.stringify(storeUrl)});
const store = await BillingStore.open(${JSON.stringify(path)});
for (let i = (await store.totals()).batches; ; i++) {
  await store.persist(crashBatch(i));
  process.stdout.write('persisted\\n');
}
`,
      );
      // A kill can land where even a store that tears batches looks whole (between its two commits, say);
      // several kills make a torn batch all but certain to show.
      let landed: number[] = [];
      for (const delayMs of [120, 180, 240, 300, 360, 420]) {
        await killWriterAfter(script, delayMs);
        const sums = await ledgerSums(path);
        assert.ok(sums.batchIds.length > landed.length, 'each run landed at least one new batch');
        assert.equal(sums.rollupCount, sums.rows, 'Σ rollups.count == Σ batches.rows');
        assert.equal(sums.rollupTotal, sums.total, 'Σ rollups.total == Σ batches.total');
        landed = sums.batchIds.map((id) => Number(id.slice('crash-'.length)));
        assert.deepEqual(
          landed,
          landed.map((_, i) => i),
          'the writer persists in order, so the ledger holds batches 0..n-1',
        );
      }
      await withStore(path, async (store) => {
        assert.deepEqual(await store.rollups(), reference(landed.map(crashBatch)));
      });
    });
  });
});

/** Runs the writer script until it has persisted a batch, lets it go on for `delayMs`, then SIGKILLs it. */
async function killWriterAfter(script: string, delayMs: number): Promise<void> {
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([once(lines, 'line'), exited.then(() => assert.fail(`writer exited early: ${stderr}`))]);
  assert.deepEqual(first, ['persisted']);
  await sleep(delayMs);
  child.kill('SIGKILL');
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  assert.equal(signal, 'SIGKILL', `writer must be killed, not finish (code ${String(code)}): ${stderr}`);
}

/** Batch `i` of the crash test; plain JS inside so its source can run in the child process too. */
function crashBatch(i: number): RollupBatch {
  const users = 500 + (i % 4) * 1500;
  const userIds = [];
  const totals = [];
  const counts = [];
  let acceptedRows = 0;
  for (let j = 0; j < users; j++) {
    userIds.push((j * 31 + i) % 10_007);
    totals.push((((i + j) % 17) - 8) / 4);
    counts.push(1 + ((i + j) % 3));
    acceptedRows += 1 + ((i + j) % 3);
  }
  return { batchId: `crash-${String(i).padStart(6, '0')}`, requestId: 'crash', acceptedRows, userIds, totals, counts };
}

describe('BillingStore lifecycle and concurrency', () => {
  test('reopening a file keeps its data; close is idempotent and later calls are refused', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'billing.duckdb');
      const batches = [
        batchOf('a', [
          [1, 1.5, 2],
          [9, 3, 1],
        ]),
        batchOf('b', [[1, 0.5, 1]]),
      ];
      const store = await BillingStore.open(path, { threads: 2 });
      for (const batch of batches) await store.persist(batch);
      await assert.rejects(BillingStore.open(path), /already open/);
      await Promise.all([store.close(), store.close()]);
      await store.close();
      await assert.rejects(store.persist(batchOf('c', [[1, 1, 1]])), BillingStoreClosedError);
      await assert.rejects(store.rollups(), BillingStoreClosedError);
      const refused = batchOf('refused-at-shutdown', [[2, 2, 2]]);
      assert.equal(
        await store.deadLetter(refused, new BillingStoreClosedError()),
        join(`${path}.dead-letter`, 'refused-at-shutdown.json'),
        'dead-lettering still works',
      );

      await withStore(path, async (reopened) => {
        assert.deepEqual(await reopened.rollups(), reference(batches));
        assert.deepEqual(await reopened.totals(), { batches: 2, rows: 4, users: 2 });
        assert.deepEqual(await reopened.persist(batches[0]!), { duplicate: true });
        assert.deepEqual(await reopened.replayDeadLetters(), { replayed: 1, duplicates: 0, failed: 0 });
        assert.deepEqual(await reopened.rollups(), reference([...batches, refused]));
      });
    });
  });

  test('close waits for the write in progress', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'billing.duckdb');
      const store = await BillingStore.open(path);
      const pending = store.persist(crashBatch(3));
      await store.close();
      assert.deepEqual(await pending, { duplicate: false });
      await withStore(path, async (reopened) => {
        assert.deepEqual(await reopened.rollups(), reference([crashBatch(3)]));
      });
    });
  });

  test('50 concurrent persists land exactly once, and 50 concurrent repeats are all duplicates', async () => {
    await withTempDir(async (dir) => {
      await withStore(join(dir, 'billing.duckdb'), async (store) => {
        const batches = Array.from({ length: 50 }, (_, b) =>
          batchOf(
            `c-${b}`,
            Array.from({ length: 1 + (b % 7) * 15 }, (_, j): Entry => [(b + j * 13) % 97, quarter(((b * j) % 41) - 20), 1 + (j % 4)]),
          ),
        );
        const first = await Promise.all(batches.map((b) => store.persist(b)));
        assert.ok(first.every((r) => !r.duplicate));
        const again = await Promise.all([...batches.map((b) => store.persist(b)), store.rollups()]);
        assert.ok(again.slice(0, 50).every((r) => 'duplicate' in r && r.duplicate));
        assert.deepEqual(await store.rollups(), reference(batches));
        assert.deepEqual(await store.totals(), { batches: 50, rows: batches.reduce((s, b) => s + b.acceptedRows, 0), users: reference(batches).length });
      });
    });
  });
});

describe('BillingStore dead letters', () => {
  test('a dead letter is one JSON file that replay persists and deletes', async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, 'billing.duckdb');
      const letterDir = `${path}.dead-letter`;
      const batch = {
        ...batchOf('f00d-1', [
          [3, 1.25, 2],
          [1, -0.5, 1],
        ]),
        userIds: Int32Array.of(3, 1),
      };
      await withStore(path, async (store) => {
        assert.deepEqual(await store.replayDeadLetters(), { replayed: 0, duplicates: 0, failed: 0 }, 'no folder yet');
        const file = await store.deadLetter(batch, new Error('disk on fire'));
        assert.equal(file, join(letterDir, 'f00d-1.json'));
        assert.deepEqual(await readdir(letterDir), ['f00d-1.json'], 'no temporary file left beside it');
        const letter = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
        assert.equal(letter['error'], 'disk on fire');
        assert.deepEqual(letter['userIds'], [3, 1]);
        assert.deepEqual(await store.totals(), { batches: 0, rows: 0, users: 0 }, 'dead-lettering persists nothing');
      });
      await withStore(path, async (store) => {
        assert.deepEqual(await store.replayDeadLetters(), { replayed: 1, duplicates: 0, failed: 0 });
        assert.deepEqual(await readdir(letterDir), []);
        assert.deepEqual(await store.rollups(), reference([batch]));
        assert.deepEqual(await store.replayDeadLetters(), { replayed: 0, duplicates: 0, failed: 0 });
      });
    });
  });

  test('replaying a batch that was persisted after all counts a duplicate and adds nothing', async () => {
    await withTempDir(async (dir) => {
      const letters = join(dir, 'letters');
      await withStore(
        join(dir, 'billing.duckdb'),
        async (store) => {
          const landed = batchOf('landed', [[1, 2, 2]]);
          await store.persist(landed);
          await store.deadLetter(landed, 'timeout, though the commit went through');
          await store.deadLetter(
            batchOf('fresh', [
              [1, 1, 1],
              [2, 1, 1],
            ]),
            new Error('x'),
          );
          assert.deepEqual(await store.replayDeadLetters(), { replayed: 1, duplicates: 1, failed: 0 });
          assert.deepEqual(await readdir(letters), []);
          assert.deepEqual(await store.rollups(), [
            { user_id: 1, total: '3.00', count: 3, mean: 1 },
            { user_id: 2, total: '1.00', count: 1, mean: 1 },
          ]);
        },
        { deadLetterDir: letters },
      );
    });
  });

  test('a letter that cannot be persisted stays and counts as failed', async () => {
    await withTempDir(async (dir) => {
      const letters = join(dir, 'letters');
      await withStore(
        ':memory:',
        async (store) => {
          await store.deadLetter(batchOf('nan', [[1, Number.NaN, 1]]), new Error('bad total'));
          await writeFile(join(letters, 'garbled.json'), '{"batchId": "garbled", ');
          await store.deadLetter(batchOf('good', [[1, 1, 1]]), new Error('x'));
          assert.deepEqual(await store.replayDeadLetters(), { replayed: 1, duplicates: 0, failed: 2 });
          assert.deepEqual((await readdir(letters)).sort(), ['garbled.json', 'nan.json']);
          assert.deepEqual(await store.rollups(), [{ user_id: 1, total: '1.00', count: 1, mean: 1 }]);
          await assert.rejects(store.deadLetter(batchOf('../escape', []), new Error('x')), RangeError);
        },
        { deadLetterDir: letters },
      );
    });
  });

  test('an in-memory store without a folder dead-letters under the OS temp dir, its own folder', async () => {
    const [a, b] = [await BillingStore.open(':memory:'), await BillingStore.open(':memory:')];
    try {
      assert.notEqual(a.deadLetterDir, b.deadLetterDir);
      const file = await a.deadLetter(batchOf('m-1', [[1, 1, 1]]), new Error('x'));
      assert.ok(file.startsWith(tmpdir()));
      assert.deepEqual(await b.replayDeadLetters(), { replayed: 0, duplicates: 0, failed: 0 });
      assert.deepEqual(await a.replayDeadLetters(), { replayed: 1, duplicates: 0, failed: 0 });
    } finally {
      await Promise.all([a.close(), b.close()]);
      await rm(a.deadLetterDir, { recursive: true, force: true });
    }
  });
});
