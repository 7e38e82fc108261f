// The issue-15 recipes train end to end on the built-in model (tiny-puzzles, the reverse task): every
// preset steps with finite metrics; steps_per_generation samples several steps' prompts in one rollout,
// with old log-probs from generation (ratios away from 1 on later steps); expert iteration trains with cross-entropy on the kept
// completions only; the token traces hold the step's own per-token values.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { loadModelFromPath } from '../../src/model/load_node';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { preparePrompts } from '../../src/grpo/prompts';
import { defaultConfig, validateConfig, type GrpoConfig } from '../../src/grpo/config';
import { applyPreset, PRESETS } from '../../src/grpo/presets';
import { parseDataset } from '../../src/data';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));

function demoConfig(over: Partial<GrpoConfig> = {}): GrpoConfig {
  return {
    ...defaultConfig(),
    num_generations: 4,
    max_prompt_length: 16,
    max_completion_length: 8,
    prompts_per_step: 2,
    learning_rate: 0.003,
    reward_funcs: [{ name: 'exact_match', weight: 1, params: {} }],
    eval_split: 0,
    use_chat_template: false,
    seed: 3,
    ...over,
  };
}

async function setup(config: GrpoConfig) {
  expect(validateConfig(config)).toEqual([]);
  const gpu = await testGpu();
  const loaded = await loadModelFromPath(`${PUBLIC}models/tiny-puzzles`);
  const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
  const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
  const rows = parseDataset(readFileSync(`${PUBLIC}datasets/reverse.jsonl`, 'utf8'), 'reverse.jsonl').rows.slice(0, 64);
  const train = preparePrompts(rows, loaded, config).examples;
  const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
  const done = () => {
    trainer.release();
    model.release();
    scorer.dispose();
    return gpu.pool.stats.bytesInUse;
  };
  return { trainer, done };
}

describe('issue-15 recipes on the built-in model', () => {
  for (const p of PRESETS.filter((x) => !['grpo', 'dr_grpo', 'dapo'].includes(x.id))) {
    test(`preset ${p.name}: two steps with finite metrics`, async () => {
      const config = applyPreset(demoConfig(), p.id);
      const { trainer, done } = await setup(config);
      for (let s = 0; s < 2; s++) {
        const r = await trainer.trainStep();
        for (const k of ['reward', 'loss', 'grad_norm', 'num_tokens']) expect(Number.isFinite(r.metrics[k]), `${p.id} ${k} = ${r.metrics[k]}`).toBe(true);
        if (config.algorithm === 'grpo') expect(Number.isFinite(r.metrics.entropy)).toBe(true);
        else expect(r.metrics['expert/kept_ratio']).toBeGreaterThanOrEqual(0);
      }
      expect(done()).toBe(0);
    });
  }

  test('steps_per_generation 2: one rollout, two slices; the second slice sees ratios != 1 and its own traces', async () => {
    const config = demoConfig({ steps_per_generation: 2, importance_sampling_level: 'sequence', epsilon: 3e-4, epsilon_high: 4e-4, loss_type: 'grpo' });
    const { trainer, done } = await setup(config);
    const a = await trainer.trainStep();
    const b = await trainer.trainStep();
    // one rollout of 2 steps x prompts_per_step prompts: the first step trains its first P groups, the second the next P
    expect(a.groups.length).toBe(config.prompts_per_step * config.gradient_accumulation_steps);
    expect(b.groups.length).toBe(config.prompts_per_step * config.gradient_accumulation_steps);
    expect(b.groups.some((g) => a.groups.includes(g))).toBe(false);
    expect(a.metrics['tokens_per_second/generation']).toBeGreaterThan(0);
    expect(b.metrics['tokens_per_second/generation']).toBeUndefined();
    const first = a.groups[0].completions.map((c) => trainer.traces.get(c)!);
    const second = b.groups[0].completions.map((c) => trainer.traces.get(c)!);
    expect(first.every((t) => t.step === 1)).toBe(true);
    expect(second.every((t) => t.step === 2)).toBe(true);
    // the first slice trained with the generating policy (ratio 1 up to rounding), the second after one update
    for (const t of first) for (const r of t.ratio) expect(Math.abs(r - 1)).toBeLessThan(1e-4);
    expect(second.some((t) => t.ratio.some((r) => Math.abs(r - 1) > 1e-4))).toBe(true);
    // sequence level: one ratio per completion
    for (const t of second) expect(new Set(t.ratio).size).toBe(1);
    const c = await trainer.trainStep();
    expect(c.metrics['tokens_per_second/generation']).toBeGreaterThan(0);
    expect(done()).toBe(0);
  });

  test('traces: per-token values of the step, one per completion token', async () => {
    const { trainer, done } = await setup(demoConfig({ num_iterations: 2, top_entropy_quantile: 0.5, entropy_coef: 0.01 }));
    const r = await trainer.trainStep();
    const comps = r.groups.flatMap((g) => g.completions);
    for (const c of comps) {
      const t = trainer.traces.get(c)!;
      expect(t.step).toBe(1);
      for (const xs of [t.logp, t.entropy, t.ratio, t.contribution, t.flags]) expect(xs.length).toBe(c.trainIds.length);
      expect(t.logp.every((x) => Number.isFinite(x) && x <= 0)).toBe(true);
      // a token masked by the entropy quantile contributes nothing
      t.flags.forEach((f, j) => { if (f & 4) expect(t.contribution[j]).toBe(0); });
    }
    const flags = comps.flatMap((c) => trainer.traces.get(c)!.flags);
    expect(flags.some((f) => f & 4)).toBe(true);
    expect(flags.some((f) => !(f & 4))).toBe(true);
    expect(done()).toBe(0);
  });

  test('expert iteration: only completions at or above the threshold are trained on', async () => {
    const { trainer, done } = await setup(applyPreset(demoConfig(), 'expert_iteration'));
    let trained = 0;
    for (let s = 0; s < 3; s++) {
      const r = await trainer.trainStep();
      const comps = r.groups.flatMap((g) => g.completions);
      const kept = comps.filter((c) => c.reward >= 1);
      expect(r.metrics['expert/kept_ratio']).toBeCloseTo(kept.length / comps.length, 12);
      if (kept.length) {
        trained++;
        expect(r.metrics.loss).toBeGreaterThan(0);
        expect(r.metrics.grad_norm).toBeGreaterThan(0);
      } else expect(r.metrics.grad_norm).toBe(0);
      expect(r.metrics.kl).toBeUndefined();
    }
    expect(trained).toBeGreaterThan(0);
    expect(done()).toBe(0);
  });
});
