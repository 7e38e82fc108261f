// Token sampling's options and the uniform values the GPU kernel (src/gpu/kernels/sample.ts) and its CPU
// reference (src/reference/sample.ts) both compute from them.

export interface SampleOptions {
  /** 0: greedy (argmax, the lowest index on ties); > 0 divides the logits */
  temperature: number;
  /** keep the topK largest logits (ties at the threshold all kept); <= 0 or >= V keeps all */
  topK: number;
  /** keep the smallest set of most likely tokens whose probability reaches topP; >= 1 keeps all; must be > 0 */
  topP: number;
  /** generator key: an integer in [0, 2^53) */
  seed: number;
  /** generator counter (e.g. the decoding step): an integer in [0, 2^53); rows are told apart by their index */
  counter: number;
  /** per-row counter offsets (u32): row b draws with counter = (low word of counter + rowCounters[b]) mod 2^32
   * and the same high word, so a row's draws depend on its own position only (multi-turn decoding, where
   * rows advance at different times) */
  rowCounters?: ArrayLike<number>;
  /** per-row row words (u32): row b draws as row rowIndex[b] would (Philox counter word 2), so that a batch whose
   * finished rows left (generate.ts's compaction) draws each remaining row as the full batch did; with rowCounters
   * too, each row its word and its counter (continuous batching, generate_continuous.ts: rows that joined at
   * different steps) */
  rowIndex?: ArrayLike<number>;
}

/** The row word row b draws with: b, or rowIndex[b]. */
export function rowWord(opts: Pick<SampleOptions, 'rowIndex' | 'rowCounters'>, row: number): number {
  if (!opts.rowIndex) return row;
  const w = opts.rowIndex[row];
  if (!Number.isInteger(w) || w < 0 || w > 0xffffffff) throw new Error(`sample: rowIndex[${row}] must be a u32, got ${w}`);
  return w;
}

/** The counter row b draws with: counter, or with rowCounters its low word plus the row's offset (mod 2^32). */
export function rowCounter(opts: Pick<SampleOptions, 'counter' | 'rowCounters'>, row: number): number {
  if (!opts.rowCounters) return opts.counter;
  const [lo, hi] = splitU64(opts.counter, 'sample: counter');
  const off = opts.rowCounters[row];
  if (!Number.isInteger(off) || off < 0 || off > 0xffffffff) throw new Error(`sample: rowCounters[${row}] must be a u32, got ${off}`);
  return hi * 4294967296 + ((lo + off) >>> 0);
}

/** Splits a non-negative integer below 2^53 into its low and high u32 words (a Philox key or counter). */
export function splitU64(x: number, what: string): [number, number] {
  if (!Number.isSafeInteger(x) || x < 0) throw new Error(`${what} must be a non-negative integer below 2^53, got ${x}`);
  return [x % 4294967296, Math.floor(x / 4294967296)];
}

/** Validates the options; returns the f32 uniform values shared by the GPU wrapper and the CPU reference. */
export function sampleParams(opts: SampleOptions): {
  greedy: boolean;
  invTemp: number;
  topP: number;
  usePTop: boolean;
  seed: [number, number];
  counter: [number, number];
} {
  const { temperature, topK, topP } = opts;
  if (!Number.isFinite(temperature) || temperature < 0) {
    throw new Error(`sample: temperature must be finite and >= 0 (0 = greedy), got ${temperature}`);
  }
  const invTemp = temperature > 0 ? Math.fround(1 / temperature) : 0;
  if (temperature > 0 && !Number.isFinite(invTemp)) throw new Error(`sample: temperature ${temperature} is too small`);
  if (!Number.isInteger(topK)) throw new Error(`sample: topK must be an integer (<= 0 = all), got ${topK}`);
  if (!(topP > 0)) throw new Error(`sample: topP must be > 0 (>= 1 = all), got ${topP}`);
  return {
    greedy: temperature === 0,
    invTemp,
    topP: Math.fround(Math.min(topP, 1)),
    usePTop: topP < 1,
    seed: splitU64(opts.seed, 'sample: seed'),
    counter: splitU64(opts.counter, 'sample: counter'),
  };
}
