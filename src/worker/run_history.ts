// A run's drawn history: every step's metrics, the evaluations and the reward names, as the events of a
// `train` request (protocol.ts) build it. ONE reducer, used by both sides of the protocol: the worker's
// run (src/worker/run.ts), which stores it in checkpoints, and the page's run slice (src/ui/store/run.ts),
// which draws it; so a resumed run redraws exactly what the page drew.
//
// Why here: the reducer folds protocol events (TrainEvent), which are declared in src/worker/protocol.ts;
// the page already imports the protocol from src/worker (ui -> worker), so both may import this module
// without an arrow pointing backwards, and src/grpo needs no copy of the event types. It is pure and
// imports types only: the page pulls in no worker or GPU code through it.

import type { EvalPoint, MetricRow } from '../export/metrics';
import type { TrainEvent } from './protocol';

export interface RunHistory {
  /** every step's metrics, in TRL's names, in step order */
  history: MetricRow[];
  /** one point per evaluated step (a later evaluation of the same step replaces the earlier) */
  evals: EvalPoint[];
  /** the reward functions' names of the latest step */
  rewardNames: string[];
}

export const EMPTY_RUN_HISTORY: RunHistory = { history: [], evals: [], rewardNames: [] };

/** The history after `e` (a new object when it changed, `h` itself when the event draws nothing):
 * - a step appends its metrics and sets the reward names;
 * - an evaluation with samples (n > 0) replaces any point of its step; an empty one (no eval split) is not drawn;
 * - a recovery from a lost device drops what came after the step it resumed from (those steps are redone). */
export function reduceRunHistory(h: RunHistory, e: TrainEvent): RunHistory {
  switch (e.kind) {
    case 'step':
      return { ...h, history: [...h.history, { step: e.step, ...e.metrics }], rewardNames: e.rewardNames };
    case 'eval':
      if (!(e.n > 0)) return h;
      return { ...h, evals: [...h.evals.filter((x) => x.step !== e.step), { step: e.step, passAt1: e.passAt1, rewardMean: e.rewardMean, ...(e.atK ? { atK: e.atK } : {}) }] };
    case 'recovered':
      return rewindRunHistory(h, e.step);
    case 'checkpoint':
    case 'deviceLost':
    case 'data':
      return h;
  }
}

/** The history up to and including `step` (a run restored or recovered at that step). */
export function rewindRunHistory(h: RunHistory, step: number): RunHistory {
  return { ...h, history: h.history.filter((x) => x.step <= step), evals: h.evals.filter((x) => x.step <= step) };
}
