import * as gpuK from '../../gpu/kernels/add_rmsnorm';
import { residualAdd } from '../../gpu/kernels/residual_add';
import { rmsnormBackward, rmsnormForward } from '../../gpu/kernels/rmsnorm';
import * as ref from '../../reference/add_rmsnorm';
import { compare, merge, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import type { GpuRuntime } from '../../gpu/runtime';
import { Rng, randn } from '../../util/random';

/** Fused against the kernels it replaces: bit for bit on software adapters (where it was checked); other
 * shader compilers may contract a * b + c into an fma differently per shader, so elsewhere within ~1 ulp. */
const sameAs = (gpu: GpuRuntime): Tolerance => (gpu.adapter.isSoftware ? { atol: 0, rtol: 0 } : { atol: 1e-6, rtol: 1e-6 });

// As rmsnorm's checks: f32 row reductions against float64 sums.
const TOL = { atol: 2e-5, rtol: 2e-5 };
const EXACT = { atol: 0, rtol: 0 };

export const check: KernelCheck = {
  kernel: 'add_rmsnorm',
  async run(gpu) {
    const rng = new Rng(31);
    const results: CaseResult[] = [];
    const eps = 1e-5;
    // single rows; C off the workgroup size (7, 172) and on it (64); SmolLM2's 576; many rows
    for (const [N, C] of [[1, 7], [1, 576], [5, 64], [33, 172], [130, 20]] as const) {
      const a = randn(N * C, rng);
      const b = randn(N * C, rng);
      const weight = randn(C, rng, 0.5).map((w) => w + 1);
      const dh = randn(N * C, rng);
      const dout = randn(N * C, rng);
      const tA = gpu.upload(a, [N, C], 'a');
      const tB = gpu.upload(b, [N, C], 'b');
      const tW = gpu.upload(weight, [C], 'weight');
      const tH = gpu.tensor([N, C], 'h');
      const tOut = gpu.tensor([N, C], 'out');
      const tRstd = gpu.tensor([N], 'rstd');
      const name = `N=${N} C=${C}`;

      gpuK.addRmsnormForward(gpu, tH, tOut, tRstd, tA, tB, tW, eps);
      const h = new Float32Array(N * C);
      const out = new Float32Array(N * C);
      const rstd = new Float32Array(N);
      ref.addRmsnormForward(h, out, rstd, a, b, weight, N, C, eps);
      const [gotH, gotOut, gotRstd] = [await gpu.read(tH), await gpu.read(tOut), await gpu.read(tRstd)];
      results.push(merge([
        compare('add_rmsnorm_forward', name, 'h', gotH, h, EXACT),
        compare('add_rmsnorm_forward', name, 'out', gotOut, out, TOL),
        compare('add_rmsnorm_forward', name, 'rstd', gotRstd, rstd, TOL),
      ]));

      // the fused kernel is bit-for-bit the two kernels it replaces (greedy decoding must not change)
      const tH2 = gpu.tensor([N, C], 'h unfused');
      const tOut2 = gpu.tensor([N, C], 'out unfused');
      const tRstd2 = gpu.tensor([N], 'rstd unfused');
      residualAdd(gpu, tH2, tA, tB);
      rmsnormForward(gpu, tOut2, tRstd2, tH2, tW, eps);
      results.push(merge([
        compare('add_rmsnorm_forward', `${name} equals residual_add + rmsnorm_forward`, 'h', gotH, await gpu.read(tH2), sameAs(gpu)),
        compare('add_rmsnorm_forward', `${name} equals residual_add + rmsnorm_forward`, 'out', gotOut, await gpu.read(tOut2), sameAs(gpu)),
        compare('add_rmsnorm_forward', `${name} equals residual_add + rmsnorm_forward`, 'rstd', gotRstd, await gpu.read(tRstd2), sameAs(gpu)),
      ]));

      // backward: rmsnorm_backward on the saved h and rstd, accumulating into the residual gradient dh
      const tGrad = gpu.upload(dh, [N, C], 'residual grad');
      const tDout = gpu.upload(dout, [N, C], 'dout');
      const tDw = gpu.zeros([C], 'dweight');
      rmsnormBackward(gpu, tGrad, tDw, tDout, tH, tW, tRstd);
      const da = new Float32Array(N * C);
      const db = new Float32Array(N * C);
      const dweight = new Float32Array(C);
      ref.addRmsnormBackward(da, db, dweight, dh, dout, h, weight, rstd, N, C);
      results.push(merge([
        compare('add_rmsnorm_backward', `${name} (rmsnorm_backward into the residual gradient)`, 'da = db', await gpu.read(tGrad), da, TOL),
        compare('add_rmsnorm_backward', name, 'dweight', await gpu.read(tDw), dweight, TOL),
      ]));
      gpu.release(tA, tB, tW, tH, tOut, tRstd, tH2, tOut2, tRstd2, tGrad, tDout, tDw);
    }
    {
      const x = gpu.tensor([3, 4], 'x');
      const y = gpu.tensor([3, 4], 'y');
      const out = gpu.tensor([3, 4], 'out');
      const rstd = gpu.tensor([3], 'rstd');
      const w = gpu.tensor([4], 'weight');
      let message = 'no error';
      try {
        gpuK.addRmsnormForward(gpu, x, out, rstd, x, y, w, 1e-5);
      } catch (e) {
        message = (e as Error).message;
      }
      const ok = /^add_rmsnorm_forward: x is also x/.test(message);
      results.push({ kernel: 'add_rmsnorm_forward', case: 'rejects h aliasing an input', ok, maxAbsErr: 0, mismatches: ok ? [] : [message] });
      gpu.release(x, y, out, rstd, w);
    }
    return results;
  },
};
