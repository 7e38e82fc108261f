import * as gpuK from '../../gpu/kernels/grpo_loss';
import * as ref from '../../reference/grpo_loss';
import { compare, merge, type CaseResult, type KernelCheck } from '../check';
import { Rng, randn } from '../../util/random';

export const check: KernelCheck = {
  kernel: 'grpo_loss',
  async run(gpu) {
    const rng = new Rng(7);
    const results: CaseResult[] = [];
    const cases = [
      { n: 1, beta: 0, useOld: false, eps: 0.2, epsHigh: 0.2 },
      { n: 300, beta: 0.04, useOld: true, eps: 0.2, epsHigh: 0.28 },
      { n: 1025, beta: 0, useOld: true, eps: 0.1, epsHigh: 0.1 },
    ];
    for (const c of cases) {
      const hp = { epsilon: c.eps, epsilonHigh: c.epsHigh, beta: c.beta };
      const logp = randn(c.n, rng, 1).map((x) => -Math.abs(x) - 0.1);
      // old log-probs within +-0.5 of logp so that some ratios fall outside the clip range and some inside
      const old = c.useOld ? logp.map((x) => x + (rng.uniform() - 0.5)) : null;
      const refLp = c.beta ? logp.map((x) => x + 0.3 * rng.normal()) : null;
      const adv = randn(c.n, rng);
      const weight = Float32Array.from({ length: c.n }, () => rng.uniform());
      const t = {
        logp: gpu.upload(logp, [c.n], 'logp'),
        old: old ? gpu.upload(old, [c.n], 'old_logp') : null,
        ref: refLp ? gpu.upload(refLp, [c.n], 'ref_logp') : null,
        adv: gpu.upload(adv, [c.n], 'adv'),
        weight: gpu.upload(weight, [c.n], 'weight'),
        out: gpu.tensor([4, c.n], 'out'),
        dlogp: gpu.tensor([c.n], 'dlogp'),
      };
      gpuK.grpoLossForward(gpu, t.out, t.logp, t.old, t.ref, t.adv, hp);
      gpuK.grpoLossBackward(gpu, t.dlogp, t.logp, t.old, t.ref, t.adv, t.weight, hp);
      const wantOut = new Float32Array(4 * c.n);
      ref.grpoLossForward(wantOut, logp, old, refLp, adv, hp);
      const wantD = new Float32Array(c.n);
      ref.grpoLossBackward(wantD, logp, old, refLp, adv, weight, hp);
      const name = `N=${c.n} beta=${c.beta} old=${c.useOld}`;
      results.push(merge([
        compare('grpo_loss_forward', name, 'out', await gpu.read(t.out), wantOut, { atol: 2e-5, rtol: 2e-5 }),
        compare('grpo_loss_backward', name, 'dlogp', await gpu.read(t.dlogp), wantD, { atol: 2e-5, rtol: 2e-5 }),
      ]));
      gpu.release(t.logp, t.old, t.ref, t.adv, t.weight, t.out, t.dlogp);
    }
    return results;
  },
};
