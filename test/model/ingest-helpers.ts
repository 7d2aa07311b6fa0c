// Shared assertions for the ingest tests: catching a ValidationError and reading a batch back cell by cell.

import assert from 'node:assert/strict';
import { ValidationError } from '../../src/errors.js';
import { cellValue } from '../../src/model/column.js';
import type { ColumnBatch } from '../../src/model/types.js';

/** Runs `ingest`, which must throw a ValidationError, and returns it. */
export function validationError(ingest: () => unknown): ValidationError {
  try {
    ingest();
  } catch (error) {
    assert.ok(error instanceof ValidationError, `expected a ValidationError, got ${String(error)}`);
    assert.equal(error.code, 'validation_failed');
    assert.equal(error.status, 422);
    return error;
  }
  assert.fail('expected a ValidationError, but ingest succeeded');
}

/** The issues of an error without their messages, which are free text. */
export function issueKeys(error: ValidationError): { column: string | null; row: number | null; code: string }[] {
  return error.issues.map(({ column, row, code }) => ({ column, row, code }));
}

/** Every cell of one column, as cellValue reads it. */
export function columnValues(batch: ColumnBatch, name: string): unknown[] {
  const index = batch.names.indexOf(name);
  assert.notEqual(index, -1, `no column '${name}'`);
  const column = batch.columns[index]!;
  assert.equal(column.length, batch.length);
  return Array.from({ length: batch.length }, (_, row) => cellValue(column, row));
}

/** Every column of a batch by name, for comparing whole batches. */
export function batchValues(batch: ColumnBatch): Record<string, unknown[]> {
  return Object.fromEntries(batch.names.map((name) => [name, columnValues(batch, name)]));
}
