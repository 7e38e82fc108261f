// Host wrapper for sample.wgsl: one token per row of logits (greedy, or temperature + top-k + top-p with a
// seeded Philox draw), without a readback.
import code from '../../../shaders/sample.wgsl?raw';
import { splitU64 } from '../../reference/philox';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, type Tensor } from '../tensor';

export const SAMPLE = defineKernel({
  name: 'sample',
  source: code,
  params: {
    B: 'u32', V: 'u32', greedy: 'u32', invTemp: 'f32', topK: 'u32', topP: 'f32', usePTop: 'u32',
    seedLo: 'u32', seedHi: 'u32', ctrLo: 'u32', ctrHi: 'u32',
  },
  buffers: { logits: 'read', ids: 'read_write' },
});

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
  gpu.run(
    SAMPLE,
    { logits, ids },
    {
      B,
      V,
      greedy: sp.greedy ? 1 : 0,
      invTemp: sp.invTemp,
      topK,
      topP: sp.topP,
      usePTop: sp.usePTop ? 1 : 0,
      seedLo: sp.seed[0],
      seedHi: sp.seed[1],
      ctrLo: sp.counter[0],
      ctrHi: sp.counter[1],
    },
    grid(B),
    { WG: sampleWorkgroupSize(V) },
  );
}
