import * as gpuK from '../../gpu/kernels/dropout';
import * as ref from '../../reference/dropout';
import { compare, merge, type CaseResult, type KernelCheck } from '../check';
import { Rng, randn } from '../../util/random';

export const check: KernelCheck = {
  kernel: 'dropout',
  async run(gpu) {
    const rng = new Rng(21);
    const results: CaseResult[] = [];
    const cases = [[1, 0.5, 1, [0, 0, 0]], [1000, 0.1, 7, [3, 0, 9]], [4099, 0.3, 0xffffffff, [123456, 0xfffff, 0xffffffff]], [300, 0, 5, [5, 5, 5]]] as const;
    for (const [n, p, seed, stream] of cases) {
      const mask = { p, seed, stream };
      const x = randn(n, rng);
      const d = randn(n, rng);
      const acc = randn(n, rng);
      const tx = gpu.upload(x, [n], 'x');
      const tout = gpu.tensor([n], 'out');
      const td = gpu.upload(d, [n], 'dout');
      const tacc = gpu.upload(acc, [n], 'dx');
      gpuK.dropoutForward(gpu, tout, tx, mask);
      gpuK.dropoutBackward(gpu, tacc, td, mask);
      const wantOut = new Float32Array(n);
      ref.dropoutForward(wantOut, x, mask);
      const wantDx = acc.slice();
      ref.dropoutBackward(wantDx, d, mask);
      const name = `N=${n} p=${p}`;
      results.push(merge([
        compare('dropout_forward', name, 'out', await gpu.read(tout), wantOut, { atol: 1e-6, rtol: 1e-6 }),
        compare('dropout_backward', name, 'dx', await gpu.read(tacc), wantDx, { atol: 1e-6, rtol: 1e-6 }),
      ]));
      gpu.release(tx, tout, td, tacc);
    }
    return results;
  },
};
