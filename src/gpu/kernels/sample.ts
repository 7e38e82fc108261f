// Host wrapper for sample.wgsl: one token per row of logits (greedy, or temperature + top-k + top-p with a
// seeded Philox draw), without a readback.
import code from '../../../shaders/sample.wgsl?raw';
import { splitU64 } from '../../reference/philox';
import { f32, grid, type GpuRuntime } from '../runtime';
import type { KernelSpec } from '../pipeline_cache';
import { expectShape, type Tensor } from '../tensor';

const SAMPLE: KernelSpec = { name: 'sample', code, buffers: ['read', 'read_write'], hasParams: true };

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

/** Invocations per row: about 8 logits each, a power of two in [16, 256] (sample.wgsl's two-level
 * reductions need 16). Small rows get small workgroups: every pass ends in workgroup barriers, and on
 * software adapters a barrier costs in proportion to the workgroup size. */
export function sampleWorkgroupSize(V: number): number {
  let wg = 16;
  while (wg < 256 && wg * 8 < V) wg *= 2;
  return wg;
}

/** ids[b] = one token drawn from row b of logits (B, V); ids: (B) u32. Records one dispatch. */
export function sample(gpu: GpuRuntime, ids: Tensor, logits: Tensor, opts: SampleOptions): void {
  if (logits.shape.length !== 2) throw new Error(`sample logits (${logits.label}): expected shape [B, V], got [${logits.shape.join(', ')}]`);
  const [B, V] = logits.shape;
  if (logits.dtype !== 'f32') throw new Error(`sample logits (${logits.label}): expected f32, got ${logits.dtype}`);
  if (V < 1 || V >= 2 ** 24) throw new Error(`sample logits (${logits.label}): V must be in [1, 2^24), got ${V}`);
  expectShape(ids, [B], `sample ids (${ids.label})`);
  if (ids.dtype !== 'u32') throw new Error(`sample ids (${ids.label}): expected u32, got ${ids.dtype}`);
  const sp = sampleParams(opts);
  const topK = opts.topK > 0 && opts.topK < V ? opts.topK : 0;
  gpu.dispatch(SAMPLE, {
    buffers: [logits, ids],
    params: [
      B,
      V,
      sp.greedy ? 1 : 0,
      f32(sp.invTemp),
      topK,
      f32(sp.topP),
      sp.usePTop ? 1 : 0,
      sp.seed[0],
      sp.seed[1],
      sp.counter[0],
      sp.counter[1],
    ],
    workgroups: grid(B),
    overrides: { WG: sampleWorkgroupSize(V) },
  });
}
