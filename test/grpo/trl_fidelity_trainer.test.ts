// Issue 24 (TRL fidelity) through the real trainer on the built-in model (tiny-puzzles, the reverse task): the
// step's reported loss against TRL's formula written out from the step's own per-token values (traces), for the
// entropy bonus under top_entropy_quantile (TRL: over mask * entropy_mask, divided by that count) and the
// dapo denominator under steps_per_generation 2 (TRL: the whole generation batch's tokens, num_items_in_batch);
// and the metrics TRL logs per loss type (no clip_ratio/* for cispo and sapo; GSPO's clip ratios per completion).
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
import { parseDataset } from '../../src/data';
import type { Completion } from '../../src/grpo/rollout';
import { applyPreset } from '../../src/grpo/presets';
import { completionLogprobs } from '../../src/model/logprobs';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));

function demoConfig(over: Partial<GrpoConfig> = {}): GrpoConfig {
  return {
    ...defaultConfig(),
    num_generations: 4,
    max_prompt_length: 16,
    max_completion_length: 8,
    prompts_per_step: 2,
    learning_rate: 0.003,
    reward_funcs: [{ name: 'exact_match', weight: 1, params: {} }, { name: 'partial_credit', weight: 1, params: {} }],
    eval_split: 0,
    use_chat_template: false,
    beta: 0,
    seed: 5,
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
  return { trainer, done, model };
}

describe('TRL fidelity in the trainer', () => {
  test('entropy bonus: over the tokens the entropy quantile keeps, divided by their count (grpo)', async () => {
    const coef = 0.5;
    const { trainer, done } = await setup(demoConfig({ loss_type: 'grpo', top_entropy_quantile: 0.5, entropy_coef: coef }));
    const r = await trainer.trainStep();
    const comps = r.groups.flatMap((g) => g.completions);
    // TRL, one micro-batch, on-policy (rho = 1): policy = mean over sequences of the mean over each one's tokens of
    // -A * entropy_mask; bonus = sum of mask * entropy_mask * H / sum of mask * entropy_mask
    let policy = 0;
    let keptEntropy = 0;
    let kept = 0;
    let all = 0;
    for (const c of comps) {
      const t = trainer.traces.get(c)!;
      expect(t.step).toBe(1);
      let masked = 0;
      for (let j = 0; j < t.active; j++) {
        all++;
        if (t.flags[j] & 4) continue;
        masked++;
        kept++;
        keptEntropy += t.entropy[j];
      }
      policy += (-c.advantage * masked) / Math.max(t.active, 1) / comps.length;
    }
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(all);
    const want = policy - (coef * keptEntropy) / kept;
    expect(r.metrics.loss).toBeCloseTo(want, 4);
    expect(done()).toBe(0);
  });

  test('dapo with steps_per_generation 2: every step divides by the whole generation batch\'s tokens', async () => {
    const coef = 0.5;
    const { trainer, done } = await setup(demoConfig({ loss_type: 'dapo', steps_per_generation: 2, max_steps: 2, entropy_coef: coef }));
    const a = await trainer.trainStep();
    const b = await trainer.trainStep();
    const tokens = (cs: Completion[]) => cs.reduce((x, c) => x + c.trainIds.length, 0);
    const first = a.groups.flatMap((g) => g.completions);
    const all = tokens(first) + tokens(b.groups.flatMap((g) => g.completions));
    expect(all).toBeGreaterThan(tokens(first));
    // the first slice is on-policy (the generating policy's log-probs: rho = 1 up to rounding), so TRL's loss is
    // (sum over its tokens of -A - coef * H) / num_items_in_batch
    const entropy = first.reduce((x, c) => x + trainer.traces.get(c)!.entropy.reduce((y, e) => y + e, 0), 0);
    const want = (first.reduce((x, c) => x - c.advantage * c.trainIds.length, 0) - coef * entropy) / all;
    expect(a.metrics.loss).toBeCloseTo(want, 4);
    expect(done()).toBe(0);
  });

  test('metrics as TRL logs them: cispo_clip_ratio only for cispo, nothing for sapo, GSPO clip ratios per completion', async () => {
    for (const [over, has, hasNot] of [
      [{ loss_type: 'cispo', epsilon_high: 5 }, ['cispo_clip_ratio'], ['clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean']],
      [{ loss_type: 'sapo' }, [], ['cispo_clip_ratio', 'clip_ratio/region_mean']],
    ] as [Partial<GrpoConfig>, string[], string[]][]) {
      const { trainer, done } = await setup(demoConfig(over));
      const r = await trainer.trainStep();
      for (const k of has) expect(r.metrics[k], k).toBeGreaterThanOrEqual(0);
      for (const k of hasNot) expect(r.metrics[k], k).toBeUndefined();
      expect(done(), `${over.loss_type}: GPU bytes still in use`).toBe(0);
    }
    const { trainer, done } = await setup(demoConfig({ loss_type: 'grpo', importance_sampling_level: 'sequence', steps_per_generation: 2, max_steps: 2, epsilon: 1e-4, epsilon_high: 1e-4 }));
    await trainer.trainStep();
    const r = await trainer.trainStep();
    const seqs = r.groups.flatMap((g) => g.completions).length;
    const region = r.metrics['clip_ratio/region_mean'] * seqs;
    expect(region).toBeGreaterThan(0);
    expect(Math.abs(region - Math.round(region))).toBeLessThan(1e-9);
    expect(done()).toBe(0);
  });

  test('num_iterations 2 x steps_per_generation 2: four optimizer steps per rollout, slices in TRL\'s order', async () => {
    const { trainer, done } = await setup(demoConfig({ loss_type: 'grpo', num_iterations: 2, steps_per_generation: 2, max_steps: 4 }));
    const r: Awaited<ReturnType<typeof trainer.trainStep>>[] = [];
    const ratios: number[][] = [];
    for (let s = 0; s < 5; s++) {
      r.push(await trainer.trainStep());
      // each step's own per-token ratios (the traces of a completion are overwritten by a later pass over it)
      ratios.push(r[s].groups.flatMap((g) => g.completions.flatMap((c) => trainer.traces.get(c)!.ratio)));
      // a step is one optimizer step
      expect(trainer.progress().optimizerStep).toBe(s + 1);
      expect(r[s].step).toBe(s + 1);
    }
    // generation at steps 1 and 5 only (every k * mu = 4 steps)
    expect(r.map((x) => x.metrics['tokens_per_second/generation'] !== undefined)).toEqual([true, false, false, false, true]);
    // TRL's order: slice 0, slice 1, then the cycle again
    expect(r[2].groups).toEqual(r[0].groups);
    expect(r[3].groups).toEqual(r[1].groups);
    expect(r[1].groups.some((g) => r[0].groups.includes(g))).toBe(false);
    expect(r[4].groups.some((g) => r[0].groups.includes(g) || r[1].groups.includes(g))).toBe(false);
    // the second pass over slice 0 sees the policy after two updates: ratios away from 1; the first pass is on-policy
    for (const v of ratios[0]) expect(Math.abs(v - 1)).toBeLessThan(1e-4);
    expect(ratios[2].some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
    expect(done()).toBe(0);
  });

  test('RLOO with beta: beta x sum(old - ref) comes off each reward before the leave-one-out advantage (TRL\'s RLOOTrainer)', async () => {
    const beta = 0.5;
    const config = { ...applyPreset(demoConfig(), 'rloo'), beta, learning_rate: 0.05, lr_scheduler_type: 'linear' as const, warmup_ratio: 0, max_steps: 2 };
    const { trainer, done, model } = await setup(config);
    const a = await trainer.trainStep();
    // step 1 generates with LoRA B = 0: the policy is the reference, so every KL is 0
    for (const c of a.groups.flatMap((g) => g.completions)) expect(Math.abs(c.klPenalty!)).toBeLessThan(1e-3);
    // step 2 at learning rate 0 (linear decay to 0 at max_steps 1): the LoRA after it is the one that generated it
    trainer.setRunLength(1, config.eval_interval);
    const b = await trainer.trainStep();
    expect(b.metrics.learning_rate).toBe(0);
    const comps = b.groups.flatMap((g) => g.completions);
    expect(comps.some((c) => Math.abs(c.klPenalty!) > 1e-3)).toBe(true);
    // the KL against an independent computation: sum over the tokens of log-probs with the LoRA minus without
    for (const g of b.groups) {
      const rows = g.completions.map((c) => ({ prompt: g.prompt.ids, completion: c.trainIds }));
      const pol = await completionLogprobs(model, rows, trainer.lora, config.temperature);
      const ref = await completionLogprobs(model, rows, null, config.temperature);
      g.completions.forEach((c, i) => {
        const kl = c.trainIds.reduce((x, _, t) => x + pol.logprobs[i][t] - ref.logprobs[i][t], 0);
        expect(c.klPenalty!).toBeCloseTo(kl, 3);
      });
      // TRL: r' = r - beta * kl; A_i = r'_i - mean of the other r'
      const r = g.completions.map((c) => c.reward - beta * c.klPenalty!);
      const sum = r.reduce((x, y) => x + y, 0);
      g.completions.forEach((c, i) => expect(c.advantage).toBeCloseTo(r[i] - (sum - r[i]) / (r.length - 1), 10));
    }
    // the logged kl: the first-order KL per token
    const tokens = comps.reduce((x, c) => x + c.trainIds.length, 0);
    expect(b.metrics.kl).toBeCloseTo(comps.reduce((x, c) => x + c.klPenalty!, 0) / tokens, 10);
    expect(done()).toBe(0);
  });
});
