// GRPO learns on a real pretrained model: stories260K rewarded for completions that contain "dog"
// raises its mean reward clearly within a few steps; and a run is deterministic given its seed.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { preparePrompts } from '../../src/grpo/prompts';
import type { GrpoConfig } from '../../src/grpo/config';
import { loadStories, storyRows, wordConfig } from './fixtures';

async function run(config: GrpoConfig, steps: number) {
  const gpu = await testGpu();
  const loaded = await loadStories();
  const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
  const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
  const train = preparePrompts(storyRows('dog'), loaded, config).examples;
  const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: train.slice(0, 4), scorer });
  const metrics: Record<string, number>[] = [];
  for (let s = 0; s < steps; s++) metrics.push((await trainer.trainStep()).metrics);
  const evalReport = await trainer.evaluate(4);
  trainer.release();
  model.release();
  scorer.dispose();
  return { metrics, evalReport, bytesInUse: gpu.pool.stats.bytesInUse };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('GRPO on stories260K', () => {
  test('reward for saying "dog" rises clearly from the first steps to the last', async () => {
    const { metrics, bytesInUse } = await run(wordConfig({ max_steps: 14 }), 14);
    const rewards = metrics.map((m) => m.reward);
    console.log('reward per step:', rewards.map((r) => r.toFixed(2)).join(' '));
    const first = mean(rewards.slice(0, 3));
    const last = mean(rewards.slice(-4));
    expect(last - first, `first ${first}, last ${last}`).toBeGreaterThan(0.4);
    expect(last).toBeGreaterThan(0.75);
    for (const m of metrics) {
      for (const k of ['reward', 'reward_std', 'loss', 'grad_norm', 'entropy', 'kl', 'learning_rate', 'completions/mean_length', 'num_tokens']) {
        expect(Number.isFinite(m[k]), `${k} = ${m[k]}`).toBe(true);
      }
    }
    expect(bytesInUse, 'the run leaked GPU buffers').toBe(0);
  });

  test('the same seed, config and data give identical metrics; another seed differs', async () => {
    const cfg = wordConfig({ max_steps: 3, beta: 0.04, num_iterations: 2, loss_type: 'grpo' });
    const strip = (ms: Record<string, number>[]) =>
      ms.map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('tokens_per_second') && !k.startsWith('gpu/') && k !== 'step_time')));
    const a = await run(cfg, 3);
    const b = await run(cfg, 3);
    expect(strip(b.metrics)).toEqual(strip(a.metrics));
    expect(b.evalReport).toEqual(a.evalReport);
    const c = await run({ ...cfg, seed: 2 }, 3);
    expect(strip(c.metrics)).not.toEqual(strip(a.metrics));
    // with beta > 0 and two iterations the KL term and the ratio are live
    expect(a.metrics.some((m) => m.kl > 0)).toBe(true);
  });
});

describe('supervised mode on stories260K', () => {
  test('cross-entropy on the answers falls, with LoRA (and dropout) and with full weights', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const { SftTrainer } = await import('../../src/grpo/sft');
    const { LoraSet } = await import('../../src/model/lora');
    const eos = loaded.tokenizer.eosIds[0];
    const examples = storyRows('dog').map((r) => ({
      prompt: loaded.tokenizer.encode(r.prompt, { addBos: true }),
      answer: [...loaded.tokenizer.encode(' dog.', { addBos: false }), eos],
    }));
    const hyper = { learningRate: 0.01, scheduler: 'constant' as const, warmupRatio: 0, maxSteps: 12, batchSize: 8, seed: 1,
      beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };
    for (const mode of ['lora', 'full'] as const) {
      const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
      const lora = mode === 'lora' ? new LoraSet(gpu, loaded.config, { r: 8, alpha: 16, targetModules: ['q_proj', 'v_proj', 'up_proj', 'down_proj'], useRslora: false, dropout: 0.1 }) : null;
      lora?.initialize(1);
      const sft = new SftTrainer(gpu, model, examples, { ...hyper, mode, learningRate: mode === 'lora' ? 0.01 : 0.002 }, lora);
      const losses: number[] = [];
      for (let s = 0; s < 12; s++) losses.push((await sft.trainStep()).loss);
      console.log(`${mode} SFT loss:`, losses.map((l) => l.toFixed(3)).join(' '));
      expect(mean(losses.slice(-3))).toBeLessThan(0.5 * mean(losses.slice(0, 2)));
      sft.release();
      lora?.release();
      model.release();
    }
    expect(gpu.pool.stats.bytesInUse).toBe(0);
  });
});

describe('numerical faults', () => {
  test('non-finite updates are skipped and counted, leaving LoRA and AdamW state as they were; K in a row fault the run', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    // num_iterations 3: the rollout of step 1 feeds steps 2 and 3 too (TRL's order), so those steps run no
    // sampling; a rollout on the poisoned model fails at its first decode step instead (the last lines)
    const config = wordConfig({ max_steps: 10, max_consecutive_skips: 2, num_generations: 4, max_completion_length: 6, num_iterations: 3 });
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const train = preparePrompts(storyRows('dog'), loaded, config).examples;
    const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
    await trainer.trainStep();
    expect(trainer.consecutiveSkips).toBe(0);
    const snapshot = async () => Promise.all(trainer.optimizer.params.flatMap((p, i) => [gpu.read(p.param), gpu.read(trainer.optimizer.m[i])]));
    const before = await snapshot();
    // poison one base weight: every later forward gives NaN
    const w = model.w('model.layers.2.mlp.down_proj.weight');
    const poisoned = await gpu.read(w);
    poisoned[7] = NaN;
    gpu.write(w, poisoned);
    const r2 = await trainer.trainStep();
    expect(r2.metrics.skipped_updates).toBe(1);
    expect(Number.isFinite(r2.metrics.grad_norm)).toBe(false);
    expect(trainer.faulted).toBeNull();
    await trainer.trainStep();
    expect(trainer.consecutiveSkips).toBe(2);
    expect(trainer.faulted).toMatch(/2 steps in a row had a non-finite loss or gradient norm .* weights and optimizer state of step 1/);
    expect(await snapshot()).toEqual(before);
    expect(trainer.optimizer.step).toBe(1);
    trainer.release();
    // sampling from NaN logits is an error naming the step, never a token id outside the vocabulary
    const fresh = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
    await expect(fresh.trainStep()).rejects.toThrow(/sampling failed at decode step 0 \(row \d+\).*outside the vocabulary/);
    fresh.release();
    model.release();
    scorer.dispose();
  });
});
