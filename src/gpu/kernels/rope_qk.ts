// Host wrappers for rope_qk_forward.wgsl and rope_qk_backward.wgsl: RoPE of q and k (or of their
// gradients) in one dispatch, bit-for-bit two ropeForward / ropeBackward calls.
import forwardCode from '../../../shaders/rope_qk_forward.wgsl?raw';
import backwardCode from '../../../shaders/rope_qk_backward.wgsl?raw';
import { withCosSin } from './rope_cos_sin';
import { grid, type GpuRuntime } from '../runtime';
import type { KernelSpec } from '../pipeline_cache';
import type { Tensor } from '../tensor';
import { ropeParams, type RopeConvention } from './rope';
import { elementwiseWorkgroupSize } from './residual_add';

const BUFFERS = ['read', 'read', 'read', 'read', 'read_write', 'read_write'] as const;
const FORWARD: KernelSpec = { name: 'rope_qk_forward', code: withCosSin(forwardCode), buffers: BUFFERS, hasParams: true };
const BACKWARD: KernelSpec = { name: 'rope_qk_backward', code: withCosSin(backwardCode), buffers: BUFFERS, hasParams: true };

/** Heads of q and of k, and the head size, of a ropeQk call. */
export interface RopeQkDims {
  NH: number;
  NKV: number;
  HS: number;
}

function dispatchQk(
  gpu: GpuRuntime, spec: KernelSpec, outQ: Tensor, outK: Tensor, inQ: Tensor, inK: Tensor, positions: Tensor,
  invFreq: Tensor, d: RopeQkDims, convention: RopeConvention,
): void {
  const pq = ropeParams(inQ, outQ, positions, invFreq, d.NH, d.HS, convention);
  const pk = ropeParams(inK, outK, positions, invFreq, d.NKV, d.HS, convention);
  const all = [inQ, inK, positions, invFreq, outQ, outK];
  for (const o of [outQ, outK]) {
    if (all.some((t) => t !== o && t.buffer === o.buffer)) {
      throw new Error(`${spec.name}: ${o.label} shares its buffer with another argument; outputs need their own tensors`);
    }
  }
  const n = pq[0] + pk[0];
  const wg = elementwiseWorkgroupSize(gpu);
  gpu.dispatch(spec, {
    buffers: [inQ, inK, positions, invFreq, outQ, outK],
    params: [pq[0], pk[0], d.NH, d.NKV, d.HS, pq[3]],
    workgroups: grid(Math.ceil(n / wg)),
    overrides: { WG: wg },
  });
}

/** qr = rope(q), kr = rope(k): q, qr (N, NH*HS); k, kr (N, NKV*HS); positions (N) u32; invFreq (HS/2).
 * Overwrites qr and kr. */
export function ropeQkForward(
  gpu: GpuRuntime, qr: Tensor, kr: Tensor, q: Tensor, k: Tensor, positions: Tensor, invFreq: Tensor,
  dims: RopeQkDims, convention: RopeConvention,
): void {
  dispatchQk(gpu, FORWARD, qr, kr, q, k, positions, invFreq, dims, convention);
}

/** dq, dk = the transposed rotations of dqr, dkr (overwrites dq and dk). Shapes as ropeQkForward. */
export function ropeQkBackward(
  gpu: GpuRuntime, dq: Tensor, dk: Tensor, dqr: Tensor, dkr: Tensor, positions: Tensor, invFreq: Tensor,
  dims: RopeQkDims, convention: RopeConvention,
): void {
  dispatchQk(gpu, BACKWARD, dq, dk, dqr, dkr, positions, invFreq, dims, convention);
}
