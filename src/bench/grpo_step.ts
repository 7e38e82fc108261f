// The GRPO step profile: where a step's time goes (generation, rewards, reference log-probs, forward,
// backward, optimizer; the trainer synchronises between phases in profile mode), dispatches and submits
// per generated token, readbacks per step, GPU bytes newly allocated per step after warm-up (target 0),
// and the training phase's model-FLOP utilisation against the measured FMA ceiling.
import type { GpuRuntime } from '../gpu/runtime';
import type { LoadedModel } from '../model/load';
import { GpuTransformer } from '../model/transformer';
import { generate } from '../model/generate';
import { GrpoTrainer } from '../grpo/trainer';
import { createRewardScorer } from '../grpo/rewards_scorer';
import { preparePrompts } from '../grpo/prompts';
import type { GrpoConfig } from '../grpo/config';
import type { DatasetRow } from '../data';

export interface GrpoStepProfile {
  model: string;
  shape: string;
  step_ms: number;
  /** seconds per step of each phase, averaged over the measured steps */
  phases_ms: Record<string, number>;
  dispatches_per_generated_token: number;
  /** every dispatch of a whole step (generation, log-probs, backward, optimizer), averaged */
  dispatches_per_step: number;
  submits_per_generated_token: number;
  readbacks_per_step: number;
  bytes_allocated_per_step_after_warmup: number;
  train_tokens_per_step: number;
  /** 4 * params * training tokens per second / ceiling: forward + input-gradient backward of frozen weights */
  train_mfu: number;
  /** GPU time per kernel over one more step, from timestamp queries (one pass per dispatch while timing) */
  kernels_ms_per_step: { kernel: string; ms: number; dispatches: number }[];
}

export async function profileGrpoStep(gpu: GpuRuntime, loaded: LoadedModel, rows: DatasetRow[], config: GrpoConfig,
  ceilingGflops: number, opts: { warmup: number; steps: number }): Promise<GrpoStepProfile> {
  const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
  const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length, stepSeparator: config.step_separator });
  const train = preparePrompts(rows, loaded, config).examples;
  const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer, profile: true });
  try {
    for (let s = 0; s < opts.warmup; s++) await trainer.trainStep();
    const c0 = { ...counters(gpu) };
    const phases: Record<string, number> = {};
    let stepMs = 0;
    let trainTokens = 0;
    for (let s = 0; s < opts.steps; s++) {
      const t0 = performance.now();
      const r = await trainer.trainStep();
      stepMs += performance.now() - t0;
      for (const [k, v] of Object.entries(r.metrics)) if (k.startsWith('time/')) phases[k.slice(5)] = (phases[k.slice(5)] ?? 0) + v * 1000;
      trainTokens += r.groups.reduce((a, g) => a + g.completions.length * (g.prompt.ids.length + Math.max(...g.completions.map((x) => x.trainIds.length))), 0);
    }
    const c1 = counters(gpu);
    // generation alone, with every row running to the limit, for per-token dispatch counts
    const G = config.num_generations;
    const prompts = train.slice(0, config.prompts_per_step).flatMap((p) => Array.from({ length: G }, () => p.ids));
    const g0 = counters(gpu);
    const gen = await generate(model, prompts, { maxNewTokens: config.max_completion_length, temperature: 1, topK: 0, topP: 1, seed: 1, stopIds: [], lora: trainer.lora });
    const g1 = counters(gpu);
    let kernels: GrpoStepProfile['kernels_ms_per_step'] = [];
    if (gpu.startKernelTimer()) {
      await trainer.trainStep();
      kernels = (await gpu.stopKernelTimer()).map((k) => ({ kernel: k.kernel, ms: k.ms, dispatches: k.count }));
    }
    const generated = prompts.length * gen.steps;
    const n = opts.steps;
    const trainMs = (phases.forward ?? 0) + (phases.backward ?? 0) + (phases.optimizer ?? 0) + (phases.reference_logprobs ?? 0);
    const params = model.bytes / 4;
    for (const k of Object.keys(phases)) phases[k] /= n;
    return {
      model: loaded.name,
      shape: `${config.prompts_per_step} prompts x ${G} completions x ${config.max_completion_length} tokens`,
      step_ms: stepMs / n,
      phases_ms: phases,
      dispatches_per_generated_token: (g1.dispatches - g0.dispatches) / generated,
      dispatches_per_step: (c1.dispatches - c0.dispatches) / n,
      submits_per_generated_token: (g1.submits - g0.submits) / generated,
      readbacks_per_step: (c1.readbacks - c0.readbacks) / n,
      bytes_allocated_per_step_after_warmup: (c1.bytes - c0.bytes) / n,
      train_tokens_per_step: trainTokens / n,
      train_mfu: trainMs > 0 ? (4 * params * trainTokens) / (trainMs / 1000) / 1e9 / ceilingGflops : 0,
      kernels_ms_per_step: kernels,
    };
  } finally {
    trainer.release();
    model.release();
    scorer.dispose();
  }
}

function counters(gpu: GpuRuntime) {
  return { dispatches: gpu.dispatchCount, submits: gpu.submitCount, readbacks: gpu.readbackCount, bytes: gpu.pool.stats.bytesAllocated };
}
