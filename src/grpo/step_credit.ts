// Per-turn credit for multi-turn episodes (config step_advantage "per_turn_discounted"): instead of one advantage
// for every token of an episode, each model turn t of completion i gets its own, from its discounted return
//   r_{i,t} = w_env * (the environment's step reward after turn t, 0 if none)   (+ the reward functions' weighted
//             sum, on the last turn), so that sum_t r_{i,t} is the episode's total reward
//   G_{i,t} = sum_{k >= t} gamma^{k-t} r_{i,k}
//   A_{i,t} = (G_{i,t} - mean_j G_{j,t}) / (std_j G_{j,t} + 1e-4)    over the group's completions j that reached
//             turn t (the same baseline per turn index); without the division under scale_rewards "none";
//             0 when only one completion reached turn t
// and every model token of turn t carries A_{i,t} (inserted tokens are masked out of the loss anyway). With one
// turn and gamma = 1 this is GRPO's episode advantage exactly. (Per-turn baselines as in multi-turn agent RL:
// e.g. "turn-level credit assignment" of Zeng et al. 2025, arXiv 2505.11821, and ArCHer's per-utterance credit.)

import { unbiasedStd } from './advantages';
import type { Completion } from './rollout';
import type { ScaleRewards } from './config/enums';
import type { Tokenizer } from '../model/tokenizer';

export interface TurnCreditOptions {
  gamma: number;
  scale: Exclude<ScaleRewards, 'batch'>;
  /** weight of each reward column (completion.rewards), and which column is the environment's (-1: none) */
  weights: readonly number[];
  envColumn: number;
}

/** r_{i,t} for one completion: one entry per model turn (a completion without turns is one turn). */
export function turnRewards(c: Pick<Completion, 'rewards' | 'episode'>, o: Pick<TurnCreditOptions, 'weights' | 'envColumn'>): number[] {
  const ep = c.episode;
  const turns = Math.max(1, ep?.turnTokens.length ?? 1);
  const r = new Array<number>(turns).fill(0);
  // the environment's step rewards count only when its episode reward did (an environment error voids them)
  if (o.envColumn >= 0 && ep && ep.envReward !== null) {
    ep.turnRewards.forEach((x, t) => {
      if (x !== null) r[t] += o.weights[o.envColumn] * x;
    });
  }
  let final = 0;
  c.rewards.forEach((x, f) => {
    if (f !== o.envColumn && x !== null && Number.isFinite(x)) final += o.weights[f] * x;
  });
  r[turns - 1] += final;
  return r;
}

/** A_{i,t} for a group: per completion, per model turn. */
export function perTurnAdvantages(rewards: readonly number[][], o: Pick<TurnCreditOptions, 'gamma' | 'scale'>): number[][] {
  const returns = rewards.map((r) => {
    const g = new Array<number>(r.length).fill(0);
    let acc = 0;
    for (let t = r.length - 1; t >= 0; t--) g[t] = acc = r[t] + o.gamma * acc;
    return g;
  });
  const maxTurns = Math.max(0, ...returns.map((g) => g.length));
  const adv = returns.map((g) => new Array<number>(g.length).fill(0));
  for (let t = 0; t < maxTurns; t++) {
    const who = returns.map((g, i) => (t < g.length ? i : -1)).filter((i) => i >= 0);
    if (who.length < 2) continue;
    const vals = who.map((i) => returns[i][t]);
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const std = unbiasedStd(vals);
    for (const i of who) adv[i][t] = o.scale === 'none' ? returns[i][t] - mean : (returns[i][t] - mean) / (std + 1e-4);
  }
  return adv;
}

/** Each trainIds token's advantage: model token k of the completion belongs to the turn whose tokens hold it
 * (turnTokens, in order; any model tokens past them to the last turn); inserted tokens get 0. */
export function tokenAdvantages(c: Pick<Completion, 'trainIds' | 'modelMask' | 'episode'>, turnAdv: readonly number[]): number[] {
  const out = new Array<number>(c.trainIds.length).fill(0);
  const lens = c.episode?.turnTokens ?? [c.trainIds.length];
  let turn = 0;
  let used = 0;
  for (let j = 0; j < c.trainIds.length; j++) {
    if (c.modelMask && c.modelMask[j] === 0) continue;
    while (turn < lens.length - 1 && used >= lens[turn]) {
      turn++;
      used = 0;
    }
    out[j] = turnAdv[Math.min(turn, turnAdv.length - 1)] ?? 0;
    used++;
  }
  return out;
}

/** Sets tokenAdvantages on every completion of a group (step_advantage "per_turn_discounted"). */
export function applyTurnCredit(completions: readonly Completion[], o: TurnCreditOptions): void {
  const adv = perTurnAdvantages(completions.map((c) => turnRewards(c, o)), o);
  completions.forEach((c, i) => {
    c.tokenAdvantages = tokenAdvantages(c, adv[i]);
  });
}

// Process rewards (process_credit "per_step", DeepSeekMath §4.1.3): a custom reward's per-step scores r_{i,k} for
// the steps of completion i (cut at step_separator) are normalised over every step of the group,
//   r~_{i,k} = (r_{i,k} - mean) / (std + 1e-4)          (std over all the group's step scores; no division under "none")
// and token t of completion i gets A_{i,t} = sum of r~_{i,k} over the steps k that end at or after t (its own step and
// every later one). The stop token belongs to the last step.

/** Where each token's text ends: out[j] = decode(ids[0..j]).length, in one pass of short decodes (incremental
 * detokenisation as TGI and vLLM do it). Each new token is decoded in a window that starts one settled segment back
 * (so a decoder's first-token rules, SentencePiece's stripped space or llama2.c's space after BOS, cancel out) and
 * is measured against the window without it; a window whose text ends in U+FFFD (a character whose UTF-8 bytes are
 * not all there yet) stays open, so the partial character counts as the whole prefix's decode counts it (its
 * replacement characters) until the token that completes it. Same values as decoding every prefix for decoders
 * that only look at neighbouring tokens (test/grpo/token_text_ends.test.ts keeps the prefix decodes as its oracle). */
export function tokenTextEnds(tokenizer: Pick<Tokenizer, 'decode'>, ids: readonly number[]): number[] {
  const out: number[] = [];
  let settled = 0; // decode(ids[0..read]).length
  let prefix = 0; // the window's start: the segment before read
  let read = 0; // tokens up to here are settled
  let prefixText = 0; // decode(ids[prefix..read]).length
  for (let j = 0; j < ids.length; j++) {
    const text = tokenizer.decode(ids.slice(prefix, j + 1));
    const end = settled + text.length - prefixText;
    out.push(end);
    if (text.endsWith('\uFFFD')) continue;
    settled = end;
    prefix = read;
    read = j + 1;
    prefixText = prefix < read ? tokenizer.decode(ids.slice(prefix, read)).length : 0;
  }
  return out;
}

/** The step each token ends in: tokenEnds[j] is the character where token j's text ends (decode of ids[0..j]),
 * stepEnds[k] where step k ends; a token past the text (the stop token) is in the last step. */
export function tokenSteps(tokenEnds: readonly number[], stepEnds: readonly number[], trainLength: number): number[] {
  const out: number[] = [];
  let k = 0;
  for (let j = 0; j < trainLength; j++) {
    if (j >= tokenEnds.length) {
      out.push(stepEnds.length - 1);
      continue;
    }
    while (k < stepEnds.length - 1 && tokenEnds[j] > stepEnds[k]) k++;
    out.push(k);
  }
  return out;
}

/** Per-token advantages of a group from its completions' step scores (each with the step of each token). A
 * completion without step scores (its reward failed) gets 0 everywhere. */
export function perStepAdvantages(
  steps: readonly (readonly number[] | null)[],
  tokenStep: readonly (readonly number[])[],
  scale: 'group' | 'none',
): number[][] {
  const all = steps.flatMap((s) => s ?? []);
  const mean = all.length ? all.reduce((a, b) => a + b, 0) / all.length : 0;
  const std = unbiasedStd(all);
  return steps.map((s, i) => {
    if (!s) return tokenStep[i].map(() => 0);
    const norm = s.map((r) => (scale === 'none' ? r - mean : (r - mean) / (std + 1e-4)));
    // suffix sums: the credit of step k is its own normalised score plus every later one's
    const suffix = new Array<number>(norm.length + 1).fill(0);
    for (let k = norm.length - 1; k >= 0; k--) suffix[k] = suffix[k + 1] + norm[k];
    return tokenStep[i].map((k) => suffix[Math.min(k, norm.length - 1)]);
  });
}
