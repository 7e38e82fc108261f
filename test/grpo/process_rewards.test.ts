// Process rewards (step_separator, process_credit): a custom reward's per-step scores through the real sandbox,
// steps cut at the separator, the min-over-steps column, and DeepSeekMath's per-step credit (hand-computed), on the
// real trainer.
import { describe, expect, test } from 'vitest';
import { createRewardScorer, splitSteps } from '../../src/grpo/rewards_scorer';
import { perStepAdvantages, tokenSteps } from '../../src/grpo/step_credit';
import { acceptValue } from '../../src/grpo/rewards/sandbox_reply';
import { defaultConfig, validateConfig } from '../../src/grpo/config';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { GpuTransformer } from '../../src/model/transformer';
import { preparePrompts } from '../../src/grpo/prompts';
import { unbiasedStd } from '../../src/grpo/advantages';
import { testGpu } from '../gpu';
import { loadStories, storyRows, wordConfig } from './fixtures';

// one score per line: 1 if the line holds an "a", else 0
const PER_LINE = 'function reward(prompt, completion) { return completion.split("\\n").filter((s, i, all) => !(i === all.length - 1 && s === "")).map((s) => (s.includes("a") ? 1 : 0)); }';

describe('steps of a completion', () => {
  test('cut after each separator; a trailing empty piece dropped; an empty text is one step', () => {
    expect(splitSteps('ab\ncd\ne', '\n')).toEqual([{ start: 0, end: 3 }, { start: 3, end: 6 }, { start: 6, end: 7 }]);
    expect(splitSteps('ab\n', '\n')).toEqual([{ start: 0, end: 3 }]);
    expect(splitSteps('', '\n')).toEqual([{ start: 0, end: 0 }]);
    expect(splitSteps('x. y. z', '. ')).toHaveLength(3);
  });
  test('tokens take the step they end in; the stop token the last', () => {
    // tokens end at 2, 3, 5, 6, 7 characters; steps end at 3, 6, 7
    expect(tokenSteps([2, 3, 5, 6, 7], [3, 6, 7], 6)).toEqual([0, 0, 1, 1, 2, 2]);
  });
  test('per-step credit: normalised over the group\'s steps, summed over the step and later ones (hand-computed)', () => {
    const steps = [[1, 0], [0, 0, 1], null];
    const all = [1, 0, 0, 0, 1];
    const m = 0.4;
    const s = unbiasedStd(all);
    const n = (r: number) => (r - m) / (s + 1e-4);
    const adv = perStepAdvantages(steps, [[0, 0, 1], [0, 1, 2, 2], [0, 0]], 'group');
    expect(adv[0][0]).toBeCloseTo(n(1) + n(0), 12);
    expect(adv[0][2]).toBeCloseTo(n(0), 12);
    expect(adv[1][0]).toBeCloseTo(n(0) + n(0) + n(1), 12);
    expect(adv[1][1]).toBeCloseTo(n(0) + n(1), 12);
    expect(adv[1][3]).toBeCloseTo(n(1), 12);
    expect(adv[2]).toEqual([0, 0]);
    expect(perStepAdvantages([[1], [0]], [[0], [0]], 'none')).toEqual([[0.5], [-0.5]]);
  });
  test('the host takes lists of 1..256 finite numbers and nothing else', () => {
    expect(acceptValue([1, 0.5])).toBe(true);
    for (const bad of [[], [NaN], [1, 'x'], new Array(257).fill(0), [[1]], { length: 1, 0: 1 }]) expect(acceptValue(bad), JSON.stringify(bad)).toBe(false);
  });
  test('config: per_step needs the separator and one custom reward', () => {
    const custom = [{ name: 'custom', weight: 1, params: { source: PER_LINE } }];
    expect(validateConfig({ ...defaultConfig(), reward_funcs: custom, step_separator: '\n', process_credit: 'per_step' })).toEqual([]);
    expect(validateConfig({ ...defaultConfig(), reward_funcs: custom, process_credit: 'per_step' }).join(' ')).toMatch(/step_separator is null/);
    expect(validateConfig({ ...defaultConfig(), step_separator: '\n', process_credit: 'per_step' }).join(' ')).toMatch(/exactly one custom reward/);
    expect(validateConfig({ ...defaultConfig(), step_separator: '' }).join(' ')).toMatch(/step_separator is empty/);
  });
});

describe('process rewards through the sandbox', () => {
  test('a list scores its minimum and keeps the steps; a wrong count or no separator is that row\'s error', async () => {
    const funcs = [{ name: 'custom', weight: 1, params: { source: PER_LINE } }];
    const items = ['ab\ncd\nxa', 'a\na\n', 'q'].map((completion) => ({ prompt: 'p', completion, answer: '', row: {}, completionTokens: 3 }));
    const withSep = createRewardScorer(funcs, { maxCompletionLength: 8, stepSeparator: '\n' });
    try {
      const r = await withSep.score(items);
      expect(r.perFunc[0]).toEqual([0, 1, 0]);
      expect(r.stepScores![0]).toEqual([[1, 0, 1], [1, 1], [0]]);
      expect(r.errors).toEqual([]);
    } finally {
      withSep.dispose();
    }
    const noSep = createRewardScorer(funcs, { maxCompletionLength: 8 });
    try {
      const r = await noSep.score(items.slice(0, 1));
      expect(r.perFunc[0]).toEqual([null]);
      expect(r.errors.join(' ')).toMatch(/per-step scores need step_separator set/);
    } finally {
      noSep.dispose();
    }
    const miscount = createRewardScorer([{ name: 'custom', weight: 1, params: { source: 'function reward() { return [1, 1, 1, 1]; }' } }], { maxCompletionLength: 8, stepSeparator: '\n' });
    try {
      const r = await miscount.score(items.slice(0, 1));
      expect(r.perFunc[0]).toEqual([null]);
      expect(r.errors.join(' ')).toMatch(/returned 4 step scores for a completion of 3 steps/);
    } finally {
      miscount.dispose();
    }
  }, 120_000);

  test('the trainer gives each token its step\'s credit (per_step) and trains', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    // stories260K writes sentences: a step ends at ". "
    const source = 'function reward(p, completion) { const s = completion.split(". "); if (s.length > 1 && s[s.length - 1] === "") s.pop(); return s.map((x) => (x.includes("the") ? 1 : 0)); }';
    const config = wordConfig({ num_generations: 4, max_completion_length: 24, reward_funcs: [{ name: 'custom', weight: 1, params: { source } }], step_separator: '. ', process_credit: 'per_step' });
    expect(validateConfig(config)).toEqual([]);
    const train = preparePrompts(storyRows('x').slice(0, 4), loaded, config).examples;
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length, stepSeparator: config.step_separator });
    const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
    try {
      const r = await trainer.trainStep();
      expect(Number.isFinite(r.metrics.loss)).toBe(true);
      for (const g of r.groups) {
        // recompute each token's credit by hand from the completions' step scores
        const all = g.completions.flatMap((x) => x.stepScores ?? []);
        const mean = all.reduce((a, b) => a + b, 0) / all.length;
        const std = unbiasedStd(all);
        for (const x of g.completions) {
          expect(x.stepScores!.length).toBe(splitSteps(x.text, '. ').length);
          const norm = x.stepScores!.map((v) => (v - mean) / (std + 1e-4));
          const ends: number[] = x.ids.map((_, j) => loaded.tokenizer.decode(x.ids.slice(0, j + 1)).length);
          const stepEnds = splitSteps(x.text, '. ').map((s) => s.end);
          x.tokenAdvantages!.forEach((a, j) => {
            const k = j < ends.length ? stepEnds.findIndex((e) => ends[j] <= e) : stepEnds.length - 1;
            const want = norm.slice(k < 0 ? stepEnds.length - 1 : k).reduce((p, q) => p + q, 0);
            expect(a).toBeCloseTo(want, 9);
          });
        }
      }
      expect(r.groups.some((g) => g.completions.some((x) => x.stepScores!.length > 1))).toBe(true);
    } finally {
      trainer.release();
      scorer.dispose();
    }
  }, 600_000);
});
