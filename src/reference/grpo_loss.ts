// CPU reference of grpo_loss_forward.wgsl / grpo_loss_backward.wgsl (same argument order as the host
// wrappers), in float64. See the shaders' headers for the formulas: the clipped surrogate (with delta),
// cispo, sapo, vespo; token or sequence (GSPO; RLOO's summed) importance sampling; the entropy-quantile mask;
// the k3 KL term.
import type { GrpoLossParams } from '../ops/grpo_loss';

export interface GrpoLossAuxHost {
  entropy?: Float32Array | null;
  /** per token: its completion's first index and extent (2N) */
  seq?: Uint32Array | null;
  /** per token: 1 in the loss, 0 out (a tool's inserted token); the sequence ratio averages over mask 1 only (default all 1) */
  mask?: Float32Array | null;
}

const clampExp = (x: number) => Math.exp(Math.min(20, Math.max(-20, x)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The policy term pg(rho), its G(rho) = d pg / d rho * rho (cispo, vespo: d pg / d logp with the weight
 * detached), and the clip flag. phi: vespo's weight of the token's completion. */
export function policyTerm(rho: number, a: number, lp: number, hp: GrpoLossParams, phi = 0): { pg: number; grad: number; flag: number } {
  const kind = hp.kind ?? 'clip';
  if (kind === 'vespo') return { pg: -phi * a * lp, grad: -phi * a, flag: 0 };
  if (kind === 'cispo') {
    const w = Math.min(rho, hp.epsilonHigh);
    return { pg: -w * a * lp, grad: -w * a, flag: rho > hp.epsilonHigh && a > 0 ? 2 : 0 };
  }
  if (kind === 'sapo') {
    const tau = a > 0 ? (hp.sapoTemperaturePos ?? 1.0) : (hp.sapoTemperatureNeg ?? 1.05);
    const s = sigmoid(tau * (rho - 1));
    return { pg: -s * 4 / tau * a, grad: -4 * a * s * (1 - s) * rho, flag: 0 };
  }
  const delta = hp.delta ?? Infinity;
  const clipped = Math.min(1 + hp.epsilonHigh, Math.max(1 - hp.epsilon, rho));
  const pg = -Math.min(Math.min(rho, delta) * a, clipped * a);
  const unclipped = ((a >= 0 && rho <= 1 + hp.epsilonHigh) || (a < 0 && rho >= 1 - hp.epsilon)) && rho <= delta;
  const flag = rho < 1 - hp.epsilon && a < 0 ? 1 : rho > 1 + hp.epsilonHigh && a > 0 ? 2 : 0;
  return { pg, grad: unclipped ? -rho * a : 0, flag };
}

/** Per-token loss terms of token i at a given ratio (float64); `grad` is the token-level d loss / d logp. */
export function grpoTokenLoss(lp: number, old: number, ref: number, a: number, hp: GrpoLossParams, entropy = Infinity, rhoIn?: number, phi = 0, om = 1) {
  const rho = rhoIn ?? clampExp(lp - old);
  const t = policyTerm(rho, a, lp, hp, phi);
  const thr = hp.entropyThreshold ?? null;
  const em = thr !== null && entropy < thr ? 0 : 1;
  const d = Math.min(20, Math.max(-20, ref - lp));
  const k3raw = hp.beta !== 0 ? Math.exp(d) - d - 1 : 0;
  const k3 = hp.biasCorrectionKl ? k3raw * rho : k3raw;
  // d (beta k3) / d logp through k3 only (the ratio's share is added by the caller: it depends on the level)
  const klGrad = hp.beta !== 0 ? hp.beta * (1 - Math.exp(d)) * (hp.biasCorrectionKl ? rho : 1) : 0;
  return {
    loss: em * om * t.pg + hp.beta * k3, kl: k3, rho, flag: t.flag + (em ? 0 : 4) + (om ? 0 : 8),
    grad: em * om * t.grad + klGrad, em: em * om, entropyMask: em, policyGrad: t.grad, klGrad, k3raw,
  };
}

const maskOf = (aux: GrpoLossAuxHost, k: number) => (aux.mask ? aux.mask[k] : 1);

function ratios(logp: Float32Array, oldLogp: Float32Array | null, hp: GrpoLossParams, aux: GrpoLossAuxHost): number[] {
  const n = logp.length;
  const old = (i: number) => (oldLogp ? oldLogp[i] : logp[i]);
  if (hp.importanceSamplingLevel !== 'sequence') return Array.from({ length: n }, (_, i) => clampExp(logp[i] - old(i)));
  const seq = aux.seq;
  if (!seq) throw new Error('sequence-level importance sampling needs seq');
  return Array.from({ length: n }, (_, i) => {
    const first = seq[2 * i];
    const count = seq[2 * i + 1];
    let s = 0;
    let m = 0;
    for (let k = first; k < first + count; k++) {
      s += maskOf(aux, k) * (logp[k] - old(k));
      m += maskOf(aux, k);
    }
    return clampExp(hp.sequenceSum ? s : s / Math.max(m, 1));
  });
}

/** off_policy_mask_threshold's keep (1) / drop (0) per token (its completion's). */
function offPolicyMasks(logp: Float32Array, oldLogp: Float32Array | null, adv: Float32Array, hp: GrpoLossParams, aux: GrpoLossAuxHost): number[] {
  const n = logp.length;
  const thr = hp.offPolicyMaskThreshold ?? null;
  if (thr === null) return new Array<number>(n).fill(1);
  const seq = aux.seq;
  if (!seq) throw new Error('the off-policy mask needs seq');
  return Array.from({ length: n }, (_, i) => {
    if (adv[i] >= 0) return 1;
    let s = 0;
    let m = 0;
    for (let k = seq[2 * i]; k < seq[2 * i] + seq[2 * i + 1]; k++) {
      s += maskOf(aux, k) * ((oldLogp ? oldLogp[k] : logp[k]) - logp[k]);
      m += maskOf(aux, k);
    }
    return s / Math.max(m, 1) <= thr ? 1 : 0;
  });
}

/** VESPO's gamma weight phi per token (that of its completion); zeros for other kinds. */
function vespoPhis(logp: Float32Array, oldLogp: Float32Array | null, adv: Float32Array, hp: GrpoLossParams, aux: GrpoLossAuxHost): number[] {
  const n = logp.length;
  if (hp.kind !== 'vespo') return new Array<number>(n).fill(0);
  const seq = aux.seq;
  if (!seq) throw new Error('vespo needs seq');
  const v = hp.vespo ?? { kPos: 2, lambdaPos: 3, kNeg: 3, lambdaNeg: 2 };
  return Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let k = seq[2 * i]; k < seq[2 * i] + seq[2 * i + 1]; k++) s += maskOf(aux, k) * Math.min(20, Math.max(-20, logp[k] - (oldLogp ? oldLogp[k] : logp[k])));
    const lw = Math.min(20, Math.max(Math.log(1e-8), s));
    const pos = adv[i] >= 0;
    const k = pos ? v.kPos : v.kNeg;
    const lam = Math.max(pos ? v.lambdaPos : v.lambdaNeg, 1e-4);
    return Math.exp(lam + k * lw - lam * Math.exp(lw));
  });
}

export function grpoLossForward(
  out: Float32Array, logp: Float32Array, oldLogp: Float32Array | null, refLogp: Float32Array | null, adv: Float32Array, hp: GrpoLossParams,
  aux: GrpoLossAuxHost = {},
): void {
  const n = logp.length;
  const rho = ratios(logp, oldLogp, hp, aux);
  const phi = vespoPhis(logp, oldLogp, adv, hp, aux);
  const om = offPolicyMasks(logp, oldLogp, adv, hp, aux);
  for (let i = 0; i < n; i++) {
    const t = grpoTokenLoss(logp[i], oldLogp ? oldLogp[i] : logp[i], refLogp ? refLogp[i] : logp[i], adv[i], hp, aux.entropy ? aux.entropy[i] : Infinity, rho[i], phi[i], om[i]);
    out[i] = t.loss;
    out[n + i] = t.kl;
    out[2 * n + i] = t.rho;
    out[3 * n + i] = t.flag;
  }
}

export function grpoLossBackward(
  dlogp: Float32Array, logp: Float32Array, oldLogp: Float32Array | null, refLogp: Float32Array | null, adv: Float32Array,
  weight: Float32Array, hp: GrpoLossParams, aux: GrpoLossAuxHost = {},
): void {
  const n = logp.length;
  // as the shader: the tokens in the loss are those with a positive weight
  const inLoss = Float32Array.from(weight, (w) => (w > 0 ? 1 : 0));
  aux = { ...aux, mask: inLoss };
  const rho = ratios(logp, oldLogp, hp, aux);
  const phi = vespoPhis(logp, oldLogp, adv, hp, aux);
  const om = offPolicyMasks(logp, oldLogp, adv, hp, aux);
  const seqLevel = hp.importanceSamplingLevel === 'sequence';
  const term = (i: number) =>
    grpoTokenLoss(logp[i], oldLogp ? oldLogp[i] : logp[i], refLogp ? refLogp[i] : logp[i], adv[i], hp, aux.entropy ? aux.entropy[i] : Infinity, rho[i], phi[i], om[i]);
  for (let i = 0; i < n; i++) {
    const t = term(i);
    const first = aux.seq ? aux.seq[2 * i] : 0;
    const count = aux.seq ? aux.seq[2 * i + 1] : 0;
    // at sequence level: d rho / d logp_n = rho * mask[n] * per; the sums of weight * em and weight * k3 over the completion
    let per = 1;
    let wsum = 0;
    let ksum = 0;
    if (seqLevel) {
      let m = 0;
      for (let k = first; k < first + count; k++) {
        const tk = term(k);
        wsum += weight[k] * tk.entropyMask; // (the off-policy mask is the completion's: om[i] below)
        ksum += weight[k] * tk.k3raw;
        m += maskOf(aux, k);
      }
      per = hp.sequenceSum ? 1 : 1 / Math.max(m, 1);
    }
    const detachedWeight = hp.kind === 'cispo' || hp.kind === 'vespo';
    const pol = !seqLevel || detachedWeight ? weight[i] * t.em * t.policyGrad : maskOf(aux, i) * om[i] * t.policyGrad * per * wsum;
    let kl = weight[i] * t.klGrad;
    if (hp.beta !== 0 && hp.biasCorrectionKl) {
      // the ratio's share: token level d rho / d logp = rho; sequence level through the shared ratio
      kl += seqLevel ? maskOf(aux, i) * per * rho[i] * hp.beta * ksum : weight[i] * hp.beta * t.k3raw * rho[i];
    }
    dlogp[i] = pol + kl;
  }
}
