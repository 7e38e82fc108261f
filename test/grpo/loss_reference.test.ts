// The GRPO loss as the trainer computes it (per-token GPU kernel + loss_type weights) against an
// independent, TRL-style CPU formula written from the papers: every loss_type and scale_rewards setting,
// old log-probs that put ratios outside the clip range (num_iterations > 1), beta > 0, and truncated
// completions masked. Also the gradient with respect to every log-prob, by finite differences.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { grpoLossBackward, grpoLossForward } from '../../src/gpu/kernels/grpo_loss';
import { sequenceWeights, type LossType } from '../../src/grpo/loss_weights';
import { computeAdvantages, type ScaleRewards } from '../../src/grpo/advantages';
import { Rng } from '../../src/util/random';

interface Seq { logp: number[]; old: number[]; ref: number[]; reward: number; truncated: boolean }

const EPS = 0.2;
const EPS_HIGH = 0.28;
const BETA = 0.05;
const MAX_LEN = 6;

/** TRL-style: per-token loss, masked, aggregated per micro-batch; GA micro-batches averaged (dapo: global). */
function trlLoss(mbs: Seq[][], adv: number[][], lossType: LossType, maskTruncated: boolean): number {
  const mask = (s: Seq): number[] => s.logp.map(() => (maskTruncated && s.truncated ? 0 : 1));
  const GA = mbs.length;
  const allActive = mbs.flat().reduce((a, s) => a + mask(s).reduce((x, y) => x + y, 0), 0);
  let total = 0;
  mbs.forEach((mb, m) => {
    const ptl = mb.map((s, i) => s.logp.map((lp, t) => {
      const rho = Math.exp(lp - s.old[t]);
      const A = adv[m][i];
      const pg = -Math.min(rho * A, Math.min(Math.max(rho, 1 - EPS), 1 + EPS_HIGH) * A);
      const d = s.ref[t] - lp;
      return pg + BETA * (Math.exp(d) - d - 1);
    }));
    const masks = mb.map(mask);
    const sum = (i: number) => ptl[i].reduce((a, l, t) => a + l * masks[i][t], 0);
    const cnt = (i: number) => masks[i].reduce((a, b) => a + b, 0);
    let mbLoss: number;
    if (lossType === 'grpo') mbLoss = mb.reduce((a, _, i) => a + sum(i) / Math.max(cnt(i), 1), 0) / mb.length;
    else if (lossType === 'bnpo') mbLoss = mb.reduce((a, _, i) => a + sum(i), 0) / Math.max(mb.reduce((a, _, i) => a + cnt(i), 0), 1);
    else if (lossType === 'dr_grpo') mbLoss = mb.reduce((a, _, i) => a + sum(i), 0) / (mb.length * MAX_LEN);
    else mbLoss = mb.reduce((a, _, i) => a + sum(i), 0) / Math.max(allActive, 1);
    total += lossType === 'dapo' ? mbLoss : mbLoss / GA;
  });
  return total;
}

function makeBatch(seed: number): Seq[][] {
  const rng = new Rng(seed);
  const seq = (len: number, truncated: boolean): Seq => {
    const logp = Array.from({ length: len }, () => -0.2 - 2 * rng.uniform());
    return {
      logp,
      // up to +-0.6 apart: many ratios fall outside [1 - 0.2, 1 + 0.28]
      old: logp.map((x) => x + 1.2 * (rng.uniform() - 0.5)),
      ref: logp.map((x) => x + 0.5 * rng.normal()),
      reward: rng.int(3) / 2,
      truncated,
    };
  };
  // 2 micro-batches x 2 prompts x G=3 completions of different lengths; some truncated (length MAX_LEN)
  return [0, 1].map(() => Array.from({ length: 6 }, (_, i) => (i % 4 === 1 ? seq(MAX_LEN, true) : seq(1 + rng.int(MAX_LEN - 1), false))));
}

describe('GRPO loss aggregation against a TRL-style CPU formula', () => {
  for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as LossType[]) {
    for (const scale of ['group', 'batch', 'none'] as ScaleRewards[]) {
      test(`${lossType}, scale_rewards=${scale}, truncated masked`, async () => {
        const gpu = await testGpu();
        const mbs = makeBatch(lossType.length * 7 + scale.length);
        const rewards = mbs.flat().map((s) => s.reward);
        const advFlat = computeAdvantages(rewards, 3, scale).advantages;
        const adv = [advFlat.slice(0, 6), advFlat.slice(6)];
        const maskTruncated = true;
        const want = trlLoss(mbs, adv, lossType, maskTruncated);

        // the trainer's way: per-sequence weights, then sum_t w_t * loss_t from the GPU kernel
        const active = mbs.map((mb) => mb.map((s) => (maskTruncated && s.truncated ? 0 : s.logp.length)));
        const w = sequenceWeights(lossType, active, MAX_LEN);
        const flat = mbs.flatMap((mb, m) => mb.flatMap((s, i) => s.logp.map((_, t) => ({ s, t, A: adv[m][i], w: active[m][i] ? w[m][i] : 0 }))));
        const n = flat.length;
        const up = (xs: number[], label: string) => gpu.upload(xs, [n], label);
        const tLogp = up(flat.map((x) => x.s.logp[x.t]), 'logp');
        const tOld = up(flat.map((x) => x.s.old[x.t]), 'old');
        const tRef = up(flat.map((x) => x.s.ref[x.t]), 'ref');
        const tAdv = up(flat.map((x) => x.A), 'adv');
        const tW = up(flat.map((x) => x.w), 'w');
        const out = gpu.tensor([4, n], 'terms');
        const dlogp = gpu.tensor([n], 'dlogp');
        const hp = { epsilon: EPS, epsilonHigh: EPS_HIGH, beta: BETA };
        grpoLossForward(gpu, out, tLogp, tOld, tRef, tAdv, hp);
        grpoLossBackward(gpu, dlogp, tLogp, tOld, tRef, tAdv, tW, hp);
        const terms = await gpu.read(out);
        const grads = await gpu.read(dlogp);
        gpu.release(tLogp, tOld, tRef, tAdv, tW, out, dlogp);
        const got = flat.reduce((a, x, i) => a + x.w * terms[i], 0);
        expect(got).toBeCloseTo(want, 5);
        // clipping is really active in this batch, in both directions
        const flags = terms.subarray(3 * n);
        expect(flags.some((f) => f === 1) || flags.some((f) => f === 2)).toBe(true);

        // gradient of the TRL formula with respect to each log-prob, by central differences
        const h = 1e-5;
        let k = 0;
        for (const mb of mbs) {
          for (const s of mb) {
            for (let t = 0; t < s.logp.length; t++, k++) {
              const orig = s.logp[t];
              s.logp[t] = orig + h;
              const up1 = trlLoss(mbs, adv, lossType, maskTruncated);
              s.logp[t] = orig - h;
              const dn = trlLoss(mbs, adv, lossType, maskTruncated);
              s.logp[t] = orig;
              expect(grads[k]).toBeCloseTo((up1 - dn) / (2 * h), 4);
            }
          }
        }
      });
    }
  }
});
