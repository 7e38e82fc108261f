// Group-relative advantages (DeepSeekMath's GRPO; TRL's scale_rewards):
//   A_i = (r_i - mean(group)) / (std(group) + 1e-4)   scale_rewards 'group' (unbiased std, as torch.std)
//   A_i = (r_i - mean(group)) / (std(batch) + 1e-4)   'batch'
//   A_i =  r_i - mean(group)                          'none' (Dr. GRPO)
// Rewards are laid out group by group: completions g*G .. g*G + G - 1 belong to prompt g.

import type { ScaleRewards } from './config/enums';
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
