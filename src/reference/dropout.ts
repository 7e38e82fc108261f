// CPU reference of dropout_forward.wgsl / dropout_backward.wgsl (same argument order as the host wrappers).
import type { DropoutMask } from '../ops/dropout';

export function pcg(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The scale element i is multiplied by: 0 (dropped) or 1 / (1 - p) (kept). */
export function keepScale(i: number, m: DropoutMask): number {
  const u = (pcg((pcg((pcg(m.seed) ^ m.counter) >>> 0) ^ i) >>> 0) >>> 8) / 16777216;
  return u >= m.p ? Math.fround(1 / (1 - Math.fround(m.p))) : 0;
}

export function dropoutForward(out: Float32Array | Float64Array, x: Float32Array | Float64Array, m: DropoutMask): void {
  for (let i = 0; i < x.length; i++) out[i] = x[i] * keepScale(i, m);
}

export function dropoutBackward(dx: Float32Array | Float64Array, dout: Float32Array | Float64Array, m: DropoutMask): void {
  for (let i = 0; i < dout.length; i++) dx[i] += dout[i] * keepScale(i, m);
}
