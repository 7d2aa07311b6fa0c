// Binding of the `dt` namespace's nodes: which temporal inputs each operation takes (a date has no hour, a
// time no year, a naive timestamp no zone to convert from) and the type it gives, with the unit and time zone
// carried through. The binder (bind.ts) calls bindDt with its own recursion and error reporting.

import { isTimeField, parseDuration, TEMPORAL_FIELDS, type TemporalField } from '../engines/shared/calendar.js';
import { compileFormat } from '../engines/shared/strftime.js';
import type { DType } from '../model/types.js';
import type { BoundExpr, DtOp, DtParams, ExprNode, ExprType } from './types.js';

export interface DtBinding {
  readonly bind: (node: ExprNode) => BoundExpr;
  readonly fail: (why: string) => never;
}

const FIELDS: ReadonlySet<string> = new Set(TEMPORAL_FIELDS);

export function isFieldOp(op: DtOp): op is DtOp & TemporalField {
  return FIELDS.has(op);
}

/** A temporal type by name; the names are DType members once the temporal column types are in. */
function temporal(dtype: string, nullable: boolean, params: Pick<ExprType, 'unit' | 'timeZone'> = {}): ExprType {
  return { dtype: dtype as DType, nullable, ...params };
}

export function bindDt(node: Extract<ExprNode, { kind: 'dt' }>, binding: DtBinding): BoundExpr {
  const arg = binding.bind(node.arg);
  const { op, params } = node;
  const input: string = arg.type.dtype;
  const nullable = arg.type.nullable;
  const needs = (accepted: readonly string[]): void => {
    if (!accepted.includes(input)) binding.fail(`dt.${op} needs ${accepted.join(' or ')}, got ${input}`);
  };
  const bound = (type: ExprType): BoundExpr => ({ kind: 'dt', op, arg, params, type });
  if (isFieldOp(op)) {
    if (input === 'date' && isTimeField(op)) binding.fail(`a date has no ${op}`);
    if (input === 'time' && !isTimeField(op)) binding.fail(`a time of day has no ${op}`);
    needs(['timestamp', 'date', 'time']);
    return bound({ dtype: 'int32', nullable });
  }
  switch (op) {
    case 'epoch':
      needs(['timestamp', 'date']);
      return bound({ dtype: params.epochUnit === 'd' ? 'int32' : 'int64', nullable });
    case 'truncate':
    case 'offsetBy': {
      needs(['timestamp', 'date']);
      if (input === 'date' && parseDuration(params.every!, `dt.${op}`).nanos !== 0n)
        binding.fail(`a date moves by whole days, weeks, months or years, not '${params.every!}'`);
      return bound(arg.type);
    }
    case 'convertTimeZone':
      needs(['timestamp']);
      if (arg.type.timeZone === undefined) binding.fail('the timestamps have no time zone to convert from; set one with dt.replaceTimeZone(tz)');
      return bound({ ...arg.type, timeZone: params.timeZone! });
    case 'replaceTimeZone': {
      needs(['timestamp']);
      const { timeZone: _, ...rest } = arg.type;
      const mayBeNull = nullable || params.ambiguous === 'null' || params.nonExistent === 'null';
      return bound({ ...rest, nullable: mayBeNull, ...(params.timeZone === null || params.timeZone === undefined ? {} : { timeZone: params.timeZone }) });
    }
    case 'date':
      needs(['timestamp', 'date']);
      return input === 'date' ? arg : bound(temporal('date', nullable));
    case 'time':
      needs(['timestamp', 'time']);
      return input === 'time' ? arg : bound(temporal('time', nullable, { unit: 'ns' }));
    case 'parseDatetime': {
      needs(['utf8']);
      // Text with an offset names instants: without a zone of its own the column is in UTC, as in Polars.
      const timeZone = params.timeZone ?? (compileFormat(params.format!, 'str.toDatetime(format)', true).usesZone ? 'UTC' : undefined);
      return bound(temporal('timestamp', nullable || params.strict === false, { unit: params.unit!, ...(timeZone === undefined ? {} : { timeZone }) }));
    }
    case 'parseDate':
      needs(['utf8']);
      return bound(temporal('date', nullable || params.strict === false));
  }
}

/**
 * True when a dt node can raise: a strict parse, a time-zone replacement that raises on skipped or repeated
 * wall times, and the operations whose result can leave int64 (epoch in a finer unit, truncate, offsetBy).
 */
export function dtCanRaise(op: DtOp, params: DtParams): boolean {
  switch (op) {
    case 'parseDatetime':
    case 'parseDate':
      return params.strict !== false;
    case 'replaceTimeZone':
      return params.ambiguous === 'raise' || params.nonExistent === 'raise';
    case 'epoch':
    case 'truncate':
    case 'offsetBy':
      return true;
    default:
      return false;
  }
}

/** The public spelling of a dt node, for errors and explain(). */
export function describeDt(op: DtOp, params: DtParams, arg: string): string {
  switch (op) {
    case 'epoch':
      return `${arg}.dt.epoch('${params.epochUnit!}')`;
    case 'truncate':
    case 'offsetBy':
      return `${arg}.dt.${op}('${params.every!}')`;
    case 'convertTimeZone':
    case 'replaceTimeZone':
      return `${arg}.dt.${op}(${params.timeZone === null ? 'null' : `'${params.timeZone!}'`})`;
    case 'parseDatetime':
      return `${arg}.str.toDatetime(${JSON.stringify(params.format)})`;
    case 'parseDate':
      return `${arg}.str.toDate(${JSON.stringify(params.format)})`;
    default:
      return `${arg}.dt.${op}()`;
  }
}
