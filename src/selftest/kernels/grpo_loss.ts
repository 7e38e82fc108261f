import * as gpuK from '../../gpu/kernels/grpo_loss';
import * as ref from '../../reference/grpo_loss';
import { compare, merge, type CaseResult, type KernelCheck } from '../check';
import { Rng, randn } from '../../util/random';

/** Completions of random lengths laid out in a grid of rows of width T (with gaps, as packed batches have). */
function seqLayout(n: number, rng: Rng): Uint32Array {
  const seq = new Uint32Array(2 * n);
  let i = 0;
  while (i < n) {
    const gap = rng.int(3);
    i += gap;
    const len = Math.min(n - i, 1 + rng.int(12));
    const masked = rng.uniform() < 0.15; // a masked (truncated) completion: count 0
    for (let k = i; k < i + len; k++) {
      seq[2 * k] = i;
      seq[2 * k + 1] = masked ? 0 : len;
    }
    i += len;
  }
  return seq;
}

export const check: KernelCheck = {
  kernel: 'grpo_loss',
  async run(gpu) {
    const rng = new Rng(7);
    const results: CaseResult[] = [];
    type C = { n: number; beta: number; useOld: boolean; hp: Partial<gpuK.GrpoLossParams>; note?: string; entropyQ?: number };
    const cases: C[] = [
      { n: 1, beta: 0, useOld: false, hp: { epsilon: 0.2, epsilonHigh: 0.2 } },
      { n: 300, beta: 0.04, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 0.28 } },
      { n: 1025, beta: 0, useOld: true, hp: { epsilon: 0.1, epsilonHigh: 0.1 } },
      { n: 300, beta: 0.04, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 0.28, delta: 1.35 }, note: 'delta' },
      { n: 300, beta: 0.04, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 1.2, kind: 'cispo' }, note: 'cispo' },
      { n: 300, beta: 0.04, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 0.2, kind: 'sapo', sapoTemperaturePos: 1, sapoTemperatureNeg: 1.05 }, note: 'sapo' },
      { n: 300, beta: 0.04, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 0.28, importanceSamplingLevel: 'sequence' }, note: 'gspo' },
      { n: 300, beta: 0, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 1.5, kind: 'cispo', importanceSamplingLevel: 'sequence' }, note: 'cispo seq' },
      { n: 300, beta: 0.04, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 0.28 }, entropyQ: 0.3, note: 'entropy mask' },
      { n: 300, beta: 0, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 0.28, importanceSamplingLevel: 'sequence' }, entropyQ: 0.5, note: 'gspo entropy mask' },
      { n: 300, beta: 0.04, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 0.2, importanceSamplingLevel: 'sequence', sequenceSum: true }, note: 'rloo summed ratio' },
      { n: 300, beta: 0.04, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 0.2, kind: 'vespo', vespo: { kPos: 2, lambdaPos: 3, kNeg: 3, lambdaNeg: 2 } }, note: 'vespo' },
      { n: 300, beta: 0.04, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 0.28, offPolicyMaskThreshold: 0.05, biasCorrectionKl: true }, note: 'off-policy mask + bias-corrected KL' },
      { n: 300, beta: 0.04, useOld: true, hp: { epsilon: 0.2, epsilonHigh: 0.28, importanceSamplingLevel: 'sequence', offPolicyMaskThreshold: 0.05, biasCorrectionKl: true }, note: 'gspo off-policy mask + bias-corrected KL' },
    ];
    for (const c of cases) {
      const logp = randn(c.n, rng, 1).map((x) => -Math.abs(x) - 0.1);
      // old log-probs within +-0.5 of logp so that some ratios fall outside the clip range and some inside
      const old = c.useOld ? logp.map((x) => x + (rng.uniform() - 0.5)) : null;
      const refLp = c.beta ? logp.map((x) => x + 0.3 * rng.normal()) : null;
      const adv = randn(c.n, rng);
      const weightIn = Float32Array.from({ length: c.n }, () => rng.uniform());
      const entropy = Float32Array.from({ length: c.n }, () => 3 * rng.uniform());
      const seq = seqLayout(c.n, rng);
      // a fifth of the tokens out of the loss (a tool's inserted tokens): out of the sequence ratio too
      const mask = Float32Array.from({ length: c.n }, () => (rng.uniform() < 0.8 ? 1 : 0));
      // a token out of the loss has no weight (the backward reads the mask from weight > 0)
      const weight = weightIn.map((w, i) => w * mask[i]);
      const hp: gpuK.GrpoLossParams = { epsilon: 0.2, epsilonHigh: 0.2, beta: c.beta, ...c.hp, ...(c.entropyQ ? { entropyThreshold: Math.fround(3 * (1 - c.entropyQ)) } : {}) };
      const t = {
        logp: gpu.upload(logp, [c.n], 'logp'),
        old: old ? gpu.upload(old, [c.n], 'old_logp') : null,
        ref: refLp ? gpu.upload(refLp, [c.n], 'ref_logp') : null,
        adv: gpu.upload(adv, [c.n], 'adv'),
        weight: gpu.upload(weight, [c.n], 'weight'),
        entropy: gpu.upload(entropy, [c.n], 'entropy'),
        seq: gpu.upload(seq, [2 * c.n], 'seq', 'u32'),
        mask: gpu.upload(mask, [c.n], 'mask'),
        out: gpu.tensor([4, c.n], 'out'),
        dlogp: gpu.tensor([c.n], 'dlogp'),
      };
      const aux = { entropy: t.entropy, seq: t.seq, mask: t.mask };
      gpuK.grpoLossForward(gpu, t.out, t.logp, t.old, t.ref, t.adv, hp, aux);
      gpuK.grpoLossBackward(gpu, t.dlogp, t.logp, t.old, t.ref, t.adv, t.weight, hp, aux);
      const wantOut = new Float32Array(4 * c.n);
      ref.grpoLossForward(wantOut, logp, old, refLp, adv, hp, { entropy, seq, mask });
      const wantD = new Float32Array(c.n);
      ref.grpoLossBackward(wantD, logp, old, refLp, adv, weight, hp, { entropy, seq, mask });
      const name = `N=${c.n} beta=${c.beta} old=${c.useOld}${c.note ? ` ${c.note}` : ''}`;
      results.push(merge([
        compare('grpo_loss_forward', name, 'out', await gpu.read(t.out), wantOut, { atol: 2e-5, rtol: 2e-5 }),
        compare('grpo_loss_backward', name, 'dlogp', await gpu.read(t.dlogp), wantD, { atol: 2e-5, rtol: 2e-5 }),
      ]));
      gpu.release(t.logp, t.old, t.ref, t.adv, t.weight, t.entropy, t.seq, t.mask, t.out, t.dlogp);
    }
    return results;
  },
};
