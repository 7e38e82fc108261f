// Token traces are kept for the last TRACE_STEPS_KEPT steps only; older steps keep their completions.
import { describe, expect, test } from 'vitest';
import { TRACE_STEPS_KEPT, withoutOldTraces } from '../../src/ui/store/run';
import type { StepEvent } from '../../src/worker/protocol';

const trace = { step: 1, tokens: ['a'], logp: [-1], entropy: [0.5], ratio: [1], contribution: [0.3], flags: [0], active: 1 };
const event = (step: number): StepEvent => ({
  kind: 'step', step, metrics: {}, rewardNames: [], rewardErrors: [],
  groups: [{ prompt: 'p', answer: 'a', rewardStd: 0, completions: [{ text: 'a', tokens: 1, truncated: false, rewards: [1], reward: 1, advantage: 0, trace: { ...trace, step } }] }],
});

describe('token trace retention', () => {
  test('appending one step at a time keeps traces on the last TRACE_STEPS_KEPT steps', () => {
    let kept: StepEvent[] = [];
    for (let s = 1; s <= 25; s++) kept = [...withoutOldTraces(kept), event(s)];
    const withTrace = kept.filter((e) => e.groups[0].completions[0].trace).map((e) => e.step);
    expect(withTrace).toEqual(Array.from({ length: TRACE_STEPS_KEPT }, (_, i) => 25 - TRACE_STEPS_KEPT + 1 + i));
    expect(kept).toHaveLength(25);
    expect(kept[0].groups[0].completions[0].text).toBe('a');
  });
});
