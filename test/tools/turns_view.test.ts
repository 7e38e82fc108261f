// The rollouts panel's turns: each kind labelled, tool calls with their arguments, inserted text marked as
// not trained on, text escaped (never HTML); and the step event carries the turns, clipped.
import { describe, expect, test } from 'vitest';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { Turns } from '../../src/ui/rollouts/Turns';
import { stepEvent } from '../../src/worker/train_events';
import type { TurnView } from '../../src/worker/protocol';

const TURNS: TurnView[] = [
  { kind: 'observation', text: 'Guess a number.', reward: null },
  { kind: 'model', text: 'Let me <b>add</b>: <tool>add({"a": 2, "b": 3})</tool>' },
  { kind: 'tool_call', name: 'add', args: { a: 2, b: 3 } },
  { kind: 'tool_result', name: 'add', text: '5' },
  { kind: 'tool_error', name: null, text: 'the tool call is not valid JSON' },
  { kind: 'observation', text: 'Higher.', reward: -0.1 },
  { kind: 'env_error', text: 'step failed: Error: boom' },
];

describe('turns in the rollouts panel', () => {
  test('each turn labelled; calls with arguments; inserted text marked; no HTML from the model', () => {
    const html = renderToStaticMarkup(createElement(Turns, { turns: TURNS }));
    for (const label of ['Model', 'Tool call', 'Result', 'Tool error', 'Observation', 'Environment error']) expect(html).toContain(label);
    expect(html).toContain('add({&quot;a&quot;:2,&quot;b&quot;:3})');
    expect(html).toContain('reward -0.1');
    expect(html).toContain('&lt;b&gt;add&lt;/b&gt;');
    expect(html.match(/inserted, not trained on/g)).toHaveLength(5);
  });

  test('the step event carries the turns, texts clipped', () => {
    const long = 'x'.repeat(5000);
    const ev = stepEvent({
      step: 1, metrics: {}, rewardNames: ['environment'], rewardErrors: [], traces: [],
      groups: [{ prompt: { text: 'p', ids: [1], answer: 'a', raw: {} }, rewardStd: 0, zeroStd: true, completions: [
        { text: 't', ids: [], trainIds: [], truncated: false, rewards: [0], reward: 0, advantage: 0, turns: [{ kind: 'model', text: long }], modelMask: [] },
        { text: 'u', ids: [], trainIds: [], truncated: false, rewards: [0], reward: 0, advantage: 0 },
      ] }],
    });
    const [a, b] = ev.groups[0].completions;
    expect(a.turns![0]).toEqual({ kind: 'model', text: `${'x'.repeat(2000)}…` });
    expect(b.turns).toBeUndefined();
  });
});
