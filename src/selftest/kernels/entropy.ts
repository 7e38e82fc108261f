import * as gpuK from '../../gpu/kernels/entropy';
import * as ref from '../../reference/entropy';
import { logprobGatherForward } from '../../reference/logprob_gather';
import { compare, type CaseResult, type KernelCheck } from '../check';
import { Rng, randn } from '../../util/random';

export const check: KernelCheck = {
  kernel: 'entropy_backward',
  async run(gpu) {
    const rng = new Rng(31);
    const results: CaseResult[] = [];
    for (const [n, v, temperature] of [[3, 7, 1], [5, 513, 0.7], [2, 3000, 1.3]] as const) {
      const logits = randn(n * v, rng, 2);
      const lp = new Float32Array(n);
      const entropy = new Float32Array(n);
      const lse = new Float32Array(n);
      logprobGatherForward(lp, entropy, lse, logits, new Uint32Array(n), temperature, n, v);
      const dentropy = Float32Array.from({ length: n }, (_, i) => (i === 1 ? 0 : rng.normal()));
      const dlogits = randn(n * v, rng, 0.1); // accumulated into
      const t = {
        logits: gpu.upload(logits, [n, v], 'logits'),
        lse: gpu.upload(lse, [n], 'lse'),
        entropy: gpu.upload(entropy, [n], 'entropy'),
        dentropy: gpu.upload(dentropy, [n], 'dentropy'),
        dlogits: gpu.upload(dlogits, [n, v], 'dlogits'),
      };
      gpuK.entropyBackward(gpu, t.dlogits, t.dentropy, t.logits, t.lse, t.entropy, temperature);
      const want = Float32Array.from(dlogits);
      ref.entropyBackward(want, dentropy, logits, lse, entropy, temperature, n, v);
      results.push(compare('entropy_backward', `N=${n} V=${v} T=${temperature}`, 'dlogits', await gpu.read(t.dlogits), want, { atol: 1e-6, rtol: 1e-4 }));
      gpu.release(t.logits, t.lse, t.entropy, t.dentropy, t.dlogits);
    }
    return results;
  },
};
