// CPU reference of grpo_loss_forward.wgsl / grpo_loss_backward.wgsl (same argument order as the host wrappers).
import type { GrpoLossParams } from '../ops/grpo_loss';

/** Per-token loss terms of token i (float64). */
export function grpoTokenLoss(lp: number, old: number, ref: number, a: number, hp: GrpoLossParams) {
  const rho = Math.exp(Math.min(20, Math.max(-20, lp - old)));
  const clipped = Math.min(1 + hp.epsilonHigh, Math.max(1 - hp.epsilon, rho));
  const pg = -Math.min(rho * a, clipped * a);
  const d = Math.min(20, Math.max(-20, ref - lp));
  const k3 = hp.beta !== 0 ? Math.exp(d) - d - 1 : 0;
  const flag = rho < 1 - hp.epsilon && a < 0 ? 1 : rho > 1 + hp.epsilonHigh && a > 0 ? 2 : 0;
  const unclipped = (a >= 0 && rho <= 1 + hp.epsilonHigh) || (a < 0 && rho >= 1 - hp.epsilon);
  const grad = (unclipped ? -rho * a : 0) + (hp.beta !== 0 ? hp.beta * (1 - Math.exp(d)) : 0);
  return { loss: pg + hp.beta * k3, kl: k3, rho, flag, grad };
}

export function grpoLossForward(
  out: Float32Array, logp: Float32Array, oldLogp: Float32Array | null, refLogp: Float32Array | null, adv: Float32Array, hp: GrpoLossParams,
): void {
  const n = logp.length;
  for (let i = 0; i < n; i++) {
    const t = grpoTokenLoss(logp[i], oldLogp ? oldLogp[i] : logp[i], refLogp ? refLogp[i] : logp[i], adv[i], hp);
    out[i] = t.loss;
    out[n + i] = t.kl;
    out[2 * n + i] = t.rho;
    out[3 * n + i] = t.flag;
  }
}

export function grpoLossBackward(
  dlogp: Float32Array, logp: Float32Array, oldLogp: Float32Array | null, refLogp: Float32Array | null, adv: Float32Array,
  weight: Float32Array, hp: GrpoLossParams,
): void {
  for (let i = 0; i < logp.length; i++) {
    const t = grpoTokenLoss(logp[i], oldLogp ? oldLogp[i] : logp[i], refLogp ? refLogp[i] : logp[i], adv[i], hp);
    dlogp[i] = weight[i] * t.grad;
  }
}
