// CPU reference of grpo_loss_forward.wgsl / grpo_loss_backward.wgsl (same argument order as the host
// wrappers), in float64. See the shaders' headers for the formulas: the clipped surrogate (with delta),
// cispo, sapo; token or sequence (GSPO) importance sampling; the entropy-quantile mask; the k3 KL term.
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

/** The policy term pg(rho), its G(rho) = d pg / d rho * rho (cispo: d pg / d logp with the weight detached), and the clip flag. */
export function policyTerm(rho: number, a: number, lp: number, hp: GrpoLossParams): { pg: number; grad: number; flag: number } {
  const kind = hp.kind ?? 'clip';
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
export function grpoTokenLoss(lp: number, old: number, ref: number, a: number, hp: GrpoLossParams, entropy = Infinity, rhoIn?: number) {
  const rho = rhoIn ?? clampExp(lp - old);
  const t = policyTerm(rho, a, lp, hp);
  const thr = hp.entropyThreshold ?? null;
  const em = thr !== null && entropy < thr ? 0 : 1;
  const d = Math.min(20, Math.max(-20, ref - lp));
  const k3 = hp.beta !== 0 ? Math.exp(d) - d - 1 : 0;
  const klGrad = hp.beta !== 0 ? hp.beta * (1 - Math.exp(d)) : 0;
  return { loss: em * t.pg + hp.beta * k3, kl: k3, rho, flag: t.flag + (em ? 0 : 4), grad: em * t.grad + klGrad, em, policyGrad: t.grad, klGrad };
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
    return clampExp(s / Math.max(m, 1));
  });
}

export function grpoLossForward(
  out: Float32Array, logp: Float32Array, oldLogp: Float32Array | null, refLogp: Float32Array | null, adv: Float32Array, hp: GrpoLossParams,
  aux: GrpoLossAuxHost = {},
): void {
  const n = logp.length;
  const rho = ratios(logp, oldLogp, hp, aux);
  for (let i = 0; i < n; i++) {
    const t = grpoTokenLoss(logp[i], oldLogp ? oldLogp[i] : logp[i], refLogp ? refLogp[i] : logp[i], adv[i], hp, aux.entropy ? aux.entropy[i] : Infinity, rho[i]);
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
  const seqLevel = hp.importanceSamplingLevel === 'sequence' && hp.kind !== 'cispo';
  const term = (i: number) =>
    grpoTokenLoss(logp[i], oldLogp ? oldLogp[i] : logp[i], refLogp ? refLogp[i] : logp[i], adv[i], hp, aux.entropy ? aux.entropy[i] : Infinity, rho[i]);
  for (let i = 0; i < n; i++) {
    const t = term(i);
    if (!seqLevel) {
      dlogp[i] = weight[i] * t.grad;
      continue;
    }
    const first = aux.seq![2 * i];
    const count = aux.seq![2 * i + 1];
    let g = 0;
    if (count > 0 && i >= first && i < first + count) {
      let wsum = 0;
      let m = 0;
      for (let k = first; k < first + count; k++) {
        wsum += weight[k] * term(k).em;
        m += maskOf(aux, k);
      }
      g = (maskOf(aux, i) * t.policyGrad / Math.max(m, 1)) * wsum;
    }
    dlogp[i] = g + weight[i] * t.klGrad;
  }
}
