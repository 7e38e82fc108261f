import * as gpuK from '../../gpu/kernels/residual_add';
import * as ref from '../../reference/residual_add';
import { compare, type KernelCheck, type CaseResult } from '../check';
import { Rng, randn } from '../../util/random';

export const check: KernelCheck = {
  kernel: 'residual_add',
  async run(gpu) {
    const rng = new Rng(1);
    const results: CaseResult[] = [];
    for (const n of [1, 255, 257, 4099]) {
      const a = randn(n, rng);
      const b = randn(n, rng);
      const ta = gpu.upload(a, [n], 'a');
      const tb = gpu.upload(b, [n], 'b');
      const tout = gpu.tensor([n], 'out');
      gpuK.residualAdd(gpu, tout, ta, tb);
      const want = new Float32Array(n);
      ref.residualAdd(want, a, b);
      results.push(compare('residual_add', `N=${n}`, 'out', await gpu.read(tout), want));
      gpuK.residualAddInplace(gpu, ta, tb);
      const acc = a.slice();
      ref.residualAddInplace(acc, b);
      results.push(compare('residual_add_inplace', `N=${n}`, 'acc', await gpu.read(ta), acc));
      gpu.release(ta, tb, tout);
    }
    return results;
  },
};
