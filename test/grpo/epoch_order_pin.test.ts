// The seeded epoch order every trainer draws its prompts in, pinned: GrpoTrainer, SftRunTrainer, PreferenceTrainer
// and RewardModelTrainer (seed ^ imul(epoch + 1, 0x85ebca6b), Fisher-Yates with Rng.int) and PromptSchedule's
// passes. These values were read from the trainers before they shared src/grpo/epoch_order.ts; a checkpoint of a
// run started before that must resume on the same prompts.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer, type TrainerProgress } from '../../src/grpo/trainer';
import { SftRunTrainer } from '../../src/grpo/sft_run_trainer';
import { PreferenceTrainer } from '../../src/grpo/preference/trainer';
import { RewardModelTrainer } from '../../src/grpo/reward_model/trainer';
import { PromptSchedule } from '../../src/grpo/prompt_schedule';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { preparePrompts } from '../../src/grpo/prompts';
import { preparePreference } from '../../src/grpo/preference/data';
import type { PromptExample } from '../../src/grpo/rollout';
import type { DatasetRow } from '../../src/data';
import { loadStories, STORY_PROMPTS, storyRows, wordConfig } from './fixtures';

interface Drawing {
  progress(): TrainerProgress;
  restoreProgress(p: TrainerProgress): void;
}

/** 40 draws (two and a half epochs of 16) as indices into the training rows, 8 at a time. */
function draws<T>(next: (n: number) => T[], rows: readonly T[]): number[] {
  const out: number[] = [];
  for (let k = 0; k < 5; k++) out.push(...next(8).map((e) => rows.indexOf(e)));
  return out;
}

// seed 1, 16 rows: epochs 0, 1 and the first half of 2
const SEED1 = [
  5, 1, 9, 2, 14, 11, 8, 6, 4, 15, 7, 3, 12, 0, 13, 10,
  13, 2, 4, 3, 1, 6, 10, 7, 12, 0, 15, 8, 14, 11, 9, 5,
  9, 14, 3, 7, 1, 2, 13, 11,
];

async function model() {
  const gpu = await testGpu();
  const loaded = await loadStories();
  return { gpu, loaded, model: GpuTransformer.upload(gpu, loaded.config, loaded.weights) };
}

const pairRows = (): DatasetRow[] => STORY_PROMPTS.map((prompt, i) => ({ prompt, answer: ' dog', rejected: ' cat', line: i + 1, raw: {} }));

/** Every trainer's draws, and the same after restoring its progress from the middle of epoch 1. */
async function check<T>(t: Drawing, next: (n: number) => T[], rows: readonly T[], want: number[]) {
  const got = draws(next, rows);
  expect(got).toEqual(want);
  // a fresh trainer restored at epoch 2, cursor 4 (after 20 draws of 16 rows) continues as the first one did
  t.restoreProgress({ ...t.progress(), epoch: 2, cursor: 4 });
  const after = next(20).map((e) => rows.indexOf(e));
  expect(after).toEqual(got.slice(20, 40));
}

describe('the seeded epoch order (pinned)', () => {
  test('GrpoTrainer', async () => {
    const { gpu, loaded, model: m } = await model();
    const config = wordConfig({ seed: 1 });
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const train = preparePrompts(storyRows('dog'), loaded, config).examples;
    const t = new GrpoTrainer({ gpu, model: m, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
    const next = (n: number) => (t as unknown as { nextPrompts(n: number): PromptExample[] }).nextPrompts(n);
    await check(t, next, train, SEED1);
    t.release();
    m.release();
    scorer.dispose();
  });

  test('SftRunTrainer', async () => {
    const { gpu, loaded, model: m } = await model();
    const config = wordConfig({ seed: 1, algorithm: 'sft' });
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const train = preparePrompts(storyRows('dog'), loaded, config).examples;
    const t = new SftRunTrainer(gpu, m, loaded.tokenizer, config, train, [], scorer);
    const ex = (t as unknown as { examples: unknown[] }).examples;
    const next = (n: number) => (t as unknown as { next(n: number): unknown[] }).next(n);
    await check(t, next, ex, SEED1);
    t.release();
    m.release();
    scorer.dispose();
  });

  test('PreferenceTrainer and RewardModelTrainer', async () => {
    const { gpu, loaded, model: m } = await model();
    for (const algorithm of ['dpo', 'reward_model'] as const) {
      const c = wordConfig({ seed: 1, algorithm });
      const train = preparePreference(pairRows(), loaded, c).examples;
      const t = algorithm === 'dpo' ? new PreferenceTrainer({ gpu, model: m, config: c, train, eval: [] }) : new RewardModelTrainer({ gpu, model: m, config: c, train, eval: [] });
      const next = (n: number) => (t as unknown as { next(n: number): unknown[] }).next(n);
      await check(t, next, train, SEED1);
      t.release();
    }
    m.release();
  });

  test('PromptSchedule: each phase and each source in its own seeded passes', () => {
    const rows = storyRows('dog').map((_r, i) => ({ ids: [i], answer: '', raw: { level: i % 2 ? 'odd' : 'even' } })) as unknown as PromptExample[];
    const phases = PromptSchedule.phases(rows, [{ steps: 10 }, { steps: null, column: 'level', value: 'odd' }], 7);
    const byPhase = [...Array.from({ length: 20 }, () => phases.next(0)), ...Array.from({ length: 20 }, () => phases.next(10))];
    const mix = PromptSchedule.mixture(rows, 'level', new Map([['even', 0.5], ['odd', 0.5]]), 7);
    const bySource = Array.from({ length: 24 }, () => mix.next(0));
    expect(byPhase).toEqual([
      10, 1, 3, 15, 7, 6, 9, 0, 11, 2, 12, 5, 14, 8, 4, 13, 4, 14, 13, 10,
      9, 13, 1, 11, 7, 5, 3, 15, 11, 5, 13, 1, 9, 3, 7, 15, 5, 9, 7, 13,
    ]);
    expect(bySource).toEqual([9, 3, 10, 5, 4, 8, 13, 15, 1, 12, 11, 7, 7, 2, 5, 15, 6, 9, 14, 13, 11, 0, 3, 1]);
    // restored from its state, a schedule draws on as the first one did
    const again = PromptSchedule.phases(rows, [{ steps: 10 }, { steps: null, column: 'level', value: 'odd' }], 7);
    const first = PromptSchedule.phases(rows, [{ steps: 10 }, { steps: null, column: 'level', value: 'odd' }], 7);
    for (let i = 0; i < 25; i++) first.next(0);
    again.restore(first.state(), 'test');
    expect(Array.from({ length: 9 }, () => again.next(0))).toEqual(Array.from({ length: 9 }, () => first.next(0)));
  });
});
