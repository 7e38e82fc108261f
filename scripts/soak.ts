// `npm run soak -- [--model PATH] [--dataset FILE] [--steps N]`: a long GRPO run from the command line that
// watches for leaks: the buffer pool's bytes allocated and in use, and the JS heap, every 25 steps. After a
// warm-up the pool must stop growing (every step reuses its buffers); prints one JSON summary at the end.
// Defaults: the built-in model with its main demo dataset when present, else stories260K.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { acquireNodeGpu } from '../src/gpu/node';
import { loadModelFromPath } from '../src/model/load_node';
import { DEFAULT_DEMO_DATASET_ID, DEMO_DATASETS, demoConfig } from '../src/demo/builtin';
import { GpuTransformer } from '../src/model/transformer';
import { GrpoTrainer } from '../src/grpo/trainer';
import { createRewardScorer } from '../src/grpo/rewards_scorer';
import { preparePrompts } from '../src/grpo/prompts';
import { defaultConfig } from '../src/grpo/config';
import { parseDatasetBytes } from '../src/data';
import { readFileSync } from 'node:fs';

const { values } = parseArgs({ options: { model: { type: 'string' }, dataset: { type: 'string' }, steps: { type: 'string' }, warmup: { type: 'string' } } });
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const builtin = here('../public/models/tiny-puzzles');
const mainDemo = DEMO_DATASETS.find((d) => d.id === DEFAULT_DEMO_DATASET_ID)!;
const builtinData = here(`../public/${mainDemo.path}`);
const useBuiltin = !values.model && existsSync(builtin) && existsSync(builtinData);
const modelPath = values.model ?? (useBuiltin ? builtin : here('../../shared/models/stories260K/stories260K.bin'));
const steps = Number(values.steps ?? 500);
const warmup = Number(values.warmup ?? 50);

const loaded = await loadModelFromPath(modelPath);
const rows = values.dataset || useBuiltin
  ? parseDatasetBytes(readFileSync(values.dataset ?? builtinData), values.dataset ?? builtinData).rows
  : ['Once upon a time, there was a', 'One day, a little', 'The cat and the', 'Tom saw a big', 'Lily went to the park with her', 'There was a happy']
      .map((prompt, i) => ({ prompt, answer: 'dog', line: i + 1, raw: {} }));
// the built-in model runs the demo's own config; other models a small generic one
const config = useBuiltin
  ? { ...demoConfig(DEFAULT_DEMO_DATASET_ID), max_steps: steps, eval_split: 0 }
  : {
      ...defaultConfig(), num_generations: 8, prompts_per_step: 2, max_completion_length: 16, learning_rate: 0.001, max_steps: steps,
      reward_funcs: values.dataset ? defaultConfig().reward_funcs : [{ name: 'contains', weight: 1, params: {} }],
      use_chat_template: false, eval_split: 0,
    };
const gpu = await acquireNodeGpu();
const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train: preparePrompts(rows, loaded, config).examples, eval: [], scorer });
const samples: { step: number; bytesAllocated: number; bytesInUse: number; buffers: number; heapMB: number; reward: number }[] = [];
const t0 = performance.now();
for (let s = 1; s <= steps; s++) {
  const r = await trainer.trainStep();
  if (s % 25 === 0 || s === 1 || s === warmup || s === steps) {
    (globalThis as { gc?: () => void }).gc?.();
    const st = gpu.pool.stats;
    samples.push({ step: s, bytesAllocated: st.bytesAllocated, bytesInUse: st.bytesInUse, buffers: st.buffersAllocated, heapMB: process.memoryUsage().heapUsed / 2 ** 20, reward: r.metrics.reward });
    process.stderr.write(`${JSON.stringify(samples[samples.length - 1])}\n`);
  }
}
const after = samples.filter((x) => x.step >= warmup);
const summary = {
  model: loaded.name,
  steps,
  warmup,
  seconds: (performance.now() - t0) / 1000,
  pool_bytes_at_warmup: after[0]?.bytesAllocated,
  pool_bytes_at_end: after[after.length - 1]?.bytesAllocated,
  pool_growth_after_warmup: (after[after.length - 1]?.bytesAllocated ?? 0) - (after[0]?.bytesAllocated ?? 0),
  heap_mb_at_warmup: after[0]?.heapMB,
  heap_mb_max_after_warmup: Math.max(...after.map((x) => x.heapMB)),
  heap_mb_at_end: after[after.length - 1]?.heapMB,
  samples,
};
process.stdout.write(JSON.stringify(summary) + '\n');
trainer.release();
model.release();
scorer.dispose();
gpu.destroy();
