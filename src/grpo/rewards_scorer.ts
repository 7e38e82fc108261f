// The trainer's view of reward functions: score a batch of completions with every configured function,
// then combine them with their weights. null means "not applicable" (TRL): it is skipped in the sum.

export interface RewardItem {
  prompt: string;
  completion: string;
  answer: string;
  row: Record<string, unknown>;
  completionTokens: number;
}

export interface RewardScores {
  /** [function][item] */
  perFunc: (number | null)[][];
  /** messages of functions that failed (custom code that threw or timed out), counted per batch */
  errors: string[];
}

export interface RewardScorer {
  readonly names: string[];
  readonly weights: number[];
  score(items: RewardItem[]): Promise<RewardScores>;
  dispose?(): void;
}

/** Weighted sum per item; an item where every function returned null gets 0 (counted in `allNull`). */
export function weightedRewards(perFunc: (number | null)[][], weights: number[], n: number): { total: number[]; allNull: number } {
  const total: number[] = [];
  let allNull = 0;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    let any = false;
    perFunc.forEach((vals, f) => {
      const v = vals[i];
      if (v !== null && v !== undefined && Number.isFinite(v)) {
        sum += weights[f] * v;
        any = true;
      }
    });
    if (!any) allNull++;
    total.push(sum);
  }
  return { total, allNull };
}
