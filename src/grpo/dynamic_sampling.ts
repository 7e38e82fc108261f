// DAPO's dynamic sampling with refill: groups whose rewards carry no signal (every advantage equal) are dropped,
// and more prompts are sampled until the batch holds as many groups with a reward spread as it has slots, for at
// most max_resample_rounds extra rounds (DAPO, Yu et al. 2025, §3.2 and its verl recipe's max_num_gen_batches).
// If the rounds run out, the batch is filled with the flat groups drawn first (which dynamic_sampling then drops,
// as without refill), rather than stopping the run as the recipe does.

import type { Rollout, RolloutGroup } from './rollout';

export interface RefillStats {
  /** extra sampling rounds used */
  rounds: number;
  /** groups generated in all rounds */
  groupsGenerated: number;
  /** share of the first round's groups without signal */
  zeroSpreadBefore: number;
  /** share of the final batch's groups without signal (0 when the refill filled every slot) */
  zeroSpreadAfter: number;
}

/** No learning signal: what dynamic_sampling drops (trainer.ts). */
export const isFlat = (g: RolloutGroup): boolean => g.flat ?? g.zeroStd;

/**
 * Fills `first`'s slots with groups that have signal: while fewer than first.groups.length do, and fewer than
 * maxRounds extra rounds were run, sample(n, round) rolls out n more prompts (the deficit). The result keeps
 * the groups with signal in the order drawn, then (if short) the first flat groups; reward errors, tokens and
 * times of every round are summed.
 */
export async function refillRollout(
  first: Rollout,
  maxRounds: number,
  sample: (n: number, round: number) => Promise<Rollout>,
): Promise<{ rollout: Rollout; stats: RefillStats }> {
  const slots = first.groups.length;
  const good = first.groups.filter((g) => !isFlat(g));
  const flat = first.groups.filter(isFlat);
  const zeroSpreadBefore = slots ? flat.length / slots : 0;
  const merged: Rollout = { ...first, rewardErrors: [...first.rewardErrors] };
  let groupsGenerated = slots;
  let rounds = 0;
  while (good.length < slots && rounds < maxRounds) {
    rounds++;
    const more = await sample(slots - good.length, rounds);
    groupsGenerated += more.groups.length;
    for (const g of more.groups) (isFlat(g) ? flat : good).push(g);
    merged.rewardErrors.push(...more.rewardErrors);
    merged.allNullRewards += more.allNullRewards;
    merged.generatedTokens += more.generatedTokens;
    merged.generationMs += more.generationMs;
    merged.rewardMs += more.rewardMs;
  }
  const groups = [...good.slice(0, slots), ...flat.slice(0, Math.max(0, slots - good.length))];
  merged.groups = groups;
  return {
    rollout: merged,
    stats: { rounds, groupsGenerated, zeroSpreadBefore, zeroSpreadAfter: slots ? groups.filter(isFlat).length / slots : 0 },
  };
}
