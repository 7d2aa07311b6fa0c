// The logical plan: an immutable tree of operators, each carrying the schema it produces. Frames build
// it, the optimizer rewrites it, and both engines execute it; nothing here knows how.

import type { BoundAgg, BoundExpr, FillNullStrategy } from '../expr/types.js';
import type { ColumnBatch, Field } from '../model/types.js';

export interface NamedExpr {
  readonly name: string;
  readonly expr: BoundExpr;
}

export interface SortKey {
  readonly column: string;
  readonly descending: boolean;
  readonly nullsLast: boolean;
}

/** One whole-column null fill: column `column` of the input, filled, added as column `as`. */
export interface NullFill {
  readonly column: string;
  readonly as: string;
  readonly strategy: Exclude<FillNullStrategy, 'zero' | 'one'>;
  /** Most nulls in a row one value fills (forward and backward); null for no limit. */
  readonly limit: number | null;
}

export type JoinHow = 'inner' | 'left' | 'semi' | 'anti';

export type PlanNode =
  | { readonly kind: 'source'; readonly schema: readonly Field[]; readonly batch: ColumnBatch; readonly label: string }
  | { readonly kind: 'project'; readonly schema: readonly Field[]; readonly input: PlanNode; readonly exprs: readonly NamedExpr[] }
  | { readonly kind: 'filter'; readonly schema: readonly Field[]; readonly input: PlanNode; readonly predicate: BoundExpr }
  | { readonly kind: 'sort'; readonly schema: readonly Field[]; readonly input: PlanNode; readonly keys: readonly SortKey[] }
  | { readonly kind: 'slice'; readonly schema: readonly Field[]; readonly input: PlanNode; readonly offset: number; readonly length: number }
  | {
      readonly kind: 'aggregate';
      readonly schema: readonly Field[];
      readonly input: PlanNode;
      readonly keys: readonly string[];
      readonly aggs: readonly BoundAgg[];
    }
  | {
      readonly kind: 'join';
      readonly schema: readonly Field[];
      readonly left: PlanNode;
      readonly right: PlanNode;
      readonly leftOn: readonly string[];
      readonly rightOn: readonly string[];
      readonly how: JoinHow;
      /** Output name of each right column kept (non-key), in right schema order. */
      readonly rightOutput: readonly { readonly from: string; readonly as: string }[];
    }
  /** The input's columns, then one filled column per fill, in order. */
  | { readonly kind: 'fillNull'; readonly schema: readonly Field[]; readonly input: PlanNode; readonly fills: readonly NullFill[] }
  | { readonly kind: 'unique'; readonly schema: readonly Field[]; readonly input: PlanNode; readonly subset: readonly string[] }
  | {
      readonly kind: 'groupHead';
      readonly schema: readonly Field[];
      readonly input: PlanNode;
      readonly keys: readonly string[];
      readonly n: number;
      /**
       * The order rows are taken in and come out in: [] is the input's row order; the optimiser folds a
       * sort below the node into it (ties keep input row order, as the stable sort would).
       */
      readonly order: readonly SortKey[];
    };
