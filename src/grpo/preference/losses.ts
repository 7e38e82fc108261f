// Preference losses (TRL v1.9's DPOTrainer, CPOTrainer with loss_type "simpo", ORPOTrainer, KTOTrainer) as
// functions of per-sequence log-prob sums. Every term is a function of a few scalars per pair (the policy's
// and the reference's summed completion log-probs and the completion lengths), so the loss and its gradient
// are computed here on the CPU; the gradient with respect to a sequence's summed log-prob is the same for
// each of its tokens, and goes back to the GPU as a per-token dlogp (preference/update.ts).
// The reference log-probs are constants (computed once per pair with the adapter off).

import type { DpoLossType } from '../config/enums';

/** One preference pair's summed completion log-probs (policy and reference) and token counts. */
export interface PairLogps {
  chosen: number;
  rejected: number;
  refChosen: number;
  refRejected: number;
  chosenLen: number;
  rejectedLen: number;
}

export type PairLossSettings =
  | {
      /** DPOTrainer: loss_type with loss_weights; sftWeight > 0 adds the "sft" term (chosen NLL, token mean) */
      kind: 'dpo';
      lossType: DpoLossType;
      beta: number;
      labelSmoothing: number;
      dpoWeight: number;
      sftWeight: number;
      /** IPO on length-averaged log-ratios (DPOTrainer; default) or on the sums (OnlineDPOTrainer: false) */
      ipoPerToken?: boolean;
    }
  | {
      /** CPOTrainer with loss_type "simpo": reference-free, length-averaged, margin simpo_gamma, plus cpo_alpha x NLL */
      kind: 'simpo';
      beta: number;
      labelSmoothing: number;
      simpoGamma: number;
      cpoAlpha: number;
    }
  | {
      /** ORPOTrainer: NLL of the chosen minus beta (TRL's name for lambda) x logsigmoid(log odds ratio) */
      kind: 'orpo';
      beta: number;
    };

export interface PairLossResult {
  /** the batch's loss */
  loss: number;
  /** d loss / d (summed policy log-prob) of each pair's chosen and rejected completion */
  dChosen: number[];
  dRejected: number[];
  /** TRL's metrics: rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins, logps/chosen,
   * logps/rejected (plus nll_loss, and for ORPO log_odds_ratio and log_odds_chosen) */
  metrics: Record<string, number>;
}

/** log(sigmoid(x)), stable for large |x|. */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** log(1 - exp(x)) for x < 0 (Mächler's split); x is kept below -1e-12 so that it stays finite. */
export function log1mexp(x: number): number {
  const y = Math.min(x, -1e-12);
  return y > -Math.LN2 ? Math.log(-Math.expm1(y)) : Math.log1p(-Math.exp(y));
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/** The pair loss of a batch and its gradient with respect to each summed log-prob. */
export function pairLoss(pairs: readonly PairLogps[], s: PairLossSettings): PairLossResult {
  const B = pairs.length;
  if (B === 0) throw new Error('a preference batch needs at least one pair');
  for (const p of pairs) {
    if (!(p.chosenLen >= 1 && p.rejectedLen >= 1)) throw new Error('a preference pair needs at least one token in each completion');
  }
  const dChosen = new Array<number>(B).fill(0);
  const dRejected = new Array<number>(B).fill(0);
  const chosenTokens = pairs.reduce((a, p) => a + p.chosenLen, 0);
  // NLL of the chosen completions, averaged over all their tokens (torch's cross_entropy over the batch)
  const nll = -pairs.reduce((a, p) => a + p.chosen, 0) / chosenTokens;
  const addNll = (w: number) => {
    for (let i = 0; i < B; i++) dChosen[i] += -w / chosenTokens;
  };
  let loss = 0;
  let rewardC: number[];
  let rewardR: number[];
  const extra: Record<string, number> = {};
  if (s.kind === 'dpo') {
    const { beta, labelSmoothing: eps } = s;
    const per: number[] = [];
    pairs.forEach((p, i) => {
      const hc = p.chosen - p.refChosen;
      const hr = p.rejected - p.refRejected;
      let l: number;
      let dc: number; // d l / d chosen sum
      let dr: number;
      if (s.lossType === 'ipo') {
        // length-averaged log-ratios (TRL's IPO normalisation), target 1 / (2 beta)
        const perToken = s.ipoPerToken ?? true;
        const nc = perToken ? p.chosenLen : 1;
        const nr = perToken ? p.rejectedLen : 1;
        const d = hc / nc - hr / nr - 1 / (2 * beta);
        l = d * d;
        dc = (2 * d) / nc;
        dr = (-2 * d) / nr;
      } else {
        const z = beta * (hc - hr);
        let dz: number;
        if (s.lossType === 'sigmoid') {
          l = -logSigmoid(z);
          dz = -sigmoid(-z);
        } else if (s.lossType === 'hinge') {
          l = Math.max(0, 1 - z);
          dz = z < 1 ? -1 : 0;
        } else {
          // robust: (-(1 - eps) logsig(z) + eps logsig(-z)) / (1 - 2 eps)
          l = (-(1 - eps) * logSigmoid(z) + eps * logSigmoid(-z)) / (1 - 2 * eps);
          dz = (-(1 - eps) * sigmoid(-z) - eps * sigmoid(z)) / (1 - 2 * eps);
        }
        dc = dz * beta;
        dr = -dz * beta;
      }
      per.push(l);
      dChosen[i] += (s.dpoWeight * dc) / B;
      dRejected[i] += (s.dpoWeight * dr) / B;
    });
    loss = s.dpoWeight * mean(per);
    if (s.sftWeight > 0) {
      loss += s.sftWeight * nll;
      addNll(s.sftWeight);
    }
    rewardC = pairs.map((p) => beta * (p.chosen - p.refChosen));
    rewardR = pairs.map((p) => beta * (p.rejected - p.refRejected));
  } else if (s.kind === 'simpo') {
    const { beta, labelSmoothing: eps } = s;
    const per: number[] = [];
    pairs.forEach((p, i) => {
      const u = p.chosen / p.chosenLen - p.rejected / p.rejectedLen - s.simpoGamma / beta;
      const z = beta * u;
      per.push(-(1 - eps) * logSigmoid(z) - eps * logSigmoid(-z));
      const dz = -(1 - eps) * sigmoid(-z) + eps * sigmoid(z);
      dChosen[i] += (dz * beta) / p.chosenLen / B;
      dRejected[i] += (-dz * beta) / p.rejectedLen / B;
    });
    loss = mean(per);
    if (s.cpoAlpha > 0) {
      loss += s.cpoAlpha * nll;
      addNll(s.cpoAlpha);
    }
    rewardC = pairs.map((p) => (beta * p.chosen) / p.chosenLen);
    rewardR = pairs.map((p) => (beta * p.rejected) / p.rejectedLen);
  } else {
    const { beta } = s;
    const ratios: number[] = [];
    const odds: number[] = [];
    pairs.forEach((p, i) => {
      const ac = p.chosen / p.chosenLen;
      const ar = p.rejected / p.rejectedLen;
      const lo = ac - ar - (log1mexp(ac) - log1mexp(ar));
      odds.push(lo);
      ratios.push(logSigmoid(lo));
      // d log1mexp(x) / dx = -exp(x) / (1 - exp(x)) = 1 / (1 - exp(-x)) = -1 / expm1(-x)
      const dl1 = (x: number) => -1 / Math.expm1(-Math.min(x, -1e-12));
      const dRatio = sigmoid(-lo); // d logsig(lo) / d lo
      // loss term: -beta * mean(logsig(lo))
      dChosen[i] += (-beta * dRatio * (1 - dl1(ac))) / p.chosenLen / B;
      dRejected[i] += (-beta * dRatio * (-1 + dl1(ar))) / p.rejectedLen / B;
    });
    loss = nll - beta * mean(ratios);
    addNll(1);
    rewardC = pairs.map((p) => (beta * p.chosen) / p.chosenLen);
    rewardR = pairs.map((p) => (beta * p.rejected) / p.rejectedLen);
    extra.log_odds_ratio = mean(ratios);
    extra.log_odds_chosen = mean(odds);
  }
  return {
    loss,
    dChosen,
    dRejected,
    metrics: {
      'rewards/chosen': mean(rewardC),
      'rewards/rejected': mean(rewardR),
      'rewards/accuracies': mean(rewardC.map((c, i) => (c > rewardR[i] ? 1 : 0))),
      'rewards/margins': mean(rewardC.map((c, i) => c - rewardR[i])),
      'logps/chosen': mean(pairs.map((p) => p.chosen)),
      'logps/rejected': mean(pairs.map((p) => p.rejected)),
      nll_loss: nll,
      ...extra,
    },
  };
}

/** One unpaired example (KTO): summed completion log-probs of the policy and reference, and its label. */
export interface UnpairedLogps {
  logp: number;
  ref: number;
  desirable: boolean;
}

export interface KtoSettings {
  beta: number;
  desirableWeight: number;
  undesirableWeight: number;
}

export interface KtoResult {
  loss: number;
  /** d loss / d (summed policy log-prob) of each example */
  dLogp: number[];
  /** the KL baseline (detached): max(0, mean over the batch of the mismatched completions' logp - ref) */
  kl: number;
  metrics: Record<string, number>;
}

/** KTOTrainer's loss (loss_type "kto"): kl is the batch mean of (policy - reference) summed log-probs of
 * mismatched (prompt, completion) pairs (completions shifted by one in the batch), clamped at 0 and not
 * differentiated; desirable: w_d (1 - sigmoid(beta (r - kl))), undesirable: w_u (1 - sigmoid(beta (kl - r))),
 * r = logp - ref; the loss is the mean over the batch. */
export function ktoLoss(items: readonly UnpairedLogps[], klPolicy: readonly number[], klRef: readonly number[], s: KtoSettings): KtoResult {
  const n = items.length;
  if (n === 0) throw new Error('a KTO batch needs at least one example');
  if (klPolicy.length !== klRef.length) throw new Error('KTO: the KL sequences need policy and reference log-probs alike');
  const kl = klPolicy.length ? Math.max(0, mean(klPolicy.map((x, i) => x - klRef[i]))) : 0;
  const dLogp = new Array<number>(n).fill(0);
  let total = 0;
  const chosen: number[] = [];
  const rejected: number[] = [];
  const chosenLogps: number[] = [];
  const rejectedLogps: number[] = [];
  items.forEach((x, i) => {
    const r = x.logp - x.ref;
    if (x.desirable) {
      const z = s.beta * (r - kl);
      total += s.desirableWeight * (1 - sigmoid(z));
      dLogp[i] = (-s.desirableWeight * s.beta * sigmoid(z) * sigmoid(-z)) / n;
      chosen.push(s.beta * r);
      chosenLogps.push(x.logp);
    } else {
      const z = s.beta * (kl - r);
      total += s.undesirableWeight * (1 - sigmoid(z));
      dLogp[i] = (s.undesirableWeight * s.beta * sigmoid(z) * sigmoid(-z)) / n;
      rejected.push(s.beta * r);
      rejectedLogps.push(x.logp);
    }
  });
  const metrics: Record<string, number> = { kl };
  if (chosen.length) {
    metrics['rewards/chosen'] = mean(chosen);
    metrics['logps/chosen'] = mean(chosenLogps);
  }
  if (rejected.length) {
    metrics['rewards/rejected'] = mean(rejected);
    metrics['logps/rejected'] = mean(rejectedLogps);
  }
  if (chosen.length && rejected.length) metrics['rewards/margins'] = metrics['rewards/chosen'] - metrics['rewards/rejected'];
  return { loss: total / n, dLogp, kl, metrics };
}
