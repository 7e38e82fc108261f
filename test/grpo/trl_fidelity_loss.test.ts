// Issue 24 (TRL fidelity): loss kernels (GPU, and the CPU reference) against TRL's `_compute_loss` written out by
// hand for small cases, with the gradient of the written-out formula by central differences.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { grpoLossBackward, grpoLossForward, type GrpoLossParams } from '../../src/gpu/kernels/grpo_loss';
import * as ref from '../../src/reference/grpo_loss';

interface Case {
  logp: number[];
  old: number[];
  adv: number[];
  /** each token's completion: {first, extent} */
  seq: [number, number][];
  /** TRL's completion_mask * tool_mask */
  mask: number[];
  /** the aggregation weight of each token (0 off the mask) */
  weight: number[];
  hp: GrpoLossParams;
}

/** Runs the GPU kernels and the CPU reference; returns the weighted total, the ratios and d total / d logp. */
async function run(c: Case) {
  const gpu = await testGpu();
  const n = c.logp.length;
  const f = (xs: number[]) => Float32Array.from(xs);
  const seq = Uint32Array.from(c.seq.flat());
  const t = {
    logp: gpu.upload(f(c.logp), [n], 'logp'), old: gpu.upload(f(c.old), [n], 'old'), adv: gpu.upload(f(c.adv), [n], 'adv'),
    w: gpu.upload(f(c.weight), [n], 'w'), seq: gpu.upload(seq, [2 * n], 'seq', 'u32'), mask: gpu.upload(f(c.mask), [n], 'mask'),
  };
  const out = gpu.tensor([4, n], 'terms');
  const dlogp = gpu.tensor([n], 'dlogp');
  const aux = { seq: t.seq, mask: t.mask };
  grpoLossForward(gpu, out, t.logp, t.old, null, t.adv, c.hp, aux);
  grpoLossBackward(gpu, dlogp, t.logp, t.old, null, t.adv, t.w, c.hp, aux);
  const terms = await gpu.read(out);
  const grad = await gpu.read(dlogp);
  gpu.release(t.logp, t.old, t.adv, t.w, t.seq, t.mask, out, dlogp);
  const refOut = new Float32Array(4 * n);
  const refD = new Float32Array(n);
  const hostAux = { seq, mask: f(c.mask) };
  ref.grpoLossForward(refOut, f(c.logp), f(c.old), null, f(c.adv), c.hp, hostAux);
  ref.grpoLossBackward(refD, f(c.logp), f(c.old), null, f(c.adv), f(c.weight), c.hp, hostAux);
  refOut.forEach((x, i) => expect(terms[i], `reference term ${i}`).toBeCloseTo(x, 5));
  refD.forEach((x, i) => expect(grad[i], `reference dlogp ${i}`).toBeCloseTo(x, 5));
  const total = c.weight.reduce((a, w, i) => a + w * terms[i], 0);
  return { total, ratio: Array.from(terms.subarray(2 * n, 3 * n)), grad: Array.from(grad) };
}

/** Central differences of f with respect to each entry of x. */
function numericGrad(f: (x: number[]) => number, x: number[]): number[] {
  const h = 1e-5;
  return x.map((_, i) => {
    const up = [...x];
    const dn = [...x];
    up[i] += h;
    dn[i] -= h;
    return (f(up) - f(dn)) / (2 * h);
  });
}

describe('GSPO: the sequence ratio over the model\'s own tokens (TRL: mask * tool_mask)', () => {
  // one completion of 4 tokens whose token 1 was inserted by a tool; loss_type grpo (mean over its 3 kept tokens)
  const c: Case = {
    logp: [-1, -2, -0.5, -1.5],
    old: [-1.1, -1.0, -0.7, -1.3],
    adv: [0.8, 0.8, 0.8, 0.8],
    seq: [[0, 4], [0, 4], [0, 4], [0, 4]],
    mask: [1, 0, 1, 1],
    weight: [1 / 3, 0, 1 / 3, 1 / 3],
    hp: { epsilon: 0.2, epsilonHigh: 0.28, beta: 0, importanceSamplingLevel: 'sequence' },
  };
  // TRL: log_importance_weights = sum(mask * (logp - old)) / sum(mask) = (0.1 + 0.2 - 0.2) / 3; coef_1 = exp of it;
  // per_token_loss = -min(coef_1 * A, clip(coef_1, 0.8, 1.28) * A); loss = sum(ptl * mask) / sum(mask)
  const trl = (logp: number[]) => {
    const lw = logp.reduce((a, lp, i) => a + c.mask[i] * (lp - c.old[i]), 0) / 3;
    const r = Math.exp(lw);
    const ptl = -Math.min(r * 0.8, Math.min(Math.max(r, 0.8), 1.28) * 0.8);
    return (ptl * 3) / 3;
  };

  test('ratio exp(0.1/3), loss -0.8 exp(0.1/3), no gradient on the tool token', async () => {
    const got = await run(c);
    const rho = Math.exp(0.1 / 3);
    for (const i of [0, 2, 3]) expect(got.ratio[i]).toBeCloseTo(rho, 6);
    expect(got.total).toBeCloseTo(-0.8 * rho, 6);
    expect(got.total).toBeCloseTo(trl(c.logp), 6);
    const want = numericGrad(trl, c.logp);
    got.grad.forEach((g, i) => expect(g, `d loss / d logp ${i}`).toBeCloseTo(want[i], 5));
    expect(got.grad[1]).toBe(0);
  });
});

// Two completions for the sequence losses: completion 0 has 3 tokens (A = +0.7), completion 1 has 3 tokens of
// which the middle one was inserted by a tool (A = -0.5).
const two = {
  logp: [-1, -0.8, -1.2, -0.5, -3, -0.7],
  old: [-1.2, -0.9, -1.0, -0.4, -1, -0.9],
  adv: [0.7, 0.7, 0.7, -0.5, -0.5, -0.5],
  seq: [[0, 3], [0, 3], [0, 3], [3, 3], [3, 3], [3, 3]] as [number, number][],
  mask: [1, 1, 1, 1, 0, 1],
};
const owner = [0, 0, 0, 1, 1, 1];
const kept = [3, 2];
/** sum over completion i's kept tokens of f(token) */
const seqSum = (i: number, f: (t: number) => number) => two.logp.reduce((a, _, t) => a + (owner[t] === i ? two.mask[t] * f(t) : 0), 0);
const clip = (r: number, lo: number, hi: number) => Math.min(Math.max(r, lo), hi);

describe('vespo as TRL\'s _compute_loss: -phi(w) A logp, phi detached, summed over the batch / num_items_in_batch', () => {
  const v = { kPos: 2, lambdaPos: 3, kNeg: 3, lambdaNeg: 2 };
  // log w = sum of the kept log-ratios: 0.2 + 0.1 - 0.2 = 0.1 for completion 0; -0.1 + 0.2 = 0.1 for completion 1
  // phi_0 = exp(3 + 2(0.1) - 3 e^0.1) = 0.89091 (A >= 0: k 2, lambda 3); phi_1 = exp(2 + 3(0.1) - 2 e^0.1) = 1.09381
  const phi = [Math.exp(3 + 0.2 - 3 * Math.exp(0.1)), Math.exp(2 + 0.3 - 2 * Math.exp(0.1))];
  const trl = (logp: number[]) => two.logp.reduce((a, _, t) => a + two.mask[t] * -phi[owner[t]] * two.adv[t] * logp[t], 0) / 5;

  test('phi 0.8909 / 1.0938, loss and gradient', async () => {
    expect(phi[0]).toBeCloseTo(0.89091, 4);
    expect(phi[1]).toBeCloseTo(1.09381, 4);
    const got = await run({ ...two, weight: two.mask.map((m) => m / 5), hp: { epsilon: 0.2, epsilonHigh: 0.2, beta: 0, kind: 'vespo', vespo: v } });
    expect(got.total).toBeCloseTo(trl(two.logp), 5);
    const want = numericGrad(trl, two.logp);
    got.grad.forEach((g, i) => expect(g, `d loss / d logp ${i}`).toBeCloseTo(want[i], 5));
  });
});

describe('luspo as TRL\'s _compute_loss: each completion\'s GSPO loss times its kept tokens, mean over completions', () => {
  const hp: GrpoLossParams = { epsilon: 0.2, epsilonHigh: 0.28, beta: 0, importanceSamplingLevel: 'sequence' };
  const trl = (logp: number[]) => {
    let loss = 0;
    for (let i = 0; i < 2; i++) {
      const r = Math.exp(seqSum(i, (t) => logp[t] - two.old[t]) / kept[i]);
      const A = i === 0 ? 0.7 : -0.5;
      loss += -Math.min(r * A, clip(r, 0.8, 1.28) * A) * kept[i];
    }
    return loss / 2;
  };

  test('loss = mean of (clipped sequence loss x length), and its gradient', async () => {
    // the trainer's luspo weight: 1 / (completions x micro-batches) on every kept token
    const got = await run({ ...two, weight: two.mask.map((m) => m / 2), hp });
    // completion 0: r = exp(0.1 / 3), A = 0.7: -0.7 r x 3; completion 1: r = exp(0.1 / 2), A = -0.5: 0.5 r x 2
    const hand = (-0.7 * Math.exp(0.1 / 3) * 3 + 0.5 * Math.exp(0.05) * 2) / 2;
    expect(trl(two.logp)).toBeCloseTo(hand, 12);
    expect(got.total).toBeCloseTo(hand, 5);
    const want = numericGrad(trl, two.logp);
    got.grad.forEach((g, i) => expect(g, `d loss / d logp ${i}`).toBeCloseTo(want[i], 5));
  });
});

describe('RLOO as TRL\'s RLOOTrainer: ratio exp(sum logp - sum old) per completion, clipped, mean over completions', () => {
  const hp: GrpoLossParams = { epsilon: 0.2, epsilonHigh: 0.2, beta: 0, importanceSamplingLevel: 'sequence', sequenceSum: true };
  const trl = (logp: number[]) => {
    let loss = 0;
    for (let i = 0; i < 2; i++) {
      const r = Math.exp(seqSum(i, (t) => logp[t] - two.old[t]));
      const A = i === 0 ? 0.7 : -0.5;
      loss += -Math.min(r * A, clip(r, 0.8, 1.2) * A);
    }
    return loss / 2;
  };

  test('ratios exp(0.1) each, loss and gradient (rho * A per token, not / length)', async () => {
    // the trainer's weights: loss_type grpo's 1 / (kept tokens x completions)
    const got = await run({ ...two, weight: two.mask.map((m, t) => m / (kept[owner[t]] * 2)), hp });
    expect(got.ratio[0]).toBeCloseTo(Math.exp(0.1), 5);
    expect(got.ratio[3]).toBeCloseTo(Math.exp(0.1), 5);
    const hand = (-0.7 * Math.exp(0.1) + 0.5 * Math.exp(0.1)) / 2;
    expect(trl(two.logp)).toBeCloseTo(hand, 12);
    expect(got.total).toBeCloseTo(hand, 5);
    const want = numericGrad(trl, two.logp);
    got.grad.forEach((g, i) => expect(g, `d loss / d logp ${i}`).toBeCloseTo(want[i], 5));
  });
});

describe('off_policy_mask_threshold and use_bias_correction_kl as TRL\'s _compute_loss', () => {
  // completion 1 (A = -0.5) moved away from its old policy: mean of old - logp over its kept tokens = (0.3 + 0.3) / 2
  // = 0.3 > 0.05, so it is masked; completion 0 has A > 0 and is kept whatever its drift
  const old = [-1.2, -0.9, -1.0, -0.2, -1, -0.4];
  const refLp = [-1.1, -1.0, -1.3, -0.6, -2, -0.5];
  const beta = 0.1;
  const keep = [1, 0];
  const k3 = (lp: number, t: number) => Math.exp(refLp[t] - lp) - (refLp[t] - lp) - 1;
  const cases: { level: 'token' | 'sequence'; weight: number[]; trl: (logp: number[]) => number }[] = [
    {
      level: 'token',
      weight: two.mask.map((m) => m / 5), // dapo: / num_items_in_batch
      trl: (logp) => two.logp.reduce((a, _, t) => {
        const r = Math.exp(logp[t] - old[t]);
        const A = two.adv[t];
        const pg = -Math.min(r * A, clip(r, 0.8, 1.28) * A) * keep[owner[t]];
        return a + two.mask[t] * (pg + beta * k3(logp[t], t) * r);
      }, 0) / 5,
    },
    {
      level: 'sequence',
      weight: two.mask.map((m, t) => m / (kept[owner[t]] * 2)), // grpo: mean over each completion, then over completions
      trl: (logp) => {
        let loss = 0;
        for (let i = 0; i < 2; i++) {
          const r = Math.exp(seqSum(i, (t) => logp[t] - old[t]) / kept[i]);
          const A = i === 0 ? 0.7 : -0.5;
          const pg = -Math.min(r * A, clip(r, 0.8, 1.28) * A) * keep[i];
          loss += seqSum(i, (t) => pg + beta * k3(logp[t], t) * r) / kept[i] / 2;
        }
        return loss;
      },
    },
  ];
  for (const c of cases) {
    test(`${c.level} level: completion 1 masked (flag 8), the KL weighted by the ratio, and the gradient`, async () => {
      const gpu = await testGpu();
      const n = two.logp.length;
      const f = (xs: number[]) => Float32Array.from(xs);
      const hp: GrpoLossParams = { epsilon: 0.2, epsilonHigh: 0.28, beta, importanceSamplingLevel: c.level, offPolicyMaskThreshold: 0.05, biasCorrectionKl: true };
      const t = {
        logp: gpu.upload(f(two.logp), [n], 'logp'), old: gpu.upload(f(old), [n], 'old'), ref: gpu.upload(f(refLp), [n], 'ref'), adv: gpu.upload(f(two.adv), [n], 'adv'),
        w: gpu.upload(f(c.weight), [n], 'w'), seq: gpu.upload(Uint32Array.from(two.seq.flat()), [2 * n], 'seq', 'u32'), mask: gpu.upload(f(two.mask), [n], 'mask'),
      };
      const out = gpu.tensor([4, n], 'terms');
      const dlogp = gpu.tensor([n], 'dlogp');
      grpoLossForward(gpu, out, t.logp, t.old, t.ref, t.adv, hp, { seq: t.seq, mask: t.mask });
      grpoLossBackward(gpu, dlogp, t.logp, t.old, t.ref, t.adv, t.w, hp, { seq: t.seq, mask: t.mask });
      const terms = await gpu.read(out);
      const grad = await gpu.read(dlogp);
      gpu.release(t.logp, t.old, t.ref, t.adv, t.w, t.seq, t.mask, out, dlogp);
      const refOut = new Float32Array(4 * n);
      const refD = new Float32Array(n);
      const aux = { seq: Uint32Array.from(two.seq.flat()), mask: f(two.mask) };
      ref.grpoLossForward(refOut, f(two.logp), f(old), f(refLp), f(two.adv), hp, aux);
      ref.grpoLossBackward(refD, f(two.logp), f(old), f(refLp), f(two.adv), f(c.weight), hp, aux);
      refOut.forEach((x, i) => expect(terms[i], `reference term ${i}`).toBeCloseTo(x, 5));
      refD.forEach((x, i) => expect(grad[i], `reference dlogp ${i}`).toBeCloseTo(x, 5));
      // flags: completion 1's kept tokens masked as off-policy, completion 0's not
      expect([0, 1, 2, 3, 5].map((i) => terms[3 * n + i] & 8)).toEqual([0, 0, 0, 8, 8]);
      const total = c.weight.reduce((a, w, i) => a + w * terms[i], 0);
      expect(total).toBeCloseTo(c.trl(two.logp), 5);
      const want = numericGrad(c.trl, two.logp);
      Array.from(grad).forEach((g, i) => expect(g, `d loss / d logp ${i}`).toBeCloseTo(want[i], 4));
    });
  }
});
