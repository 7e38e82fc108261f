// The one history reducer of a run (src/worker/run_history.ts), which the worker's run and the page's run
// slice both use: steps append, an evaluation replaces its step's point (an empty one is not drawn), a
// recovery drops the steps after the checkpoint it resumed from, and events that draw nothing keep it as is.
import { describe, expect, test } from 'vitest';
import { EMPTY_RUN_HISTORY, reduceRunHistory, rewindRunHistory } from '../../src/worker/run_history';
import type { TrainEvent } from '../../src/worker/protocol';

const step = (n: number): TrainEvent => ({ kind: 'step', step: n, metrics: { reward: n / 10 }, rewardNames: [`r${n}`], rewardErrors: [], groups: [] });
const evalAt = (n: number, passAt1: number, samples = 4): TrainEvent => ({ kind: 'eval', step: n, passAt1, rewardMean: passAt1 / 2, n: samples, samples: [] });

describe('reduceRunHistory', () => {
  test('steps, evaluations, an empty evaluation, a re-evaluation, a checkpoint and a recovery', () => {
    const events: TrainEvent[] = [
      evalAt(0, 0.1), step(1), step(2), evalAt(2, 0.3), { kind: 'checkpoint', step: 2, savedAt: 1, problem: null },
      step(3), evalAt(3, 0.5, 0), evalAt(2, 0.4), { kind: 'deviceLost', step: 3, message: 'lost' },
    ];
    const h = events.reduce(reduceRunHistory, EMPTY_RUN_HISTORY);
    expect(h.history).toEqual([{ step: 1, reward: 0.1 }, { step: 2, reward: 0.2 }, { step: 3, reward: 0.3 }]);
    expect(h.evals).toEqual([{ step: 0, passAt1: 0.1, rewardMean: 0.05 }, { step: 2, passAt1: 0.4, rewardMean: 0.2 }]);
    expect(h.rewardNames).toEqual(['r3']);
    const back = reduceRunHistory(h, { kind: 'recovered', step: 1, message: 'resumed' });
    expect(back.history.map((x) => x.step)).toEqual([1]);
    expect(back.evals.map((x) => x.step)).toEqual([0]);
    expect(back).toEqual(rewindRunHistory(h, 1));
    // nothing drawn: the same object; and the input is never changed
    expect(reduceRunHistory(h, { kind: 'checkpoint', step: 3, savedAt: 2, problem: 'full' })).toBe(h);
    expect(reduceRunHistory(h, evalAt(4, 1, 0))).toBe(h);
    expect(h.history).toHaveLength(3);
    expect(EMPTY_RUN_HISTORY).toEqual({ history: [], evals: [], rewardNames: [] });
  });
});
