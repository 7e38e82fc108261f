// Group-relative advantages (DeepSeekMath's GRPO; TRL's scale_rewards):
//   A_i = (r_i - mean(group)) / (std(group) + 1e-4)   scale_rewards 'group' (unbiased std, as torch.std)
//   A_i = (r_i - mean(group)) / (std(batch) + 1e-4)   'batch'
//   A_i =  r_i - mean(group)                          'none' (Dr. GRPO)
// Rewards are laid out group by group: completions g*G .. g*G + G - 1 belong to prompt g.

import type { AdvantageEstimator, MultiObjectiveAggregation, ScaleRewards } from './config/enums';
export type { ScaleRewards };

export interface Advantages {
  advantages: number[];
  groupMean: number[];
  groupStd: number[];
  /** per group: every reward equal (no learning signal) */
  zeroStd: boolean[];
}

export function unbiasedStd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return Math.sqrt(ss / (xs.length - 1));
}

export function computeAdvantages(rewards: readonly number[], G: number, scale: ScaleRewards): Advantages {
  if (!Number.isInteger(G) || G < 1) throw new Error(`group size must be a positive integer, got ${G}`);
  if (rewards.length % G !== 0) throw new Error(`${rewards.length} rewards do not split into groups of ${G}`);
  const nGroups = rewards.length / G;
  const groupMean: number[] = [];
  const groupStd: number[] = [];
  const zeroStd: boolean[] = [];
  for (let g = 0; g < nGroups; g++) {
    const grp = rewards.slice(g * G, (g + 1) * G);
    groupMean.push(grp.reduce((a, b) => a + b, 0) / G);
    const std = unbiasedStd(grp);
    groupStd.push(std);
    zeroStd.push(Math.abs(std) < 1e-8);
  }
  const batchStd = unbiasedStd(rewards);
  const advantages = rewards.map((r, i) => {
    const g = Math.floor(i / G);
    const centred = r - groupMean[g];
    if (scale === 'none') return centred;
    return centred / ((scale === 'group' ? groupStd[g] : batchStd) + 1e-4);
  });
  return { advantages, groupMean, groupStd, zeroStd };
}

// ---------------------------------------------------------------------------------------------------
// Advantages from each reward function's values (issue 15): TRL's multi_objective_aggregation and the
// advantage estimators of verl / OpenRLHF. A completion for which every reward function returned null is
// left out of its group's baseline (and of batch statistics) and gets advantage 0, as in TRL.
//   sum_then_normalize, grpo:  r = sum_f w_f r_f; A_i = (r_i - mean(valid group)) / (std + 1e-4) per scale_rewards
//   sum_then_normalize, rloo:  A_i = r_i - mean of the other valid rewards of its group (no scaling)
//   sum_then_normalize, reinforce_pp (OpenRLHF's reinforce_baseline) and reinforce_pp_verl (verl's
//     reinforce_plus_plus_baseline, masked_whiten): c_i = r_i - mean(valid group); every completion token carries c_i,
//     and the tokens of the batch (n_i of completion i, valid completions only) are whitened:
//     mu = sum n_i c_i / N, N = sum n_i; var = sum n_i (c_i - mu)^2 / N (OpenRLHF) or / (N - 1) (verl, unbiased);
//     A_i = (c_i - mu) / sqrt(max(var, 1e-8)) (OpenRLHF: var.clamp(min=1e-8).rsqrt()) or / sqrt(var + 1e-8) (verl)
//   normalize_then_sum (GDPO): z_fi = (r_fi - mean_f(group)) / (std_f(group) + 1e-4) over the group's non-null
//     values of function f; s_i = sum_f w_f z_fi (non-null only); A_i = (s_i - mean(s)) / (std(s) + 1e-4) over the batch
// std is the unbiased standard deviation throughout (torch.std), 0 for fewer than 2 values.


export interface AdvantageSettings {
  scale: ScaleRewards;
  estimator: AdvantageEstimator;
  aggregation: MultiObjectiveAggregation;
}

export interface RewardAdvantages extends Advantages {
  /** the weighted sum of each completion's non-null rewards (0 when all are null) */
  rewards: number[];
  /** every reward function returned null for this completion */
  allNull: boolean[];
  /** per group: every valid completion got the same advantage (no learning signal in the advantages used:
   * what dynamic_sampling drops) */
  flat: boolean[];
  /** per group: TRL's is_std_zero, the metric frac_reward_zero_std: the group's reward std under scale_rewards
   * "group" and "none", the batch's std under "batch" and of the summed normalised rewards under normalize_then_sum */
  loggedZeroStd: boolean[];
}

const isValue = (v: number | null | undefined): v is number => v !== null && v !== undefined && !Number.isNaN(v);
const meanOf = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** perFunc[f][i]: reward function f's value for completion i (null: not applicable). tokens[i]: the tokens
 * completion i trains on (REINFORCE++'s token-weighted whitening; absent: 1 each). */
export function rewardAdvantages(
  perFunc: readonly (readonly (number | null)[])[], weights: readonly number[], G: number, s: AdvantageSettings, tokens?: readonly number[],
): RewardAdvantages {
  const r = advantagesOf(perFunc, weights, G, s, tokens);
  const nGroups = r.advantages.length / G;
  const flat: boolean[] = [];
  for (let g = 0; g < nGroups; g++) {
    const vals = Array.from({ length: G }, (_, j) => g * G + j).filter((i) => !r.allNull[i]).map((i) => r.advantages[i]);
    flat.push(vals.length === 0 || Math.max(...vals) - Math.min(...vals) < 1e-8);
  }
  const valid = r.rewards.filter((_, i) => !r.allNull[i]);
  const batchZero = (xs: number[]) => xs.length < 2 || Math.abs(unbiasedStd(xs)) < 1e-8;
  let loggedZeroStd = r.zeroStd;
  if (s.aggregation === 'normalize_then_sum') loggedZeroStd = r.zeroStd.map(() => batchZero(r.summed!));
  else if (s.scale === 'batch' && s.estimator === 'grpo') loggedZeroStd = r.zeroStd.map(() => batchZero(valid));
  const { summed: _summed, ...rest } = r;
  return { ...rest, flat, loggedZeroStd };
}

function advantagesOf(
  perFunc: readonly (readonly (number | null)[])[], weights: readonly number[], G: number, s: AdvantageSettings, tokens?: readonly number[],
): Omit<RewardAdvantages, 'flat' | 'loggedZeroStd'> & { summed?: number[] } {
  if (!Number.isInteger(G) || G < 1) throw new Error(`group size must be a positive integer, got ${G}`);
  if (perFunc.length !== weights.length) throw new Error(`${perFunc.length} reward functions but ${weights.length} weights`);
  const n = perFunc.length ? perFunc[0].length : 0;
  if (n % G !== 0) throw new Error(`${n} rewards do not split into groups of ${G}`);
  const allNull: boolean[] = [];
  const rewards: number[] = [];
  for (let i = 0; i < n; i++) {
    let sum = 0;
    let any = false;
    for (let f = 0; f < perFunc.length; f++) {
      const v = perFunc[f][i];
      if (!isValue(v)) continue;
      sum += weights[f] * v;
      any = true;
    }
    allNull.push(!any);
    rewards.push(any ? sum : 0);
  }
  const nGroups = n / G;
  const members = (g: number) => Array.from({ length: G }, (_, j) => g * G + j).filter((i) => !allNull[i]);
  const groupMean: number[] = [];
  const groupStd: number[] = [];
  const zeroStd: boolean[] = [];
  for (let g = 0; g < nGroups; g++) {
    const vals = members(g).map((i) => rewards[i]);
    groupMean.push(meanOf(vals));
    const std = unbiasedStd(vals);
    groupStd.push(std);
    zeroStd.push(Math.abs(std) < 1e-8);
  }
  const advantages = new Array<number>(n).fill(0);
  if (s.aggregation === 'normalize_then_sum') {
    const summed = new Array<number>(n).fill(0);
    for (let f = 0; f < perFunc.length; f++) {
      for (let g = 0; g < nGroups; g++) {
        const idx = members(g).filter((i) => isValue(perFunc[f][i]));
        const vals = idx.map((i) => perFunc[f][i] as number);
        const m = meanOf(vals);
        const sd = unbiasedStd(vals);
        for (const i of idx) summed[i] += weights[f] * (((perFunc[f][i] as number) - m) / (sd + 1e-4));
      }
    }
    const valid = summed.filter((_, i) => !allNull[i]);
    const m = meanOf(valid);
    const sd = unbiasedStd(valid);
    for (let i = 0; i < n; i++) if (!allNull[i]) advantages[i] = (summed[i] - m) / (sd + 1e-4);
    return { advantages, groupMean, groupStd, zeroStd, rewards, allNull, summed: valid };
  }
  switch (s.estimator) {
    case 'grpo': {
      const batchStd = unbiasedStd(rewards.filter((_, i) => !allNull[i]));
      for (let i = 0; i < n; i++) {
        if (allNull[i]) continue;
        const g = Math.floor(i / G);
        const centred = rewards[i] - groupMean[g];
        advantages[i] = s.scale === 'none' ? centred : centred / ((s.scale === 'group' ? groupStd[g] : batchStd) + 1e-4);
      }
      break;
    }
    case 'rloo': {
      for (let g = 0; g < nGroups; g++) {
        const idx = members(g);
        const k = idx.length;
        const sum = idx.reduce((a, i) => a + rewards[i], 0);
        for (const i of idx) advantages[i] = k > 1 ? rewards[i] - (sum - rewards[i]) / (k - 1) : 0;
      }
      break;
    }
    case 'reinforce_pp':
    case 'reinforce_pp_verl': {
      const centred = new Array<number>(n).fill(0);
      for (let i = 0; i < n; i++) if (!allNull[i]) centred[i] = rewards[i] - groupMean[Math.floor(i / G)];
      const idx = Array.from({ length: n }, (_, i) => i).filter((i) => !allNull[i]);
      const w = (i: number) => (tokens ? tokens[i] : 1);
      const N = idx.reduce((a, i) => a + w(i), 0);
      if (N === 0) break;
      const mu = idx.reduce((a, i) => a + w(i) * centred[i], 0) / N;
      const ss = idx.reduce((a, i) => a + w(i) * (centred[i] - mu) ** 2, 0);
      const verl = s.estimator === 'reinforce_pp_verl';
      const v = verl ? (N > 1 ? ss / (N - 1) : 0) : ss / N;
      const scale = verl ? 1 / Math.sqrt(v + 1e-8) : 1 / Math.sqrt(Math.max(v, 1e-8));
      for (const i of idx) advantages[i] = (centred[i] - mu) * scale;
      break;
    }
  }
  return { advantages, groupMean, groupStd, zeroStd, rewards, allNull };
}
