// CPU reference of dropout_forward.wgsl / dropout_backward.wgsl (same argument order as the host wrappers):
// element i is kept when u(i) >= p, u(i) = the top 24 bits of Philox4x32-10 word 0 for counter
// (i, stream[0], stream[1], stream[2]) under key (seed, DROPOUT_KEY_HI), times 2^-24.
import type { DropoutMask } from '../ops/dropout';
import { philox4x32 } from './philox';

/** Philox key word 1 of every dropout mask ("DROP"): above 2^21, so never a sampling key (sampling seeds
 * are below 2^53). Must equal the shaders' DROPOUT_KEY_HI. */
export const DROPOUT_KEY_HI = 0x44524f50;

/** The scale element i is multiplied by: 0 (dropped) or 1 / (1 - p) (kept). */
export function keepScale(i: number, m: DropoutMask): number {
  const r = philox4x32([i >>> 0, m.stream[0], m.stream[1], m.stream[2]], [m.seed, DROPOUT_KEY_HI])[0];
  const u = (r >>> 8) / 16777216;
  const p = Math.fround(m.p); // the kernel compares in f32
  return u >= p ? Math.fround(1 / (1 - p)) : 0;
}

export function dropoutForward(out: Float32Array | Float64Array, x: Float32Array | Float64Array, m: DropoutMask): void {
  for (let i = 0; i < x.length; i++) out[i] = x[i] * keepScale(i, m);
}

export function dropoutBackward(dx: Float32Array | Float64Array, dout: Float32Array | Float64Array, m: DropoutMask): void {
  for (let i = 0; i < dout.length; i++) dx[i] += dout[i] * keepScale(i, m);
}
