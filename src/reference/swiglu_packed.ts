// CPU reference of swiglu_packed_forward.wgsl (same argument order as src/gpu/kernels/swiglu_packed.ts).
import { sigmoid } from './swiglu';

type Floats = Float32Array | Float64Array;

/** out[n, j] = silu(gu[n, j]) * gu[n, H + j]; gu (N, 2H), out (N, H). */
export function swigluPackedForward(out: Floats, gu: Floats, N: number, H: number): void {
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < H; j++) {
      const g = gu[n * 2 * H + j];
      out[n * H + j] = g * sigmoid(g) * gu[n * 2 * H + H + j];
    }
  }
}
