// The reward model's loss (TRL v1.9 RewardTrainer.compute_loss) as a function of the scalar rewards of a
// batch's chosen and rejected sequences: the Bradley-Terry loss -logsigmoid(r_c - r_r - margin), averaged
// over the pairs, plus center_rewards_coefficient x mean((r_c + r_r)^2) when the coefficient is set. The
// gradient with respect to each reward goes back through the scalar head (src/model/score_head.ts).

import { logSigmoid, sigmoid } from '../preference/losses';

export interface BradleyTerryResult {
  loss: number;
  /** d loss / d r of each pair's chosen and rejected sequence */
  dChosen: number[];
  dRejected: number[];
  /** TRL's RewardTrainer metrics: accuracy, margin, min_reward, mean_reward, max_reward */
  metrics: Record<string, number>;
}

/** margins: one per pair (TRL's optional "margin" column) or null; centerCoef 0 is TRL's None. */
export function bradleyTerryLoss(chosen: readonly number[], rejected: readonly number[], margins: readonly number[] | null, centerCoef: number): BradleyTerryResult {
  const B = chosen.length;
  if (B === 0) throw new Error('a reward-model batch needs at least one pair');
  if (rejected.length !== B || (margins && margins.length !== B)) throw new Error(`reward-model batch: ${B} chosen rewards, ${rejected.length} rejected${margins ? `, ${margins.length} margins` : ''}`);
  const dChosen = new Array<number>(B).fill(0);
  const dRejected = new Array<number>(B).fill(0);
  let bt = 0;
  let center = 0;
  for (let i = 0; i < B; i++) {
    const z = chosen[i] - rejected[i] - (margins ? margins[i] : 0);
    bt += -logSigmoid(z);
    // d -logsig(z) / dz = -sigmoid(-z)
    const dz = -sigmoid(-z) / B;
    dChosen[i] += dz;
    dRejected[i] -= dz;
    if (centerCoef > 0) {
      const s = chosen[i] + rejected[i];
      center += s * s;
      const ds = (centerCoef * 2 * s) / B;
      dChosen[i] += ds;
      dRejected[i] += ds;
    }
  }
  const all = [...chosen, ...rejected];
  return {
    loss: bt / B + (centerCoef > 0 ? (centerCoef * center) / B : 0),
    dChosen,
    dRejected,
    metrics: {
      accuracy: chosen.filter((c, i) => c > rejected[i]).length / B,
      margin: chosen.reduce((a, c, i) => a + c - rejected[i], 0) / B,
      min_reward: Math.min(...all),
      mean_reward: all.reduce((a, b) => a + b, 0) / all.length,
      max_reward: Math.max(...all),
    },
  };
}

/** An ensemble of reward models' scores reduced to one per completion: "mean", "min", or "mean_minus_std"
 * (mean - lambda x the population std over the members, the uncertainty-penalised reward of reward-model
 * ensembles: Coste et al. 2023, "Reward Model Ensembles Help Mitigate Overoptimization"). */
export type EnsembleReduce = 'mean' | 'min' | 'mean_minus_std';
export const ENSEMBLE_REDUCES: readonly EnsembleReduce[] = ['mean', 'min', 'mean_minus_std'];

export function reduceEnsemble(perMember: readonly (readonly number[])[], reduce: EnsembleReduce, lambda: number): number[] {
  const K = perMember.length;
  if (K === 0) throw new Error('a reward-model ensemble needs at least one member');
  const n = perMember[0].length;
  return Array.from({ length: n }, (_, i) => {
    const xs = perMember.map((m) => m[i]);
    if (reduce === 'min') return Math.min(...xs);
    const mean = xs.reduce((a, b) => a + b, 0) / K;
    if (reduce === 'mean') return mean;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) * (b - mean), 0) / K);
    return mean - lambda * std;
  });
}
