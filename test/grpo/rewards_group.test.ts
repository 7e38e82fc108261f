// Rewards that see their group: majority_vote (hand-counted votes, ties, no answer, the three extractions),
// the group handed to a custom JavaScript reward in its sandbox, the Python twin in the TRL export scoring
// a shuffled TRL batch as the playground scores its groups, and one GRPO step on stories260K with it.
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { REWARD_FUNCS, answerKey, majorityAnswers } from '../../src/grpo/rewards';
import { createRewardScorer, type RewardItem } from '../../src/grpo/rewards_scorer';
import { trlScript } from '../../src/export/trl_script';
import { defaultConfig } from '../../src/grpo/config';
import { testGpu } from '../gpu';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { preparePrompts } from '../../src/grpo/prompts';
import { loadStories, storyRows, wordConfig } from './fixtures';

const vote = REWARD_FUNCS.majority_vote.fn;
/** majority_vote of every member of a group */
const votes = (group: string[], params: Record<string, unknown> = {}) => group.map((c) => vote(c, '', '', params, { group_completions: group }));

describe('majority_vote', () => {
  test('1 for the most common answer, 0 for the others and for no answer', () => {
    // tag: answers 5, 5, 7, none -> 5 has two votes
    expect(votes(['<answer>5</answer>', 'so \\boxed{5}', '<answer>7</answer>', 'I do not know'], { extract: 'tag' })).toEqual([1, 1, 0, 0]);
    // auto: the untagged completion is its own answer ("i do not know", one vote); 5 still wins 2 to 1 to 1
    expect(votes(['<answer>5</answer>', 'so \\boxed{5}', '<answer>7</answer>', 'I do not know'])).toEqual([1, 1, 0, 0]);
    // auto normalises as exact_match: case, spaces, trailing punctuation
    expect(votes(['Paris.', ' paris', 'Rome', 'ROME!', 'Rome'])).toEqual([0, 0, 1, 1, 1]);
    expect(votes(['Paris', 'paris', 'Rome'], { case_sensitive: true })).toEqual([1, 1, 1]); // three answers, one vote each
    // number: 1,000 and 1000.0 are one answer; a completion without a number gives none
    expect(votes(['it is 1,000', '\\boxed{1000.0}', 'maybe 999', 'no idea'], { extract: 'number' })).toEqual([1, 1, 0, 0]);
    // an empty completion gives no answer, and does not vote
    expect(votes(['', '', 'a'])).toEqual([0, 0, 1]);
  });

  test('ties: every answer tied for the most votes counts', () => {
    expect(votes(['a', 'b', 'a', 'b', 'c'])).toEqual([1, 1, 1, 1, 0]);
    expect(votes(['x', 'y'])).toEqual([1, 1]);
    expect([...majorityAnswers(['a', null, 'b', 'b', null])]).toEqual(['b']);
    expect(majorityAnswers([null, null]).size).toBe(0);
  });

  test('without a group a completion is its own group', () => {
    expect(vote('<answer>3</answer>', '', '', {})).toBe(1);
    expect(vote('no tag', '', '', { extract: 'tag' })).toBe(0);
    expect(answerKey('The answer is \\boxed{ 42 }.')).toBe('42');
    expect(answerKey('x = 3/4', 'number')).toBe('0.75');
  });
});

describe('the group in the scorer', () => {
  const items = (groups: string[][]): RewardItem[] =>
    groups.flatMap((g, gi) => g.map((completion) => ({ prompt: `p${gi}`, completion, answer: '', row: { gi }, completionTokens: 1, group: g })));

  test('built-in majority_vote and a custom sandboxed reward both see the group', async () => {
    const scorer = createRewardScorer(
      [
        { name: 'majority_vote', weight: 1, params: {} },
        // the share of the group that agrees with this completion (itself included), and whether a row's
        // function could change what the next row sees (it must not: each call gets its own list)
        { name: 'custom', weight: 1, params: { source: '(p, c, a, row, group) => { const n = group.filter((x) => x === c).length / group.length; group.length = 0; return n; }' } },
      ],
      { maxCompletionLength: 16 },
    );
    try {
      const s = await scorer.score(items([['a', 'a', 'b', 'a'], ['x', 'y', 'y']]));
      expect(s.errors).toEqual([]);
      expect(s.perFunc[0]).toEqual([1, 1, 0, 1, 0, 1, 1]);
      expect(s.perFunc[1]).toEqual([0.75, 0.75, 0.25, 0.75, 1 / 3, 2 / 3, 2 / 3]);
      // an item without a group is alone
      const alone = await scorer.score([{ prompt: 'p', completion: 'z', answer: '', row: {}, completionTokens: 1 }]);
      expect(alone.perFunc).toEqual([[1], [1]]);
    } finally {
      scorer.dispose();
    }
  });
});

const python = spawnSync('python3', ['--version']).status === 0;

describe.skipIf(!python)('the Python twin in the TRL export', () => {
  test('groups a TRL batch by prompt and scores as the playground', () => {
    const script = trlScript({
      config: { ...defaultConfig(), reward_funcs: [{ name: 'majority_vote', weight: 1, params: { extract: 'number' } }] },
      modelName: 'm',
      dataset: { name: 'd.jsonl', format: 'jsonl', promptColumn: 'prompt', answerColumn: 'answer' },
      stepsTrained: 1,
    });
    expect(script).toContain('make_majority_vote("majority_vote", extract="number")');
    const helpers = script.slice(script.indexOf('# ---- reward helpers'), script.indexOf('# ---- the run ----'));
    const cut = helpers.indexOf('# The custom JavaScript reward');
    const code = cut >= 0 ? helpers.slice(0, cut) : helpers;
    const groups: Record<string, string[]> = {
      p1: ['it is 1,000', '\\boxed{1000.0}', 'maybe 999', 'no idea'],
      p2: ['3', '4', '4', '3'],
      p3: ['none', 'nothing', 'zero'],
      p4: ['no', 'x = 5'],
    };
    // a TRL batch: prompts repeated, the groups interleaved
    const batch = [
      ['p1', 0], ['p2', 0], ['p1', 1], ['p3', 0], ['p2', 1], ['p1', 2], ['p3', 1], ['p2', 2], ['p2', 3], ['p4', 0], ['p1', 3], ['p3', 2], ['p4', 1],
    ] as const;
    const program = `import math, re\n${code}
import json, sys
b = json.loads(sys.stdin.read())
print(json.dumps(make_majority_vote("f", extract="number")(prompts=b["prompts"], completions=b["completions"])))
`;
    const r = spawnSync('python3', ['-c', program], {
      input: JSON.stringify({ prompts: batch.map(([p]) => p), completions: batch.map(([p, i]) => groups[p][i]) }),
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as number[];
    const want = batch.map(([p, i]) => vote(groups[p][i], '', '', { extract: 'number' }, { group_completions: groups[p] }));
    // hand-counted: p1 1000 wins 2-1; p2 3 and 4 tie; p3 gives no answers; p4's one answer is the majority
    expect(want).toEqual([1, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1]);
    expect(got).toEqual(want);
  });
});

describe('a GRPO step rewarded by majority_vote', () => {
  test('each completion is scored against its own group and the step trains', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    // two tokens per completion: short enough that groups repeat answers
    const config = wordConfig({ max_completion_length: 2, reward_funcs: [{ name: 'majority_vote', weight: 1, params: {} }] });
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const train = preparePrompts(storyRows(''), loaded, config).examples;
    const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
    try {
      const report = await trainer.trainStep();
      expect(report.rewardNames).toEqual(['majority_vote']);
      let mixed = 0;
      for (const g of report.groups) {
        // hand count: normalised texts, the most common one(s) get 1
        const keys = g.completions.map((c) => c.text.replace(/\s+/g, ' ').trim().replace(/[\s.,;:!?]+$/u, '').toLowerCase());
        const count = (k: string) => keys.filter((x) => x === k).length;
        const top = Math.max(...keys.filter((k) => k !== '').map(count));
        const want = keys.map((k) => (k !== '' && count(k) === top ? 1 : 0));
        expect(g.completions.map((c) => c.rewards[0]), JSON.stringify(keys)).toEqual(want);
        if (new Set(want).size > 1) {
          mixed++;
          // the majority is above the group mean, the others below
          g.completions.forEach((c, i) => expect(Math.sign(c.advantage)).toBe(want[i] ? 1 : -1));
        }
      }
      console.log('majority_vote groups:', report.groups.map((g) => g.completions.map((c) => JSON.stringify(c.text)).join(' ')).join(' | '));
      expect(mixed).toBeGreaterThan(0);
      expect(Number.isFinite(report.metrics.loss)).toBe(true);
      expect(report.metrics['rewards/majority_vote/mean']).toBeCloseTo(
        report.groups.flatMap((g) => g.completions.map((c) => c.rewards[0] as number)).reduce((a, b) => a + b, 0) / (report.groups.length * 8),
        9,
      );
    } finally {
      trainer.release();
      model.release();
      scorer.dispose();
    }
  });
});
