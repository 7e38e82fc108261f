// Shared-prefix generation (config share_prompt_prefix, GenerateOptions.groupSize / prefixKv) at a GSM8K-like
// rollout shape: P prompts x G completions, sampled at temperature 1 without stop tokens (every row runs its full
// length), three ways in one run:
//   every_row: every row prefilled, one full-length cache per row (groupSize 1)
//   copies:    each prompt prefilled once, its k/v written into each of its G rows' full-length caches
//              (prefixKv 'copies')
//   shared:    each prompt prefilled once, its k/v kept once per group and read by the decode attention, each
//              row's own block holding only its new tokens (prefixKv 'shared', the default)
// The hardware-independent parts are the prompt positions the prefill actually computed (padded to the pack
// multiple; once per group with sharing), the decode tokens, the KV caches' bytes and the generation's peak bytes
// (the pool's peak during the generate call above what was held before it); also the counts and cache bytes at the
// full GSM8K shape (computed from the lengths, no run). Generation tokens/s are timings of this adapter (copies and
// shared run twice, alternating, the fastest run reported); `tokens_equal` checks that the three ways sampled the
// same tokens.
// Training (config share_prompt_prefix_training, src/model/prefix_pack.ts): one policy update (beta > 0: reference
// log-probs too) on the generated completions, one row per completion ("before") and each group's prompt packed once
// ("after"): the real tokens forwarded, the packed grid, the causal (query, key) pairs the direct attention kernels
// score (the shared packing scores the masked pairs of a group's long row too), the update's seconds on this
// adapter, and the largest LoRA gradient difference between the two; the token counts also at GSM8K_SHAPE.

import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from '../model/config';
import type { WeightMap } from '../model/weights';
import { GpuTransformer } from '../model/transformer';
import { generate, type GenerateOptions } from '../model/generate';
import { generationLengths, kvCacheBytes, kvCacheBytesShared } from '../model/decode_state';
import { resolveKvPrecision, type KvPrecision } from '../model/kv_storage';
import { PACK_MULTIPLE, type SequenceRow } from '../model/logprobs';
import { LoraSet } from '../model/lora';
import { promptRuns, sharedPrefixHost, sharedPrefixTokens } from '../model/prefix_pack';
import { AdamW } from '../grpo/optimizer';
import { policyUpdate, type TrainSequence } from '../grpo/policy_update';
import { Rng } from '../util/random';

export interface RolloutShape {
  prompts: number;
  numGenerations: number;
  promptLen: number;
  maxNewTokens: number;
}

/** GSM8K with a chat template: prompts of about 160 tokens, 8 completions of up to 256 tokens, 8 prompts a step. */
export const GSM8K_SHAPE: RolloutShape = { prompts: 8, numGenerations: 8, promptLen: 160, maxNewTokens: 256 };
/** The measured, reduced shape (SwiftShader runs it in seconds on stories260K). */
export const GSM8K_REDUCED: RolloutShape = { prompts: 2, numGenerations: 8, promptLen: 48, maxNewTokens: 16 };
/** The GSM8K-like rollout: 4 prompts x 8 completions, prompts of 192 tokens, completions of 256. */
export const GSM8K_LIKE: RolloutShape = { prompts: 4, numGenerations: 8, promptLen: 192, maxNewTokens: 256 };

/** One way of generating the rollout. */
export interface SharedPrefixWay {
  /** prompt positions the prefill computed (padded; GenerateOptions.stats.prefillTokens) */
  prefill_tokens: number;
  /** tokens the decode generated (rows x their lengths) */
  decode_tokens: number;
  /** the KV caches' bytes (every layer's k and v; Qwen3.5's linear states) */
  kv_cache_bytes: number;
  /** the pool's peak during the generate call above what it held before (weights excluded) */
  peak_bytes: number;
  /** generated tokens per second of the whole generate call (prefill included), this adapter: its fastest run */
  generation_tokens_per_s: number;
  /** each run's seconds */
  seconds: number[];
}

export interface SharedPrefixBench {
  model: string;
  shape: RolloutShape;
  kv_precision: string;
  every_row: SharedPrefixWay;
  copies: SharedPrefixWay;
  shared: SharedPrefixWay;
  /** the three ways sampled the same tokens */
  tokens_equal: boolean;
  /** at the full GSM8K shape (GSM8K_SHAPE), from the generation's lengths */
  gsm8k_prefill_tokens_unshared: number;
  gsm8k_prefill_tokens_shared: number;
  gsm8k_kv_cache_bytes_unshared: number;
  gsm8k_kv_cache_bytes_shared: number;
  /** one policy update each way (null: not run, --shared-prefix-no-training) */
  training: SharedPrefixTraining | null;
}

/** Token counts of one policy-update pass over the rows (each way: before = a row per completion, after = shared). */
export interface TrainingCounts {
  /** real tokens forwarded (no padding): every row's prompt + completion / a group's prompt once; what the
   * trainer's num_train_tokens_computed metric adds per step (the bench checks the update's own count) */
  tokens_before: number;
  tokens_after: number;
  /** the packed grid (B x T, padding included) */
  grid_tokens_before: number;
  grid_tokens_after: number;
  /** causal (query, key) pairs of the grid, per head and layer: what the attention kernels would score without
   * skipping (after: a group's whole packed row, its masked pairs included) */
  attention_pairs_before: number;
  attention_pairs_after: number;
  /** (query, key) pairs of real tokens the mask keeps (after: the prompt's own pairs once, each completion's with the
   * prompt and itself); the direct kernels skip key tiles masked for a whole block of rows, so their work lies
   * between this and attention_pairs_after */
  attention_pairs_visible_before: number;
  attention_pairs_visible_after: number;
}

export interface SharedPrefixTraining extends TrainingCounts {
  /** seconds of one policy update (forward, loss, backward, AdamW; reference log-probs), this adapter */
  update_seconds_before: number;
  update_seconds_after: number;
  /** largest |LoRA gradient| difference, shared vs unshared, and the largest gradient */
  max_abs_grad_diff: number;
  max_abs_grad: number;
  loss_before: number;
  loss_after: number;
  /** TrainingCounts at GSM8K_SHAPE, every completion at its full length */
  gsm8k: TrainingCounts;
}

/** The training token counts of rows each way (packRows / packSharedPrefix layouts). */
export function trainingCounts(rows: SequenceRow[]): TrainingCounts {
  const pairs = (T: number) => (T * (T + 1)) / 2;
  const lens = rows.map((r) => r.prompt.length + r.completion.length);
  const T = Math.ceil(Math.max(...lens) / PACK_MULTIPLE) * PACK_MULTIPLE;
  const h = sharedPrefixHost(rows, Number.MAX_SAFE_INTEGER);
  return {
    tokens_before: lens.reduce((a, b) => a + b, 0),
    tokens_after: sharedPrefixTokens(rows),
    grid_tokens_before: rows.length * T,
    grid_tokens_after: h.B * h.T,
    attention_pairs_before: rows.length * pairs(T),
    attention_pairs_after: h.B * pairs(h.T),
    attention_pairs_visible_before: lens.reduce((a, n) => a + pairs(n), 0),
    attention_pairs_visible_after: promptRuns(rows).reduce((a, [f, e]) => {
      const pe = rows[f].prompt.length - 1;
      return a + pairs(pe) + rows.slice(f, e).reduce((m, r) => m + (r.completion.length + 1) * pe + pairs(r.completion.length + 1), 0);
    }, 0),
  };
}

/** One policy update on the rows, unshared then shared, from the same LoRA (random B so that every gradient is
 * non-zero). */
async function benchTraining(gpu: GpuRuntime, model: GpuTransformer, rows: SequenceRow[], G: number): Promise<Omit<SharedPrefixTraining, 'gsm8k'>> {
  const seqs: TrainSequence[] = rows.map((r, i) => ({ ...r, advantage: ((i % G) - (G - 1) / 2) / G, active: r.completion.length }));
  const run = async (sharedPrefix: boolean) => {
    const lora = new LoraSet(gpu, model.config, { r: 4, alpha: 8, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], useRslora: false });
    lora.initialize(11);
    const rng = new Rng(13);
    for (const p of lora.pairs.values()) gpu.write(p.B, Float32Array.from({ length: p.B.size }, () => 0.02 * rng.normal()));
    const opt = new AdamW(gpu, lora.parameters(), { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1e9 });
    const opts = { lossType: 'dapo' as const, maxCompletionLength: Math.max(...rows.map((r) => r.completion.length)), numIterations: 1, temperature: 1, loss: { epsilon: 0.2, epsilonHigh: 0.28, beta: 0.04 }, learningRate: 0, dropoutCounter: 0, sharedPrefix };
    await policyUpdate(gpu, model, lora, opt, [seqs.slice(0, G)], opts); // warm-up: pipelines, pool
    await gpu.sync();
    const t0 = performance.now();
    const stats = await policyUpdate(gpu, model, lora, opt, [seqs], opts);
    await gpu.sync();
    const s = (performance.now() - t0) / 1000;
    const grads: Float32Array[] = [];
    for (const p of lora.parameters()) grads.push(await gpu.read(p.grad));
    opt.release();
    lora.release();
    return { s, grads, loss: stats.loss, computed: stats.computedTokens, grid: stats.trainTokens };
  };
  const before = await run(false);
  const after = await run(true);
  let diff = 0;
  let scale = 0;
  before.grads.forEach((g, k) => g.forEach((x, i) => {
    diff = Math.max(diff, Math.abs(x - after.grads[k][i]));
    scale = Math.max(scale, Math.abs(x));
  }));
  const counts = trainingCounts(rows);
  if (before.computed !== counts.tokens_before || after.computed !== counts.tokens_after) {
    throw new Error(`shared-prefix bench: the update computed ${before.computed} / ${after.computed} tokens, the counts say ${counts.tokens_before} / ${counts.tokens_after}`);
  }
  return {
    ...counts,
    update_seconds_before: before.s,
    update_seconds_after: after.s,
    max_abs_grad_diff: diff,
    max_abs_grad: scale,
    loss_before: before.loss,
    loss_after: after.loss,
  };
}

/** The training counts at a shape with every completion at its full length (distinct prompts). */
function shapeCounts(s: RolloutShape): TrainingCounts {
  const rows: SequenceRow[] = [];
  for (let p = 0; p < s.prompts; p++) {
    const prompt = Array.from({ length: s.promptLen }, (_, j) => (j === 0 ? p + 1 : 1));
    for (let g = 0; g < s.numGenerations; g++) rows.push({ prompt, completion: new Array<number>(s.maxNewTokens).fill(1) });
  }
  return trainingCounts(rows);
}

function lengthsOf(c: ModelConfig, s: RolloutShape) {
  const rows = Array.from({ length: s.prompts * s.numGenerations }, () => new Array<number>(s.promptLen).fill(1));
  return generationLengths(c, rows, s.maxNewTokens);
}

function prefillTokens(c: ModelConfig, s: RolloutShape, shared: boolean): number {
  return (shared ? s.prompts : s.prompts * s.numGenerations) * lengthsOf(c, s).Tp;
}

export interface SharedPrefixBenchOptions {
  kvPrecision?: KvPrecision;
  /** run the policy update each way too (default true) */
  training?: boolean;
  /** each run's way as it finishes (long runs: what was measured survives a timeout) */
  log?: (line: string) => void;
}

export async function benchSharedPrefix(gpu: GpuRuntime, name: string, c: ModelConfig, weights: WeightMap, shape = GSM8K_REDUCED, bo: SharedPrefixBenchOptions = {}): Promise<SharedPrefixBench> {
  const model = GpuTransformer.upload(gpu, c, weights);
  const kvPrecision = bo.kvPrecision ?? 'auto';
  const kvFormat = resolveKvPrecision(c, kvPrecision, 'f32');
  const rng = new Rng(3);
  const prompts = Array.from({ length: shape.prompts }, () => Array.from({ length: shape.promptLen }, () => 1 + Math.floor(rng.uniform() * (c.vocabSize - 1))));
  const rows = prompts.flatMap((p) => Array.from({ length: shape.numGenerations }, () => p));
  const opts: GenerateOptions = { maxNewTokens: shape.maxNewTokens, temperature: 1, topK: 0, topP: 1, seed: 7, stopIds: [], lora: null, kvPrecision };
  const len = lengthsOf(c, shape);
  const G = shape.numGenerations;
  const run = async (groupSize: number, prefixKv: 'shared' | 'copies') => {
    const stats = { prefillTokens: 0 };
    await generate(model, rows.slice(0, Math.max(groupSize, 2)), { ...opts, maxNewTokens: 2, groupSize, prefixKv }); // warm-up: pipelines
    await gpu.sync();
    gpu.pool.trim(); // each way from an empty pool: its peak is its own
    const before = gpu.pool.stats.bytesAllocated;
    gpu.pool.stats.peakBytesAllocated = before;
    const t0 = performance.now();
    const gen = await generate(model, rows, { ...opts, groupSize, prefixKv, stats });
    const s = (performance.now() - t0) / 1000;
    const decode = gen.tokens.reduce((a, t) => a + t.length, 0);
    const kv = groupSize > 1 && prefixKv === 'shared' ? kvCacheBytesShared(c, len, groupSize, kvFormat) : kvCacheBytes(c, len.B, len.TMAX, kvFormat);
    const way: SharedPrefixWay = { prefill_tokens: stats.prefillTokens, decode_tokens: decode, kv_cache_bytes: kv, peak_bytes: gpu.pool.stats.peakBytesAllocated - before, generation_tokens_per_s: decode / s, seconds: [s] };
    bo.log?.(`shared-prefix bench: groupSize ${groupSize}, ${prefixKv}: ${JSON.stringify(way)}`);
    return { tokens: JSON.stringify(gen.tokens), way };
  };
  // a second run of the same way: the fastest of both, the larger peak, the tokens only where both agree
  const again = (a: Awaited<ReturnType<typeof run>>, b: Awaited<ReturnType<typeof run>>) => {
    const seconds = [...a.way.seconds, ...b.way.seconds];
    return {
      tokens: a.tokens === b.tokens ? a.tokens : 'runs differ',
      way: { ...a.way, peak_bytes: Math.max(a.way.peak_bytes, b.way.peak_bytes), seconds, generation_tokens_per_s: a.way.decode_tokens / Math.min(...seconds) },
    };
  };
  try {
    const everyRow = await run(1, 'copies');
    const copies1 = await run(G, 'copies');
    const shared1 = await run(G, 'shared');
    const shared = again(shared1, await run(G, 'shared'));
    const copies = again(copies1, await run(G, 'copies'));
    const full = lengthsOf(c, GSM8K_SHAPE);
    const rowsFull = GSM8K_SHAPE.prompts * GSM8K_SHAPE.numGenerations;
    let training: SharedPrefixTraining | null = null;
    if (bo.training ?? true) {
      const trainRows = rows.map((prompt, i) => ({ prompt, completion: (JSON.parse(everyRow.tokens) as number[][])[i] }));
      training = { ...(await benchTraining(gpu, model, trainRows, G)), gsm8k: shapeCounts(GSM8K_SHAPE) };
    }
    return {
      model: name,
      shape,
      kv_precision: kvFormat,
      every_row: everyRow.way,
      copies: copies.way,
      shared: shared.way,
      tokens_equal: everyRow.tokens === copies.tokens && everyRow.tokens === shared.tokens,
      gsm8k_prefill_tokens_unshared: prefillTokens(c, GSM8K_SHAPE, false),
      gsm8k_prefill_tokens_shared: prefillTokens(c, GSM8K_SHAPE, true),
      gsm8k_kv_cache_bytes_unshared: kvCacheBytes(c, rowsFull, full.TMAX, kvFormat),
      gsm8k_kv_cache_bytes_shared: kvCacheBytesShared(c, full, GSM8K_SHAPE.numGenerations, kvFormat),
      training,
    };
  } finally {
    model.release();
  }
}
