// A difficulty scan's token count (what `scan` prints and scripts/selection_demo.ts adds to a selected run's
// tokens) counts completions as training's num_generated_tokens counts them: every token sampled, a stop token
// included. Generation is replaced by a fixed one (half the rows stop after 3 tokens, half run to the length limit).
import { describe, expect, test, vi } from 'vitest';

vi.mock('../../src/model/policy_model', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/model/policy_model')>();
  return {
    ...real,
    asGemma4: () => null,
    policyGenerate: async (_model: unknown, prompts: number[][], opts: { maxNewTokens: number }) => ({
      tokens: prompts.map((_, i) => (i % 2 === 0 ? [5, 6, 7] : Array.from({ length: opts.maxNewTokens }, () => 5))),
      finish: prompts.map((_, i) => (i % 2 === 0 ? 'stop' : 'length')),
      steps: opts.maxNewTokens,
    }),
  };
});

import { evaluatePrompts } from '../../src/grpo/evaluate';
import { rollout } from '../../src/grpo/rollout';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import type { PolicyModel } from '../../src/model/policy_model';
import type { Tokenizer } from '../../src/model/tokenizer';

const tokenizer = { eosIds: [2], decode: (ids: number[]) => ids.map((i) => String.fromCharCode(96 + i)).join('') } as unknown as Tokenizer;
const scorer = createRewardScorer([{ name: 'exact_match', weight: 1, params: {} }], { maxCompletionLength: 8 });
const prompts = [0, 1, 2].map((i) => ({ text: `p${i}`, ids: [1, 10 + i], answer: 'efg', raw: { prompt: `p${i}`, answer: 'efg' } }));
const model = {} as PolicyModel;

describe('generated-token counts', () => {
  test('a scan (evaluatePrompts with k samples) counts the stop token as training does', async () => {
    // 3 prompts x 2 samples; per sample pass rows 0 and 2 stop (3 tokens + the stop token), row 1 runs to 8
    const r = await evaluatePrompts(model, tokenizer, null, scorer, prompts, 8, 0, 32, { temperature: 1, topK: 0, topP: 1, seed: 1 }, 2);
    expect(r.samples.length).toBe(6);
    expect(r.generatedTokens).toBe(2 * (4 + 8 + 4));
  });

  test('a training rollout counts the same way (num_generated_tokens)', async () => {
    // 3 prompts x 2 generations: rows alternate stop (3 + 1) and length (8)
    const ro = await rollout(model, tokenizer, null, scorer, prompts, {
      numGenerations: 2, maxCompletionLength: 8, temperature: 1, topK: 0, topP: 1, seed: 1, scaleRewards: 'group', promptsPerBatch: 3,
    } as Parameters<typeof rollout>[5]);
    expect(ro.generatedTokens).toBe(3 * (4 + 8));
  });
});
