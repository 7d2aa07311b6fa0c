// Seeded data generators for the benchmarks: the same seed gives the same columns on every host.

/** Mulberry32: a small, fast, seedable PRNG; quality is ample for benchmark data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `rows` rows: `key` one of `keys` strings (id001..), `v` an int32 in 1..100, `x` a float in [0, 100). */
export function groupByData(
  rows: number,
  keys: number,
  seed = 42,
): { key: string[]; keyCodes: Int32Array; v: Int32Array; x: Float64Array; dictionary: string[] } {
  const random = rng(seed);
  const dictionary = Array.from({ length: keys }, (_, k) => `id${String(k + 1).padStart(3, '0')}`);
  const keyCodes = new Int32Array(rows);
  const v = new Int32Array(rows);
  const x = new Float64Array(rows);
  const key = new Array<string>(rows);
  for (let i = 0; i < rows; i++) {
    const code = Math.floor(random() * keys);
    keyCodes[i] = code;
    key[i] = dictionary[code]!;
    v[i] = 1 + Math.floor(random() * 100);
    x[i] = Math.round(random() * 100 * 1e4) / 1e4;
  }
  return { key, keyCodes, v, x, dictionary };
}
