import { swigluPackedForward } from '../../gpu/kernels/swiglu_packed';
import { swigluForward } from '../../gpu/kernels/swiglu';
import * as ref from '../../reference/swiglu_packed';
import { compare, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import type { GpuRuntime } from '../../gpu/runtime';
import { Rng, randn } from '../../util/random';

/** Fused against the kernels it replaces: bit for bit on software adapters (where it was checked); other
 * shader compilers may contract a * b + c into an fma differently per shader, so elsewhere within ~1 ulp. */
const sameAs = (gpu: GpuRuntime): Tolerance => (gpu.adapter.isSoftware ? { atol: 0, rtol: 0 } : { atol: 1e-6, rtol: 1e-6 });

const TOL = { atol: 1e-5, rtol: 1e-5 };

export const check: KernelCheck = {
  kernel: 'swiglu_packed',
  async run(gpu) {
    const rng = new Rng(43);
    const results: CaseResult[] = [];
    for (const [N, H] of [[1, 1], [3, 172], [16, 67], [2, 1536]] as const) {
      const gu = randn(N * 2 * H, rng, 3);
      const tGu = gpu.upload(gu, [N, 2 * H], 'gu');
      const tOut = gpu.tensor([N, H], 'out');
      swigluPackedForward(gpu, tOut, tGu);
      const want = new Float32Array(N * H);
      ref.swigluPackedForward(want, gu, N, H);
      const got = await gpu.read(tOut);
      results.push(compare('swiglu_packed_forward', `N=${N} H=${H}`, 'out', got, want, TOL));
      // bit-for-bit swiglu_forward on the unpacked halves
      const g = new Float32Array(N * H);
      const u = new Float32Array(N * H);
      for (let n = 0; n < N; n++) {
        g.set(gu.subarray(n * 2 * H, n * 2 * H + H), n * H);
        u.set(gu.subarray(n * 2 * H + H, (n + 1) * 2 * H), n * H);
      }
      const tG = gpu.upload(g, [N, H], 'gate');
      const tU = gpu.upload(u, [N, H], 'up');
      const tOut2 = gpu.tensor([N, H], 'out unfused');
      swigluForward(gpu, tOut2, tG, tU);
      results.push(compare('swiglu_packed_forward', `N=${N} H=${H} equals swiglu_forward`, 'out', got, await gpu.read(tOut2), sameAs(gpu)));
      gpu.release(tGu, tOut, tG, tU, tOut2);
    }
    return results;
  },
};
