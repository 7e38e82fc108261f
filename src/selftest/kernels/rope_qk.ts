import { ropeQkBackward, ropeQkForward } from '../../gpu/kernels/rope_qk';
import { ropeBackward, ropeForward, ropeInvFreq } from '../../gpu/kernels/rope';
import * as ref from '../../reference/rope_qk';
import { compare, merge, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import type { GpuRuntime } from '../../gpu/runtime';
import { Rng, randn, randInts } from '../../util/random';

/** Fused against the kernels it replaces: bit for bit on software adapters (where it was checked); other
 * shader compilers may contract a * b + c into an fma differently per shader, so elsewhere within ~1 ulp. */
const sameAs = (gpu: GpuRuntime): Tolerance => (gpu.adapter.isSoftware ? { atol: 0, rtol: 0 } : { atol: 1e-6, rtol: 1e-6 });

// as rope's checks
const TOL = { atol: 1e-5, rtol: 1e-5 };

export const check: KernelCheck = {
  kernel: 'rope_qk',
  async run(gpu) {
    const rng = new Rng(47);
    const results: CaseResult[] = [];
    // [N, NH, NKV, HS, theta, maxPos]: stories260K (8 / 4 heads of 8); SmolLM2 (9 / 3 heads of 64) at long
    // positions; the smallest heads
    for (const [N, NH, NKV, HS, theta, maxPos] of [
      [6, 8, 4, 8, 10000, 512],
      [5, 9, 3, 64, 100000, 8192],
      [1, 1, 1, 2, 10000, 4],
    ] as const) {
      const inv = ropeInvFreq(HS, theta);
      const positions = randInts(N, rng, maxPos);
      const q = randn(N * NH * HS, rng);
      const k = randn(N * NKV * HS, rng);
      const tQ = gpu.upload(q, [N, NH * HS], 'q');
      const tK = gpu.upload(k, [N, NKV * HS], 'k');
      const tPos = gpu.upload(positions, [N], 'positions', 'u32');
      const tInv = gpu.upload(inv, [HS / 2], 'inv_freq');
      const tQr = gpu.tensor([N, NH * HS], 'qr');
      const tKr = gpu.tensor([N, NKV * HS], 'kr');
      const tQ2 = gpu.tensor([N, NH * HS], 'q out (separate)');
      const tK2 = gpu.tensor([N, NKV * HS], 'k out (separate)');
      const dims = { NH, NKV, HS };
      for (const conv of ['interleaved', 'half'] as const) {
        const name = `N=${N} NH=${NH} NKV=${NKV} HS=${HS} positions<${maxPos} ${conv}`;
        for (const dir of ['forward', 'backward'] as const) {
          const kernel = `rope_qk_${dir}`;
          (dir === 'forward' ? ropeQkForward : ropeQkBackward)(gpu, tQr, tKr, tQ, tK, tPos, tInv, dims, conv);
          const wq = new Float32Array(N * NH * HS);
          const wk = new Float32Array(N * NKV * HS);
          (dir === 'forward' ? ref.ropeQkForward : ref.ropeQkBackward)(wq, wk, q, k, positions, inv, N, dims, conv);
          const gq = await gpu.read(tQr);
          const gk = await gpu.read(tKr);
          results.push(merge([compare(kernel, name, 'q', gq, wq, TOL), compare(kernel, name, 'k', gk, wk, TOL)]));
          // bit-for-bit the two single-tensor dispatches it replaces
          const single = dir === 'forward' ? ropeForward : ropeBackward;
          single(gpu, tQ2, tQ, tPos, tInv, NH, HS, conv);
          single(gpu, tK2, tK, tPos, tInv, NKV, HS, conv);
          const same = `${name} equals rope_${dir} on q and on k`;
          results.push(merge([compare(kernel, same, 'q', gq, await gpu.read(tQ2), sameAs(gpu)), compare(kernel, same, 'k', gk, await gpu.read(tK2), sameAs(gpu))]));
        }
      }
      gpu.release(tQ, tK, tPos, tInv, tQr, tKr, tQ2, tK2);
    }
    return results;
  },
};
