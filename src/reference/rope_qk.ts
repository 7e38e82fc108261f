// CPU reference of rope_qk_forward.wgsl and rope_qk_backward.wgsl (same argument order as
// src/gpu/kernels/rope_qk.ts, with the row count N explicit): the rope reference on q and on k.
import type { RopeConvention } from '../ops/rope';
import { ropeBackward, ropeForward } from './rope';

type Floats = Float32Array | Float64Array;

export function ropeQkForward(
  qr: Floats, kr: Floats, q: Floats, k: Floats, positions: Uint32Array, invFreq: Floats, N: number,
  dims: { NH: number; NKV: number; HS: number }, convention: RopeConvention,
): void {
  ropeForward(qr, q, positions, invFreq, N, dims.NH, dims.HS, convention);
  ropeForward(kr, k, positions, invFreq, N, dims.NKV, dims.HS, convention);
}

/** Overwrites dq and dk. */
export function ropeQkBackward(
  dq: Floats, dk: Floats, dqr: Floats, dkr: Floats, positions: Uint32Array, invFreq: Floats, N: number,
  dims: { NH: number; NKV: number; HS: number }, convention: RopeConvention,
): void {
  ropeBackward(dq, dqr, positions, invFreq, N, dims.NH, dims.HS, convention);
  ropeBackward(dk, dkr, positions, invFreq, N, dims.NKV, dims.HS, convention);
}
