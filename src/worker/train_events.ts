// The trainer's reports as the protocol's events (protocol.ts): what a step and an evaluation send to the
// page. Rollouts and samples are capped so that a progress message stays small.

import type { EvalReport, StepReport } from '../grpo/trainer';
import type { EvalEvent, StepEvent, TurnView } from './protocol';

export function stepEvent(r: StepReport): StepEvent {
  return {
    kind: 'step',
    step: r.step,
    metrics: r.metrics,
    rewardNames: r.rewardNames,
    rewardErrors: r.rewardErrors.slice(0, 20),
    groups: r.groups.map((g, gi) => ({
      prompt: g.prompt.text,
      answer: g.prompt.answer,
      rewardStd: g.rewardStd,
      completions: g.completions.map((c, ci) => ({
        // the token inspector's per-token values (the trainer traces the first groups of a step only)
        ...(r.traces[gi]?.[ci] ? { trace: r.traces[gi][ci]! } : {}),
        text: c.text,
        tokens: c.trainIds.length,
        truncated: c.truncated,
        rewards: c.rewards,
        reward: c.reward,
        advantage: c.advantage,
        ...(c.turns ? { turns: c.turns.slice(0, 64).map(clipTurn) } : {}),
      })),
    })),
  };
}

/** A turn with its texts cut to 2000 characters (a progress message stays small). */
function clipTurn(t: TurnView): TurnView {
  const clip = (x: string) => (x.length > 2000 ? `${x.slice(0, 2000)}…` : x);
  return 'text' in t ? { ...t, text: clip(t.text) } : t;
}

export function evalEvent(e: EvalReport): EvalEvent {
  return { kind: 'eval', step: e.step, passAt1: e['pass@1'], rewardMean: e.reward_mean, n: e.n, samples: e.samples.slice(0, 20), ...(e.atK ? { atK: e.atK } : {}) };
}
