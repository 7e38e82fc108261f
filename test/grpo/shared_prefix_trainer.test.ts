// share_prompt_prefix_training through the trainer (stories260K, Node WebGPU):
// - num_train_tokens_computed (ours; TRL has no such metric): the real tokens the training passes forwarded,
//   every row's prompt + completion with it off, a group's prompt once (P-1 tokens, plus the last prompt token
//   opening each completion's segment) with it on; cumulative, as num_tokens and num_generated_tokens.
// - the old log-probs taken at generation time (steps_per_generation 2) use the same packing (no-gradient
//   forwards carry the segment mask), and the two slices' updates equal the unshared run's to float tolerance.
// - whether to share is decided once per run, where first needed ("on" with an unsupported model refuses there).
// - completionLogprobs with sharedPrefix equals the unshared log-probs and entropies.
import { describe, expect, test, vi } from 'vitest';
import { testGpu } from '../gpu';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer, type StepReport } from '../../src/grpo/trainer';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { preparePrompts } from '../../src/grpo/prompts';
import { completionLogprobs } from '../../src/model/logprobs';
import { LoraSet } from '../../src/model/lora';
import { Rng } from '../../src/util/random';
import { loadStories, storyRows, wordConfig } from './fixtures';
import { randomizeLora } from '../model/tiny';

async function run(share: 'off' | 'on') {
  const gpu = await testGpu();
  const loaded = await loadStories();
  const config = wordConfig({ max_steps: 2, prompts_per_step: 2, num_generations: 4, max_completion_length: 8, steps_per_generation: 2, gradient_accumulation_steps: 1, lora_r: 4, lora_alpha: 8, beta: 0, share_prompt_prefix_training: share,
    // a reward that varies within a group (text length), so that the advantages and the update are not zero
    reward_funcs: [{ name: 'custom', weight: 1, params: { source: '(p, c) => c.length % 7', timeout_ms: 1000 } }] });
  const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
  // no-gradient forwards (log-probs only) that carry the shared-prefix mask
  let maskedNoGrad = 0;
  const forward = model.forward.bind(model);
  vi.spyOn(model, 'forward').mockImplementation((...a: Parameters<GpuTransformer['forward']>) => {
    if (a[6] && a[7]) maskedNoGrad++;
    return forward(...a);
  });
  const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
  const train = preparePrompts(storyRows('dog'), loaded, config).examples;
  const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
  const reports: StepReport[] = [];
  for (let s = 0; s < 2; s++) reports.push(await trainer.trainStep());
  const progress = trainer.progress();
  trainer.release();
  model.release();
  scorer.dispose();
  return { reports, maskedNoGrad, progress };
}

describe('share_prompt_prefix_training in the trainer', () => {
  test('num_train_tokens_computed counts the prompt once per group; old log-probs at generation use the packing', async () => {
    const off = await run('off');
    const on = await run('on');
    // the same rollout (generation does not depend on the training packing)
    const rows = (r: StepReport) => r.groups.flatMap((g) => g.completions.map((c) => [g.prompt.ids.length, c.trainIds.length]));
    expect(rows(on.reports[0])).toEqual(rows(off.reports[0]));
    // each step trains on its slice of the rollout: the groups it reports
    const expectedOff = (r: StepReport) => r.groups.reduce((a, g) => a + g.completions.reduce((m, c) => m + g.prompt.ids.length + c.trainIds.length, 0), 0);
    const expectedOn = (r: StepReport) => r.groups.reduce((a, g) => a + g.prompt.ids.length - 1 + g.completions.reduce((m, c) => m + 1 + c.trainIds.length, 0), 0);
    const step1Off = off.reports[0].metrics.num_train_tokens_computed;
    const step1On = on.reports[0].metrics.num_train_tokens_computed;
    console.log(`num_train_tokens_computed after steps 1, 2: off ${off.reports.map((r) => r.metrics.num_train_tokens_computed)}, on ${on.reports.map((r) => r.metrics.num_train_tokens_computed)}; `
      + `no-gradient masked forwards off ${off.maskedNoGrad}, on ${on.maskedNoGrad}; loss off ${off.reports.map((r) => r.metrics.loss)}, on ${on.reports.map((r) => r.metrics.loss)}; `
      + `grad_norm off ${off.reports.map((r) => r.metrics.grad_norm)}, on ${on.reports.map((r) => r.metrics.grad_norm)}`);
    expect(step1Off).toBe(expectedOff(off.reports[0]));
    expect(step1On).toBe(expectedOn(on.reports[0]));
    expect(step1On).toBeLessThan(step1Off);
    // cumulative, and kept in the checkpoint's progress
    expect(off.reports[1].metrics.num_train_tokens_computed).toBe(step1Off + expectedOff(off.reports[1]));
    expect(on.reports[1].metrics.num_train_tokens_computed).toBe(step1On + expectedOn(on.reports[1]));
    expect(on.progress.numTrainTokensComputed).toBe(on.reports[1].metrics.num_train_tokens_computed);
    // steps_per_generation 2: the generation-time old log-probs are no-gradient forwards with the mask when on
    expect(off.maskedNoGrad).toBe(0);
    expect(on.maskedNoGrad).toBeGreaterThan(0);
    // and both slices' updates agree with the unshared run's (the second slice's ratios use those old log-probs)
    for (let s = 0; s < 2; s++) {
      const a = off.reports[s].metrics;
      const b = on.reports[s].metrics;
      expect(Math.abs(b.loss - a.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(a.loss)));
      expect(b.grad_norm).toBeCloseTo(a.grad_norm, 4);
      expect(b['clip_ratio/region_mean']).toBe(a['clip_ratio/region_mean']);
      expect(a.grad_norm).toBeGreaterThan(1e-4); // the update is not trivially zero
    }
  }, 600_000);

  test('the choice is made once per run, at its first use: "on" refuses an unsupported model at the first step', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const start = (share: 'auto' | 'on') => {
      const config = wordConfig({ max_steps: 2, prompts_per_step: 2, num_generations: 4, max_completion_length: 8, steps_per_generation: 2, gradient_accumulation_steps: 1, lora_r: 4, lora_alpha: 8, beta: 0.04, share_prompt_prefix_training: share });
      const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
      // a model that cannot train on shared-prefix rows (as one with linear-attention layers)
      const asked = vi.spyOn(model, 'sharedPrefixUnsupported').mockReturnValue('a probe\'s layers mix tokens outside attention');
      const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
      const train = preparePrompts(storyRows('dog'), loaded, config).examples;
      const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
      const release = () => { trainer.release(); model.release(); scorer.dispose(); };
      return { trainer, asked, release };
    };
    // "auto": unshared; asked once in two steps, though the old, reference and update passes each use the answer
    const auto = start('auto');
    expect(auto.asked).not.toHaveBeenCalled();
    await auto.trainer.trainStep();
    await auto.trainer.trainStep();
    expect(auto.asked).toHaveBeenCalledTimes(1);
    auto.release();
    // "on": the trainer is built, and its first step refuses
    const on = start('on');
    expect(on.asked).not.toHaveBeenCalled();
    await expect(on.trainer.trainStep()).rejects.toThrow('share_prompt_prefix_training "on": a probe\'s layers mix tokens outside attention (use "auto" or "off")');
    on.release();
  }, 600_000);

  test('completionLogprobs with sharedPrefix equals the unshared log-probs and entropies', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const lora = new LoraSet(gpu, loaded.config, { r: 2, alpha: 4, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], useRslora: false });
    randomizeLora(gpu, lora, new Rng(5));
    const rng = new Rng(9);
    const tok = (n: number) => Array.from({ length: n }, () => 3 + Math.floor(rng.uniform() * 400));
    const p1 = tok(11);
    const p2 = tok(3);
    const rows = [...[6, 2, 9].map((L) => ({ prompt: p1, completion: tok(L) })), ...[4, 7].map((L) => ({ prompt: p2, completion: tok(L) }))];
    let masked = 0;
    const forward = model.forward.bind(model);
    vi.spyOn(model, 'forward').mockImplementation((...a: Parameters<GpuTransformer['forward']>) => {
      if (a[7]) masked++;
      return forward(...a);
    });
    const off = await completionLogprobs(model, rows, lora, 0.9);
    expect(masked).toBe(0);
    const on = await completionLogprobs(model, rows, lora, 0.9, 0, true);
    expect(masked).toBe(1);
    let lp = 0;
    let en = 0;
    off.logprobs.forEach((x, i) => x.forEach((v, j) => {
      lp = Math.max(lp, Math.abs(v - on.logprobs[i][j]));
      en = Math.max(en, Math.abs(off.entropy[i][j] - on.entropy[i][j]));
    }));
    console.log(`completionLogprobs shared vs unshared: max |diff| logp ${lp.toExponential(2)}, entropy ${en.toExponential(2)}`);
    expect(on.logprobs.map((x) => x.length)).toEqual(rows.map((r) => r.completion.length));
    expect(lp).toBeLessThan(1e-4);
    expect(en).toBeLessThan(1e-4);
    lora.release();
    model.release();
  }, 300_000);
});
