// Host wrappers for rope_qk_forward.wgsl and rope_qk_backward.wgsl: RoPE of q and k (or of their
// gradients) in one dispatch, bit-for-bit two ropeForward / ropeBackward calls.
import forwardCode from '../../../shaders/rope_qk_forward.wgsl?raw';
import backwardCode from '../../../shaders/rope_qk_backward.wgsl?raw';
import { grid, type GpuRuntime } from '../runtime';
import { defineKernel } from '../kernel';
import type { Tensor } from '../tensor';
import { ropeParams, type RopeConvention } from './rope';
import { elementwiseWorkgroupSize } from './elementwise';

const ROPE_QK_PARAMS = {
  q_pairs: 'u32', k_pairs: 'u32', n_q_heads: 'u32', n_k_heads: 'u32', head_dim: 'u32', convention: 'u32',
} as const;
export const ROPE_QK_FORWARD = defineKernel({
  name: 'rope_qk_forward',
  source: forwardCode,
  params: ROPE_QK_PARAMS,
  buffers: { q: 'read', k: 'read', positions: 'read', inv_freq: 'read', qr: 'read_write', kr: 'read_write' },
});
export const ROPE_QK_BACKWARD = defineKernel({
  name: 'rope_qk_backward',
  source: backwardCode,
  params: ROPE_QK_PARAMS,
  buffers: { dqr: 'read', dkr: 'read', positions: 'read', inv_freq: 'read', dq: 'read_write', dk: 'read_write' },
});

/** Heads of q and of k, and the head size, of a ropeQk call. */
export interface RopeQkDims {
  NH: number;
  NKV: number;
  HS: number;
}

function dispatchQk(
  gpu: GpuRuntime, dir: 'forward' | 'backward', outQ: Tensor, outK: Tensor, inQ: Tensor, inK: Tensor, positions: Tensor,
  invFreq: Tensor, d: RopeQkDims, convention: RopeConvention,
): void {
  const name = dir === 'forward' ? ROPE_QK_FORWARD.name : ROPE_QK_BACKWARD.name;
  const pq = ropeParams(inQ, outQ, positions, invFreq, d.NH, d.HS, convention);
  const pk = ropeParams(inK, outK, positions, invFreq, d.NKV, d.HS, convention);
  const all = [inQ, inK, positions, invFreq, outQ, outK];
  for (const o of [outQ, outK]) {
    if (all.some((t) => t !== o && t.buffer === o.buffer)) {
      throw new Error(`${name}: ${o.label} shares its buffer with another argument; outputs need their own tensors`);
    }
  }
  const n = pq[0] + pk[0];
  const wg = elementwiseWorkgroupSize(gpu);
  const params = { q_pairs: pq[0], k_pairs: pk[0], n_q_heads: d.NH, n_k_heads: d.NKV, head_dim: d.HS, convention: pq[3] };
  const workgroups = grid(Math.ceil(n / wg));
  if (dir === 'forward') {
    gpu.run(ROPE_QK_FORWARD, { q: inQ, k: inK, positions, inv_freq: invFreq, qr: outQ, kr: outK }, params, workgroups, { WG: wg });
  } else {
    gpu.run(ROPE_QK_BACKWARD, { dqr: inQ, dkr: inK, positions, inv_freq: invFreq, dq: outQ, dk: outK }, params, workgroups, { WG: wg });
  }
}

/** qr = rope(q), kr = rope(k): q, qr (N, NH*HS); k, kr (N, NKV*HS); positions (N) u32; invFreq (HS/2).
 * Overwrites qr and kr. */
export function ropeQkForward(
  gpu: GpuRuntime, qr: Tensor, kr: Tensor, q: Tensor, k: Tensor, positions: Tensor, invFreq: Tensor,
  dims: RopeQkDims, convention: RopeConvention,
): void {
  dispatchQk(gpu, 'forward', qr, kr, q, k, positions, invFreq, dims, convention);
}

/** dq, dk = the transposed rotations of dqr, dkr (overwrites dq and dk). Shapes as ropeQkForward. */
export function ropeQkBackward(
  gpu: GpuRuntime, dq: Tensor, dk: Tensor, dqr: Tensor, dkr: Tensor, positions: Tensor, invFreq: Tensor,
  dims: RopeQkDims, convention: RopeConvention,
): void {
  dispatchQk(gpu, 'backward', dq, dk, dqr, dkr, positions, invFreq, dims, convention);
}
