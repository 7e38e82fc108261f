// scale_forward and scale_backward, each overwriting and accumulating, against the CPU reference.
import * as gpuK from '../../gpu/kernels/scale';
import * as ref from '../../reference/scale';
import { compare, merge, type CaseResult, type KernelCheck } from '../check';
import { Rng, randn } from '../../util/random';

export const check: KernelCheck = {
  kernel: 'scale',
  async run(gpu) {
    const rng = new Rng(41);
    const results: CaseResult[] = [];
    for (const [n, alpha, accumulate] of [[1, 0.5, false], [1000, -1.7, true], [4099, 3.25, false], [257, 0, true]] as const) {
      const x = randn(n, rng);
      const d = randn(n, rng);
      const acc = randn(n, rng);
      const tx = gpu.upload(x, [n], 'x');
      const prior = randn(n, rng);
      const tout = gpu.upload(prior, [n], 'out');
      const td = gpu.upload(d, [n], 'dout');
      const tdx = gpu.upload(acc, [n], 'dx');
      gpuK.scaleForward(gpu, tout, tx, alpha, accumulate);
      gpuK.scaleBackward(gpu, tdx, td, alpha, accumulate);
      const wantOut = prior.slice();
      ref.scaleForward(wantOut, x, alpha, accumulate);
      const wantDx = acc.slice();
      ref.scaleBackward(wantDx, d, alpha, accumulate);
      const name = `n=${n} alpha=${alpha}${accumulate ? ' accumulate' : ''}`;
      results.push(merge([
        compare('scale_forward', name, 'out', await gpu.read(tout), wantOut, { atol: 1e-6, rtol: 1e-6 }),
        compare('scale_backward', name, 'dx', await gpu.read(tdx), wantDx, { atol: 1e-6, rtol: 1e-6 }),
      ]));
      gpu.release(tx, tout, td, tdx);
    }
    return results;
  },
};
