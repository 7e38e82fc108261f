import * as gpuK from '../../gpu/kernels/rmsnorm';
import * as ref from '../../reference/rmsnorm';
import { compare, merge, rejects, type KernelCheck, type CaseResult } from '../check';
import { Rng, randn } from '../../util/random';

// f32 reductions (rows of up to 576 terms, dweight over up to 130 rows) against float64 sums: errors seen
// are below 4e-6; other GPUs sum in other orders.
const TOL = { atol: 2e-5, rtol: 2e-5 };

export const check: KernelCheck = {
  kernel: 'rmsnorm',
  async run(gpu) {
    const rng = new Rng(3);
    const results: CaseResult[] = [];
    const eps = 1e-5;
    // [N, C, with dweight]: single rows; C off the workgroup size (7, 172) and on it (64); SmolLM2's 576;
    // N over one 64-row dweight chunk (130 rows = 3 chunks, the last partial); one case without dweight.
    // offset 1: Gemma's x * (1 + w) with weights around 0 (also per-head q/k norms of HS = 8).
    for (const [N, C, withDweight, offset] of [
      [1, 7, 1, 0],
      [1, 576, 1, 0],
      [5, 64, 1, 0],
      [33, 172, 1, 0],
      [130, 20, 1, 0],
      [9, 576, 0, 0],
      [24, 8, 1, 1],
      [5, 64, 0, 1],
    ] as const) {
      const x = randn(N * C, rng);
      const weight = randn(C, rng, 0.5);
      if (offset === 0) for (let c = 0; c < C; c++) weight[c] += 1;
      const dout = randn(N * C, rng);
      const dx0 = randn(N * C, rng, 0.5);
      const dweight0 = randn(C, rng, 0.5);
      const tX = gpu.upload(x, [N, C], 'x');
      const tW = gpu.upload(weight, [C], 'weight');
      const tOut = gpu.tensor([N, C], 'out');
      const tRstd = gpu.tensor([N], 'rstd');
      const tDout = gpu.upload(dout, [N, C], 'dout');
      const tDx = gpu.upload(dx0, [N, C], 'dx');
      const tDw = withDweight ? gpu.upload(dweight0, [C], 'dweight') : null;
      const name = `N=${N} C=${C}${withDweight ? '' : ' no dweight'}${offset ? ' (1 + w)' : ''}`;

      gpuK.rmsnormForward(gpu, tOut, tRstd, tX, tW, eps, offset);
      const out = new Float32Array(N * C);
      const rstd = new Float32Array(N);
      ref.rmsnormForward(out, rstd, x, weight, N, C, eps, offset);
      results.push(
        merge([
          compare('rmsnorm_forward', name, 'out', await gpu.read(tOut), out, TOL),
          compare('rmsnorm_forward', name, 'rstd', await gpu.read(tRstd), rstd, TOL),
        ]),
      );

      gpuK.rmsnormBackward(gpu, tDx, tDw, tDout, tX, tW, tRstd, offset);
      const dx = dx0.slice();
      const dweight = withDweight ? dweight0.slice() : null;
      ref.rmsnormBackward(dx, dweight, dout, x, weight, rstd, N, C, offset);
      const backward = [compare('rmsnorm_backward', `${name} (+= onto non-zero grads)`, 'dx', await gpu.read(tDx), dx, TOL)];
      if (tDw && dweight) backward.push(compare('rmsnorm_backward', name, 'dweight', await gpu.read(tDw), dweight, TOL));
      results.push(merge(backward));
      gpu.release(tX, tW, tOut, tRstd, tDout, tDx, tDw);
    }
    {
      const x = gpu.tensor([3, 4], 'x');
      const out = gpu.tensor([3, 4], 'out');
      const rstd = gpu.tensor([3], 'rstd');
      const short = gpu.tensor([2], 'short rstd');
      const weight = gpu.tensor([5], 'weight');
      const weight4 = gpu.tensor([4], 'weight4');
      results.push(rejects('rmsnorm_forward', 'rejects a weight of the wrong size', /^weight: expected shape \[4\]/, () =>
        gpuK.rmsnormForward(gpu, out, rstd, x, weight, 1e-5)));
      results.push(rejects('rmsnorm_backward', 'rejects rstd of the wrong size', /^short rstd: expected 3 elements/, () =>
        gpuK.rmsnormBackward(gpu, out, null, out, x, weight4, short)));
      gpu.release(x, out, rstd, short, weight, weight4);
    }
    return results;
  },
};
