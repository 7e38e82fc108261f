// CPU reference of sample.wgsl (same argument order as the host wrapper, with explicit B and V). It
// states the same rules the plain way, by sorting: top-k keeps x >= the k-th largest logit, top-p keeps the
// highest logits (tied values together) until their share of the top-k mass reaches topP, and the draw takes
// the first kept index whose cumulative weight exceeds u * total, u from the same Philox stream as the GPU.
// Weights are exp of the same f32 argument as on the GPU, summed in float64.
import { rowCounter, rowWord, sampleParams, type SampleOptions } from '../ops/sample';
import { sampleUniform } from './philox';

export type { SampleOptions };

const MASK_CLAMP = Math.fround(-1e30);

const scratchF = new Float32Array(1);
const scratchU = new Uint32Array(scratchF.buffer);

/** Order-preserving u32 key of an f32 (-0 counts as +0), as key_of in sample.wgsl. */
export function keyOf(x: number): number {
  scratchF[0] = x;
  const b = scratchU[0] === 0x80000000 ? 0 : scratchU[0];
  return (b & 0x80000000) !== 0 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
}

/** What one row's draw looked like, to judge whether a different GPU id is a rounding boundary case. */
export interface SampleTrace {
  id: number;
  /** the uniform in [0, 1); NaN for greedy */
  u: number;
  /** tokens kept by top-k and top-p */
  kept: Uint8Array;
  /** inclusive cumulative kept weight / total kept weight, per index (0 for greedy) */
  cdf: Float64Array;
  /** |mass - topP * topKMass| / topKMass at the two top-p candidate thresholds around the chosen one
   * (Infinity without top-p): a tiny margin means f32 sums may settle the threshold the other way */
  topPMargin: number;
}

export function sample(ids: Uint32Array, logits: Float32Array, opts: SampleOptions, B: number, V: number): void {
  if (logits.length < B * V || ids.length < B) throw new Error(`sample reference: logits ${logits.length} / ids ${ids.length} too short for B=${B} V=${V}`);
  for (let b = 0; b < B; b++) ids[b] = sampleRow(logits.subarray(b * V, (b + 1) * V), opts, b).id;
}

export function sampleRow(x: Float32Array, opts: SampleOptions, row: number): SampleTrace {
  const V = x.length;
  const sp = sampleParams(opts);
  // a non-finite logit: id 0xffffffff (outside every vocabulary), as sample.wgsl writes
  if (x.some((xi) => !Number.isFinite(xi))) return { id: 0xffffffff, u: NaN, kept: new Uint8Array(V), cdf: new Float64Array(V), topPMargin: Infinity };
  const keys = Array.from(x, keyOf);
  let imax = 0;
  for (let i = 1; i < V; i++) if (keys[i] > keys[imax]) imax = i;
  if (sp.greedy) {
    const kept = new Uint8Array(V);
    kept[imax] = 1;
    return { id: imax, u: NaN, kept, cdf: new Float64Array(V), topPMargin: Infinity };
  }
  const xmax = x[imax];
  // the same f32 argument as weight() in sample.wgsl, including its clamp for masked logits
  const w = Array.from(x, (xi) => Math.exp(Math.fround(Math.max(Math.fround(xi - xmax), MASK_CLAMP) * sp.invTemp)));

  // top-k: the k-th largest key (ascending sort, so it sits at V - k); without top-k, the smallest key
  let threshold = keys[0];
  if (opts.topK > 0 && opts.topK < V) threshold = Uint32Array.from(keys).sort()[V - opts.topK];
  else for (const k of keys) threshold = Math.min(threshold, k);

  // top-p: walk distinct values downwards, adding each value's whole mass, until the share reaches topP
  let topPMargin = Infinity;
  if (sp.usePTop) {
    const massByKey = new Map<number, number>();
    for (let i = 0; i < V; i++) if (keys[i] >= threshold) massByKey.set(keys[i], (massByKey.get(keys[i]) ?? 0) + w[i]);
    const distinct = [...massByKey.keys()].sort((a, b) => b - a);
    let total = 0;
    for (const k of distinct) total += massByKey.get(k)!;
    const target = sp.topP * total;
    let cum = 0;
    for (const k of distinct) {
      const before = cum;
      cum += massByKey.get(k)!;
      if (cum >= target) {
        threshold = k;
        topPMargin = Math.min(cum - target, before > 0 ? target - before : Infinity) / total;
        break;
      }
    }
    if (cum < target) threshold = distinct[distinct.length - 1]; // float rounding: keep the whole top-k set
  }

  const kept = new Uint8Array(V);
  let total = 0;
  for (let i = 0; i < V; i++) {
    if (keys[i] >= threshold) {
      kept[i] = 1;
      total += w[i];
    }
  }
  const u = sampleUniform(opts.seed, rowCounter(opts, row), rowWord(opts, row));
  const target = u * total;
  const cdf = new Float64Array(V);
  let c = 0;
  let id = -1;
  let lastPositive = imax;
  for (let i = 0; i < V; i++) {
    if (kept[i]) {
      c += w[i];
      if (w[i] > 0 && id < 0) lastPositive = i;
      if (id < 0 && c > target) id = i;
    }
    cdf[i] = c / total;
  }
  return { id: id < 0 ? lastPositive : id, u, kept, cdf, topPMargin };
}

/** How far (as a fraction of the kept mass) u lies from token j's CDF interval; Infinity if j is not kept. */
export function boundaryDistance(trace: SampleTrace, j: number): number {
  if (j < 0 || j >= trace.kept.length || !trace.kept[j]) return Infinity;
  const lo = j > 0 ? trace.cdf[j - 1] : 0;
  const hi = trace.cdf[j];
  if (trace.u < lo) return lo - trace.u;
  if (trace.u >= hi) return trace.u - hi;
  return 0;
}
