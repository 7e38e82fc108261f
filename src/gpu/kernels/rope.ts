// Host wrappers for rotary position embeddings (rope_forward.wgsl, rope_backward.wgsl) and the CPU helpers
// that compute their inverse frequencies (plain and Llama 3 scaled).
// UNFUSED REFERENCES: production dispatches rope_qk (rope_qk.ts) and rope_kv_cache_write instead of
// ropeForward / ropeBackward; these stay as what the fused kernels are checked against bit for bit
// (src/selftest). ropeParams and the inverse-frequency helpers here are used by production.
import forwardCode from '../../../shaders/rope_forward.wgsl?raw';
import backwardCode from '../../../shaders/rope_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import { expectShape, shapeString, type Tensor } from '../tensor';
import type { RopeConvention } from '../../ops/rope';

export type { RopeConvention } from '../../ops/rope';

const ROPE_PARAMS = { n_pairs: 'u32', n_heads: 'u32', head_dim: 'u32', convention: 'u32' } as const;
export const ROPE_FORWARD = defineKernel({
  name: 'rope_forward',
  source: forwardCode,
  params: ROPE_PARAMS,
  buffers: { x: 'read', positions: 'read', inv_freq: 'read', out: 'read_write' },
  unfusedReferenceOf: ['rope_qk_forward', 'rope_kv_cache_write'],
});
export const ROPE_BACKWARD = defineKernel({
  name: 'rope_backward',
  source: backwardCode,
  params: ROPE_PARAMS,
  buffers: { dout: 'read', positions: 'read', inv_freq: 'read', dx: 'read_write' },
  unfusedReferenceOf: ['rope_qk_backward'],
});

const CONVENTION_CODE: Record<RopeConvention, number> = { interleaved: 0, half: 1 };

/** Validates a rope call and returns its params [n_pairs, n_heads, head_dim, convention] (struct order). */
export function ropeParams(
  src: Tensor,
  dst: Tensor,
  positions: Tensor,
  invFreq: Tensor,
  nHeads: number,
  headDim: number,
  convention: RopeConvention,
): number[] {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
    throw new Error(`rope: headDim must be a positive even integer, got ${headDim}`);
  }
  if (!Number.isInteger(nHeads) || nHeads < 1) throw new Error(`rope: nHeads must be a positive integer, got ${nHeads}`);
  if (convention !== 'interleaved' && convention !== 'half') {
    throw new Error(`rope: unknown convention '${String(convention)}' (expected 'interleaved' or 'half')`);
  }
  const width = nHeads * headDim;
  const last = src.shape[src.shape.length - 1];
  if (src.shape.length < 1 || last !== width) {
    throw new Error(
      `${src.label}: expected rows of nHeads*headDim = ${nHeads}*${headDim} = ${width}, got ${shapeString(src)}`,
    );
  }
  expectShape(dst, src.shape);
  const N = src.size / width;
  if (positions.dtype !== 'u32') throw new Error(`${positions.label}: expected u32 positions, got ${positions.dtype}`);
  if (positions.size !== N) {
    throw new Error(
      `${positions.label}: expected ${N} positions (one per row of ${src.label}), got ${shapeString(positions)}`,
    );
  }
  expectShape(invFreq, [headDim / 2]);
  return [(N * width) / 2, nHeads, headDim, CONVENTION_CODE[convention]];
}

/** out = x rotated pairwise by pos * invFreq[i]: x, out (N, NH*HS) (rows = tokens, B*T flattened);
 * positions (N) u32; invFreq (HS/2). Overwrites out (which must not be x). */
export function ropeForward(
  gpu: GpuRuntime,
  out: Tensor,
  x: Tensor,
  positions: Tensor,
  invFreq: Tensor,
  nHeads: number,
  headDim: number,
  convention: RopeConvention,
): void {
  const [n_pairs, n_heads, head_dim, conv] = ropeParams(x, out, positions, invFreq, nHeads, headDim, convention);
  const params = { n_pairs, n_heads, head_dim, convention: conv };
  gpu.run(ROPE_FORWARD, { x, positions, inv_freq: invFreq, out }, params, grid(Math.ceil(n_pairs / 256)));
}

/** dx = rotation transposed applied to dout (overwrites dx, which must not be dout). Shapes as ropeForward. */
export function ropeBackward(
  gpu: GpuRuntime,
  dx: Tensor,
  dout: Tensor,
  positions: Tensor,
  invFreq: Tensor,
  nHeads: number,
  headDim: number,
  convention: RopeConvention,
): void {
  const [n_pairs, n_heads, head_dim, conv] = ropeParams(dout, dx, positions, invFreq, nHeads, headDim, convention);
  const params = { n_pairs, n_heads, head_dim, convention: conv };
  gpu.run(ROPE_BACKWARD, { dout, positions, inv_freq: invFreq, dx }, params, grid(Math.ceil(n_pairs / 256)));
}

/** invFreq[i] = 1 / theta^(2i / headDim), i < headDim/2 (computed in float64, rounded once to f32). */
export function ropeInvFreq(headDim: number, theta: number): Float32Array {
  if (!Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
    throw new Error(`ropeInvFreq: headDim must be a positive even integer, got ${headDim}`);
  }
  if (!(theta > 0)) throw new Error(`ropeInvFreq: theta must be positive, got ${theta}`);
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < out.length; i++) out[i] = 1 / Math.pow(theta, (2 * i) / headDim);
  return out;
}

/** Hugging Face's rope_scaling {"rope_type": "llama3"} fields. */
export interface Llama3RopeScaling {
  factor: number;
  low_freq_factor: number;
  high_freq_factor: number;
  original_max_position_embeddings: number;
}

/** Llama 3.1 style frequency scaling (transformers' `_compute_llama3_parameters`): wavelengths shorter than
 * original_max_position_embeddings / high_freq_factor keep their frequency, those longer than
 * original_max_position_embeddings / low_freq_factor are divided by factor, and those between interpolate
 * smoothly, with smooth = (original_max_position_embeddings / wavelen - low_freq_factor) /
 * (high_freq_factor - low_freq_factor). */
export function llama3InvFreq(headDim: number, theta: number, scaling: Llama3RopeScaling): Float32Array {
  const { factor, low_freq_factor: low, high_freq_factor: high, original_max_position_embeddings: oldContext } = scaling;
  if (!(factor > 0)) throw new Error(`llama3 rope scaling: factor must be positive, got ${factor}`);
  if (!(high > low)) {
    throw new Error(`llama3 rope scaling: high_freq_factor (${high}) must exceed low_freq_factor (${low})`);
  }
  if (!(oldContext > 0)) {
    throw new Error(`llama3 rope scaling: original_max_position_embeddings must be positive, got ${oldContext}`);
  }
  const base = ropeInvFreq(headDim, theta);
  const lowFreqWavelen = oldContext / low;
  const highFreqWavelen = oldContext / high;
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const f = base[i];
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) out[i] = f;
    else if (wavelen > lowFreqWavelen) out[i] = f / factor;
    else {
      const smooth = (oldContext / wavelen - low) / (high - low);
      out[i] = (1 - smooth) * (f / factor) + smooth * f;
    }
  }
  return out;
}
