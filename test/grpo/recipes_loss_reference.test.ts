// The issue-15 losses as the trainer computes them (GPU kernel + loss_type weights + entropy threshold)
// against an independent, TRL-style CPU formula written from TRL v1.9's description: GSPO (sequence-level
// ratios), cispo, sapo, delta, top_entropy_quantile and entropy_coef's normalisation, for every
// aggregation, with num_iterations > 1 (old log-probs that differ), truncated completions masked, clipping
// asserted in each direction separately, and the gradient with respect to every log-prob by central
// differences of the formula. The CPU reference (src/reference/grpo_loss.ts) is checked against the same.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { grpoLossBackward, grpoLossForward, type GrpoLossParams } from '../../src/gpu/kernels/grpo_loss';
import * as ref from '../../src/reference/grpo_loss';
import { entropyBonusWeight, sequenceWeights, type LossType } from '../../src/grpo/loss_weights';
import { entropyThreshold } from '../../src/grpo/entropy_mask';
import { Rng } from '../../src/util/random';

interface Seq { logp: number[]; old: number[]; ref: number[]; ent: number[]; adv: number; truncated: boolean }
interface Recipe {
  name: string;
  lossType: LossType;
  level: 'token' | 'sequence';
  eps: number;
  epsHigh: number;
  beta: number;
  delta?: number;
  q?: number;
  entCoef?: number;
  /** which clip directions must occur in the batch */
  expect: ('low' | 'high' | 'delta' | 'cispo_cap_neg' | 'entropy')[];
}

const MAX_LEN = 6;
const TAU_POS = 1.0;
const TAU_NEG = 1.05;

/** torch.quantile (linear) over a plain array, written independently of entropyThreshold. */
function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * p;
  return s[Math.floor(h)] + (h - Math.floor(h)) * (s[Math.ceil(h)] - s[Math.floor(h)]);
}

/** TRL v1.9's loss over GA micro-batches. `detached`: the log-probs the cispo weight is taken at (stop-gradient). */
function trlLoss(mbs: Seq[][], r: Recipe, detached: Seq[][]): number {
  const mask = (s: Seq): number[] => s.logp.map(() => (s.truncated ? 0 : 1));
  const GA = mbs.length;
  const allActive = mbs.flat().reduce((a, s) => a + mask(s).reduce((x, y) => x + y, 0), 0);
  let total = 0;
  mbs.forEach((mb, m) => {
    const masks = mb.map(mask);
    const mbTokens = masks.flat().reduce((a, b) => a + b, 0);
    let thr = -Infinity;
    if (r.q !== undefined && r.q < 1) thr = Math.fround(quantile(mb.flatMap((s, i) => s.ent.filter((_, t) => masks[i][t])), 1 - r.q));
    const ptl = mb.map((s, i) => {
      const cnt = Math.max(masks[i].reduce((a, b) => a + b, 0), 1);
      const seqLogRatio = s.logp.reduce((a, lp, t) => a + (lp - s.old[t]) * masks[i][t], 0) / cnt;
      return s.logp.map((lp, t) => {
        const A = s.adv;
        const c1 = r.level === 'sequence' ? Math.exp(seqLogRatio) : Math.exp(lp - s.old[t]);
        let pg: number;
        if (r.lossType === 'cispo') {
          const d = detached[m][i];
          const cnt0 = cnt;
          const c1d = r.level === 'sequence' ? Math.exp(d.logp.reduce((a, x, k) => a + (x - d.old[k]) * masks[i][k], 0) / cnt0) : Math.exp(d.logp[t] - d.old[t]);
          pg = -Math.min(c1d, r.epsHigh) * A * lp;
        } else if (r.lossType === 'sapo') {
          const tau = A > 0 ? TAU_POS : TAU_NEG;
          pg = -(1 / (1 + Math.exp(-tau * (c1 - 1)))) * (4 / tau) * A;
        } else {
          const c2 = Math.min(Math.max(c1, 1 - r.eps), 1 + r.epsHigh);
          const c1d = r.delta !== undefined ? Math.min(c1, r.delta) : c1;
          pg = -Math.min(c1d * A, c2 * A);
        }
        const em = s.ent[t] >= thr ? 1 : 0;
        const d = s.ref[t] - lp;
        return pg * em + r.beta * (Math.exp(d) - d - 1);
      });
    });
    const sum = (i: number) => ptl[i].reduce((a, l, t) => a + l * masks[i][t], 0);
    const cnt = (i: number) => masks[i].reduce((a, b) => a + b, 0);
    let mbLoss: number;
    if (r.lossType === 'grpo' || r.lossType === 'sapo') mbLoss = mb.reduce((a, _, i) => a + sum(i) / Math.max(cnt(i), 1), 0) / mb.length;
    else if (r.lossType === 'bnpo') mbLoss = mb.reduce((a, _, i) => a + sum(i), 0) / Math.max(mbTokens, 1);
    else if (r.lossType === 'dr_grpo') mbLoss = mb.reduce((a, _, i) => a + sum(i), 0) / (mb.length * MAX_LEN);
    else mbLoss = mb.reduce((a, _, i) => a + sum(i), 0) / Math.max(allActive, 1);
    const global = r.lossType === 'dapo' || r.lossType === 'cispo';
    total += global ? mbLoss : mbLoss / GA;
    if (r.entCoef) {
      // TRL: over effective_mask = mask * entropy_mask, divided by its count (by num_items_in_batch for dapo/cispo)
      const eff = (s: Seq, i: number, t: number) => masks[i][t] * (s.ent[t] >= thr ? 1 : 0);
      const entSum = mb.reduce((a, s, i) => a + s.ent.reduce((x, e, t) => x + e * eff(s, i, t), 0), 0);
      const effCount = mb.reduce((a, s, i) => a + s.ent.reduce((x, _, t) => x + eff(s, i, t), 0), 0);
      total -= global ? (r.entCoef * entSum) / Math.max(allActive, 1) : (r.entCoef * entSum) / Math.max(effCount, 1) / GA;
    }
  });
  return total;
}

function makeBatch(seed: number, level: 'token' | 'sequence'): Seq[][] {
  const rng = new Rng(seed);
  // per completion of a micro-batch: an offset of old from new log-probs and the advantage's sign, chosen so
  // that every case occurs: ratio high with A > 0 (clipped high), ratio low with A < 0 (clipped low), ratio
  // high with A < 0 (unclipped: delta's and cispo's cap), ratio low with A > 0; completions 1 and 5 truncated
  const OFF = [-0.45, 0, 0.45, -0.45, 0.45, 0];
  const SIGN = [1, 1, -1, -1, 1, -1];
  const seq = (i: number, len: number, truncated: boolean): Seq => {
    const logp = Array.from({ length: len }, () => -0.2 - 2 * rng.uniform());
    return {
      logp,
      old: logp.map((x) => x + OFF[i] + (level === 'sequence' ? 0.2 : 0.8) * (rng.uniform() - 0.5)),
      ref: logp.map((x) => x + 0.5 * rng.normal()),
      ent: logp.map(() => Math.fround(3 * rng.uniform())),
      adv: SIGN[i] * (0.3 + 0.7 * rng.uniform()),
      truncated,
    };
  };
  return [0, 1].map(() => Array.from({ length: 6 }, (_, i) => (i % 4 === 1 ? seq(i, MAX_LEN, true) : seq(i, 2 + rng.int(MAX_LEN - 2), false))));
}

const RECIPES: Recipe[] = [];
for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as LossType[]) {
  RECIPES.push({ name: `GSPO ${lossType}`, lossType, level: 'sequence', eps: 0.1, epsHigh: 0.12, beta: 0.05, expect: ['low', 'high'] });
  RECIPES.push({ name: `delta ${lossType}`, lossType, level: 'token', eps: 0.2, epsHigh: 0.28, beta: 0.05, delta: 1.4, expect: ['low', 'high', 'delta'] });
  RECIPES.push({ name: `entropy quantile + bonus ${lossType}`, lossType, level: 'token', eps: 0.2, epsHigh: 0.28, beta: 0.05, q: 0.4, entCoef: 0.01, expect: ['low', 'high', 'entropy'] });
}
RECIPES.push({ name: 'cispo', lossType: 'cispo', level: 'token', eps: 0.2, epsHigh: 1.3, beta: 0.05, entCoef: 0.02, expect: ['high', 'cispo_cap_neg'] });
RECIPES.push({ name: 'cispo sequence', lossType: 'cispo', level: 'sequence', eps: 0.2, epsHigh: 1.1, beta: 0, expect: ['high', 'cispo_cap_neg'] });
RECIPES.push({ name: 'cispo entropy quantile', lossType: 'cispo', level: 'token', eps: 0.2, epsHigh: 1.3, beta: 0, q: 0.5, expect: ['high', 'entropy'] });
RECIPES.push({ name: 'sapo', lossType: 'sapo', level: 'token', eps: 0.2, epsHigh: 0.2, beta: 0.05, entCoef: 0.02, expect: [] });
RECIPES.push({ name: 'sapo entropy quantile', lossType: 'sapo', level: 'token', eps: 0.2, epsHigh: 0.2, beta: 0, q: 0.3, expect: ['entropy'] });
RECIPES.push({ name: 'GSPO entropy quantile grpo', lossType: 'grpo', level: 'sequence', eps: 0.1, epsHigh: 0.12, beta: 0, q: 0.5, expect: ['low', 'high', 'entropy'] });

describe('issue-15 losses against a TRL-style CPU formula', () => {
  RECIPES.forEach((r, ri) => {
    test(r.name, async () => {
      const gpu = await testGpu();
      const mbs = makeBatch(100 + ri, r.level);
      const detached = structuredClone(mbs);
      const want = trlLoss(mbs, r, detached);

      // the trainer's way
      const active = mbs.map((mb) => mb.map((s) => (s.truncated ? 0 : s.logp.length)));
      const w = sequenceWeights(r.lossType, active, MAX_LEN);
      const flat = mbs.flatMap((mb, m) => mb.flatMap((s, i) => s.logp.map((_, t) => ({ s, t, m, A: s.adv, w: active[m][i] ? w[m][i] : 0, on: active[m][i] > 0 }))));
      const n = flat.length;
      // per micro-batch threshold, from the active tokens' entropies
      const thr = mbs.map((mb, m) => entropyThreshold(mb.flatMap((s, i) => (active[m][i] ? s.ent : [])), r.q ?? 1));
      // the entropy bonus's weight per micro-batch, over the tokens the entropy mask keeps (as policy_update.ts)
      const allActive = active.flat().reduce((a, b) => a + b, 0);
      const wE = mbs.map((mb, m) => entropyBonusWeight(r.lossType, mb.reduce((a, s, i) => a + (active[m][i] ? s.ent.filter((e) => thr[m] === null || e >= thr[m]!).length : 0), 0), mbs.length, allActive));
      if (r.q !== undefined) {
        const indep = mbs.map((mb, m) => Math.fround(quantile(mb.flatMap((s, i) => (active[m][i] ? s.ent : [])), 1 - r.q!)));
        expect(thr).toEqual(indep);
      }
      const seqInfo = new Uint32Array(2 * n);
      let k = 0;
      const starts: number[] = [];
      mbs.forEach((mb, m) => mb.forEach((s, i) => {
        starts.push(k);
        for (let t = 0; t < s.logp.length; t++, k++) {
          seqInfo[2 * k] = k - t;
          seqInfo[2 * k + 1] = active[m][i];
        }
      }));
      let got = 0;
      const grads = new Float32Array(n);
      const flags: number[] = [];
      const rhos: number[] = [];
      // one kernel call per micro-batch (each has its own entropy threshold), as the trainer does
      let offset = 0;
      for (let m = 0; m < mbs.length; m++) {
        const part = flat.slice(offset, offset + mbs[m].reduce((a, s) => a + s.logp.length, 0));
        const np = part.length;
        const sub = seqInfo.slice(2 * offset, 2 * (offset + np)).map((x, j) => (j % 2 === 0 ? x - offset : x));
        const hp: GrpoLossParams = {
          epsilon: r.eps, epsilonHigh: r.epsHigh, beta: r.beta,
          kind: r.lossType === 'cispo' ? 'cispo' : r.lossType === 'sapo' ? 'sapo' : 'clip',
          importanceSamplingLevel: r.level, delta: r.delta ?? null, sapoTemperaturePos: TAU_POS, sapoTemperatureNeg: TAU_NEG,
          entropyThreshold: thr[m],
        };
        const host = {
          logp: Float32Array.from(part.map((x) => x.s.logp[x.t])),
          old: Float32Array.from(part.map((x) => x.s.old[x.t])),
          ref: Float32Array.from(part.map((x) => x.s.ref[x.t])),
          adv: Float32Array.from(part.map((x) => x.A)),
          w: Float32Array.from(part.map((x) => x.w)),
          ent: Float32Array.from(part.map((x) => x.s.ent[x.t])),
          mask: Float32Array.from(part.map((x) => (x.on ? 1 : 0))),
        };
        const up = (xs: Float32Array, label: string) => gpu.upload(xs, [np], label);
        const t = { logp: up(host.logp, 'logp'), old: up(host.old, 'old'), ref: up(host.ref, 'ref'), adv: up(host.adv, 'adv'), w: up(host.w, 'w'), ent: up(host.ent, 'ent'), seq: gpu.upload(sub, [2 * np], 'seq', 'u32'), mask: up(host.mask, 'mask') };
        const out = gpu.tensor([4, np], 'terms');
        const dlogp = gpu.tensor([np], 'dlogp');
        const aux = { entropy: t.ent, seq: t.seq, mask: t.mask };
        grpoLossForward(gpu, out, t.logp, t.old, t.ref, t.adv, hp, aux);
        grpoLossBackward(gpu, dlogp, t.logp, t.old, t.ref, t.adv, t.w, hp, aux);
        const terms = await gpu.read(out);
        const g = await gpu.read(dlogp);
        gpu.release(t.logp, t.old, t.ref, t.adv, t.w, t.ent, t.seq, t.mask, out, dlogp);
        // the CPU reference agrees with the kernel
        const refOut = new Float32Array(4 * np);
        ref.grpoLossForward(refOut, host.logp, host.old, host.ref, host.adv, hp, { entropy: host.ent, seq: sub, mask: host.mask });
        const refD = new Float32Array(np);
        ref.grpoLossBackward(refD, host.logp, host.old, host.ref, host.adv, host.w, hp, { entropy: host.ent, seq: sub, mask: host.mask });
        refOut.forEach((x, j) => expect(terms[j]).toBeCloseTo(x, 5));
        refD.forEach((x, j) => expect(g[j]).toBeCloseTo(x, 5));
        part.forEach((x, j) => {
          got += x.w * terms[j];
          if (x.on) {
            if (r.entCoef && (thr[m] === null || host.ent[j] >= thr[m]!)) got -= r.entCoef * wE[m] * host.ent[j];
            flags.push(terms[3 * np + j]);
            rhos.push(terms[2 * np + j] * Math.sign(x.A));
          }
          grads[offset + j] = g[j];
        });
        offset += np;
      }
      expect(got).toBeCloseTo(want, 5);

      // each clipping direction, separately
      const clip = flags.map((f) => f % 4);
      if (r.expect.includes('low')) expect(clip.some((f) => f === 1), 'some token clipped low').toBe(true);
      if (r.expect.includes('high')) expect(clip.some((f) => f === 2), 'some token clipped high').toBe(true);
      if (r.expect.includes('delta')) expect(rhos.some((x) => x < -r.delta!), 'some token with A < 0 capped by delta').toBe(true);
      if (r.expect.includes('cispo_cap_neg')) expect(rhos.some((x) => x < -r.epsHigh), 'some token with A < 0 capped by eps_high').toBe(true);
      if (r.expect.includes('entropy')) {
        expect(flags.some((f) => f >= 4), 'some token masked by the entropy quantile').toBe(true);
        expect(flags.some((f) => f < 4), 'some token kept by the entropy quantile').toBe(true);
      }
      if (r.lossType === 'sapo') expect(clip.every((f) => f === 0)).toBe(true);

      // gradient of the TRL formula with respect to each log-prob, by central differences
      const h = 1e-5;
      let idx = 0;
      for (const mb of mbs) {
        for (const s of mb) {
          for (let t = 0; t < s.logp.length; t++, idx++) {
            const orig = s.logp[t];
            s.logp[t] = orig + h;
            const up1 = trlLoss(mbs, r, detached);
            s.logp[t] = orig - h;
            const dn = trlLoss(mbs, r, detached);
            s.logp[t] = orig;
            expect(grads[idx], `${r.name}: d loss / d logp of token ${idx}`).toBeCloseTo((up1 - dn) / (2 * h), 4);
          }
        }
      }
      expect(starts.length).toBe(12);
    });
  });
});
