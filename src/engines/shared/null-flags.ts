// Null-flag text for the expression compilers: both the JS (cpu/codegen.ts) and the WGSL
// (webgpu/wgsl-expr.ts) compilers name a value's null flag by an expression string, folded here alike.

/** The null flag of a value null when either input is: constant-folds `false` and `true`. Shared with the WGSL compiler. */
export function orNull(a: string, c: string): string {
  if (a === 'false') return c;
  if (c === 'false') return a;
  if (a === 'true' || c === 'true') return 'true';
  return `(${a} || ${c})`;
}
