// The reward of a completion from several reward functions, as TRL computes it: the weighted sum over
// functions, skipping those that returned null ("not applicable"; TRL's nansum). A completion for which
// every function returned null would get NaN; it gets 0 and is counted so the caller can warn.

export interface CombinedRewards {
  /** one reward per completion */
  rewards: number[];
  /** indices of completions where every function returned null (their reward is 0) */
  allNull: number[];
}

/** perFunc[f][i]: function f's value for completion i; weights[f]: its weight. */
export function combineRewardsDetailed(perFunc: readonly (readonly (number | null)[])[], weights: readonly number[]): CombinedRewards {
  if (perFunc.length !== weights.length) {
    throw new Error(`combineRewards: ${perFunc.length} reward functions but ${weights.length} weights; give one weight per function`);
  }
  const n = perFunc.length ? perFunc[0].length : 0;
  perFunc.forEach((vals, f) => {
    if (vals.length !== n) throw new Error(`combineRewards: function ${f} scored ${vals.length} completions, function 0 scored ${n}`);
  });
  const rewards: number[] = [];
  const allNull: number[] = [];
  for (let i = 0; i < n; i++) {
    let sum = 0;
    let any = false;
    for (let f = 0; f < perFunc.length; f++) {
      const v = perFunc[f][i];
      if (v === null || v === undefined || Number.isNaN(v)) continue;
      sum += weights[f] * v;
      any = true;
    }
    if (!any) allNull.push(i);
    rewards.push(any ? sum : 0);
  }
  return { rewards, allNull };
}

/** The weighted sum per completion (see combineRewardsDetailed for the count of all-null rows). */
export function combineRewards(perFunc: readonly (readonly (number | null)[])[], weights: readonly number[]): number[] {
  return combineRewardsDetailed(perFunc, weights).rewards;
}
