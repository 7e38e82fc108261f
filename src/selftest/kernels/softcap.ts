// softcap_forward and softcap_backward against the CPU reference (src/reference/softcap.ts): sizes that are and
// are not multiples of the workgroup, large logits past the cap, and small caps.
import * as gpuK from '../../gpu/kernels/softcap';
import * as ref from '../../reference/softcap';
import { compare, merge, type CaseResult, type KernelCheck } from '../check';
import { Rng, randn } from '../../util/random';

export const check: KernelCheck = {
  kernel: 'softcap',
  async run(gpu) {
    const rng = new Rng(31);
    const results: CaseResult[] = [];
    for (const [n, cap, spread] of [[1, 30, 1], [1000, 30, 60], [4099, 3, 10], [257, 0.5, 200]] as const) {
      const x = randn(n, rng, spread);
      const d = randn(n, rng);
      const tx = gpu.upload(x, [n], 'x');
      const tout = gpu.tensor([n], 'out');
      const td = gpu.upload(d, [n], 'dout');
      const tdx = gpu.upload(new Float32Array(n).fill(7), [n], 'dx');
      gpuK.softcapForward(gpu, tout, tx, cap);
      gpuK.softcapBackward(gpu, tdx, td, tx, cap);
      const wantOut = new Float32Array(n);
      ref.softcapForward(wantOut, x, cap);
      const wantDx = new Float32Array(n);
      ref.softcapBackward(wantDx, d, x, cap);
      const name = `n=${n} cap=${cap}`;
      results.push(merge([
        compare('softcap_forward', name, 'out', await gpu.read(tout), wantOut, { atol: 1e-5 * cap, rtol: 1e-5 }),
        compare('softcap_backward', name, 'dx', await gpu.read(tdx), wantDx, { atol: 1e-6, rtol: 1e-5 }),
      ]));
      gpu.release(tx, tout, td, tdx);
    }
    return results;
  },
};
