// Whole-model benchmarks: prefill and decode throughput (batch 1 and 32), LoRA training throughput
// (forward + backward into LoRA), and the peak GPU bytes the pool allocated.
import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from '../model/config';
import { expectedShapes, type WeightMap } from '../model/weights';
import { GpuTransformer } from '../model/transformer';
import { generate } from '../model/generate';
import { LoraSet } from '../model/lora';
import { packRows, releaseBatch } from '../model/logprobs';
import { Rng } from '../util/random';

export interface ModelBench {
  model: string;
  params: number;
  prefill_tokens_per_s: number;
  prefill_shape: string;
  decode_tokens_per_s_batch1: number;
  decode_tokens_per_s_batch32: number;
  lora_train_tokens_per_s: number;
  /** dispatches of one LoRA training forward + backward at train_shape */
  lora_train_dispatches_per_step: number;
  train_shape: string;
  peak_bytes_allocated: number;
}

/** Random weights with a model's shapes (normal-ish, small), filled fast. */
export function randomWeights(c: ModelConfig, seed: number): WeightMap {
  const rng = new Rng(seed);
  const w: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('norm.weight') || name.endsWith('layernorm.weight')) data.fill(1);
    else {
      const scale = 0.04;
      let s = (rng.uniform() * 2 ** 32) >>> 0;
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        data[i] = ((s / 4294967296) * 2 - 1) * scale;
      }
    }
    w.set(name, { shape, data });
  }
  return w;
}

const now = () => performance.now();

export async function benchModel(gpu: GpuRuntime, name: string, config: ModelConfig, weights: WeightMap,
  opts: { promptLen: number; decodeSteps: number; trainB: number; trainT: number }): Promise<ModelBench> {
  const model = GpuTransformer.upload(gpu, config, weights);
  const rng = new Rng(5);
  const prompt = (len: number) => [config.bosTokenId ?? 1, ...Array.from({ length: len - 1 }, () => 3 + rng.int(config.vocabSize - 3))];
  const gen = (B: number, newTokens: number) => generate(model, Array.from({ length: B }, () => prompt(opts.promptLen)), {
    maxNewTokens: newTokens, temperature: 1, topK: 0, topP: 1, seed: 1, stopIds: [], lora: null,
  });
  try {
    await gen(1, 2); // warm-up: compiles every pipeline
    // prefill: 8 prompts at once, one new token
    let t0 = now();
    await gen(8, 1);
    const prefillMs = now() - t0;
    const decodeRate = async (B: number) => {
      t0 = now();
      await gen(B, 1);
      const base = now() - t0;
      t0 = now();
      await gen(B, 1 + opts.decodeSteps);
      const withDecode = now() - t0;
      return (B * opts.decodeSteps) / (Math.max(withDecode - base, 1e-3) / 1000);
    };
    const d1 = await decodeRate(1);
    const d32 = await decodeRate(32);

    // LoRA training: forward + backward into LoRA on q, k, v, o
    const lora = new LoraSet(gpu, config, { r: 8, alpha: 16, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], useRslora: false });
    lora.initialize(1);
    const rows = Array.from({ length: opts.trainB }, () => ({ prompt: prompt(8), completion: prompt(opts.trainT - 8).slice(1).concat([3]) }));
    const step = async () => {
      const batch = packRows(gpu, rows, config.maxPositionEmbeddings);
      const act = model.forward(batch.ids, batch.positions, batch.B, batch.T, lora);
      const logits = model.logits(act.f);
      model.backward(act, logits); // any dlogits of the right shape exercises the same work
      model.releaseActivations(act);
      gpu.release(logits);
      releaseBatch(gpu, batch);
      await gpu.sync();
    };
    await step();
    const d0 = gpu.dispatchCount;
    t0 = now();
    await step();
    const trainMs = now() - t0;
    const trainDispatches = gpu.dispatchCount - d0;
    lora.release();
    return {
      model: name,
      params: [...weights.values()].reduce((a, t) => a + t.data.length, 0),
      prefill_tokens_per_s: (8 * opts.promptLen) / (prefillMs / 1000),
      prefill_shape: `8 x ${opts.promptLen}`,
      decode_tokens_per_s_batch1: d1,
      decode_tokens_per_s_batch32: d32,
      lora_train_tokens_per_s: (opts.trainB * opts.trainT) / (trainMs / 1000),
      lora_train_dispatches_per_step: trainDispatches,
      train_shape: `${opts.trainB} x ${opts.trainT}`,
      peak_bytes_allocated: gpu.pool.stats.peakBytesAllocated,
    };
  } finally {
    model.release();
    gpu.pool.trim();
  }
}
