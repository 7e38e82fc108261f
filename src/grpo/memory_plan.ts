// The exact memory plan of a GRPO run: one training step's host code (GrpoTrainer.trainStep: generation,
// then the policy update) run on a dry runtime (src/gpu/dry_device.ts) at worst-case lengths (every prompt
// max_prompt_length tokens, every completion max_completion_length, no early stop). The buffer pool sees the
// same acquisitions and releases as a real step, so its peak is the real step's peak. Needs only the model's
// config, never its weights.
//
// From it, choosePlan() picks how a step is cut (prompts generated together, rows per forward/backward pass)
// so that the run fits a budget, trying the config's own layout first; a run that cannot fit is refused with
// the plan and the settings to lower. Under recompute "auto" the same layouts are tried again with activation
// recomputation (both models: GpuTransformer's and Gemma4Gpu's recomputeLayers).

import { isPreferenceAlgorithm } from './config/enums';
import type { ModelConfig } from '../model/config';
import type { Tokenizer } from '../model/tokenizer';
import { GpuTransformer } from '../model/transformer';
import { Gemma4Gpu, gemma4PleOnHost } from '../model/gemma4_gpu';
import { Gemma4Trainable } from '../model/gemma4_trainable';
import { asGemma4 } from '../model/policy_model';
import { gemma4LoraAdamBytes, gemma4MemoryFloor } from './gemma4_memory';
import { layerHasModule, LoraSet, moduleShape, type LoraSpec } from '../model/lora';
import { RewardModelScorer } from './reward_model/scorer';
import { createRewardScorer } from './rewards_scorer';
import { baseWeightBytes, resolveBasePrecision, type BaseStorageOptions } from '../model/weight_storage';
import { resolveKvPrecision } from '../model/kv_storage';
import { plannedQuant } from '../model/quant_storage';
import { generationLengths, kvCacheBytes, kvCacheBytesShared } from '../model/decode_state';
import { createDryRuntime, type DryDeviceLimits, DEFAULT_DRY_LIMITS } from '../gpu/dry_device';
import type { AdapterSummary } from '../gpu/runtime';
import { formatBytes } from '../gpu/buffer_pool';
import type { GrpoConfig } from './config';
import { GrpoTrainer, type StepLayout } from './trainer';
import type { RewardScorer } from './rewards_scorer';
import type { PromptExample } from './rollout';

export interface PlanOptions {
  /** bytes a step may hold; null: the device's limits only (every buffer within maxBufferSize) */
  budgetBytes?: number | null;
  limits?: DryDeviceLimits;
  /** the adapter planned for (isSoftware changes a few small temporaries) */
  adapter?: Partial<AdapterSummary>;
  storage?: BaseStorageOptions;
  /** the largest logits chunk the LM head may write (GpuTransformer.lmHeadChunkBytes; Infinity: never chunk) */
  lmHeadChunkBytes?: number;
  /** keep every layer in forwards without backward (the design before issue 12, for the benchmark's "before") */
  inferenceKeepsLayers?: boolean;
  /** reward_model entries of reward_funcs: per entry index, the LoRA spec of each of its reward adapters (their
   * LoRA sets are allocated and their scoring forwards run in the planned step, on the same base weights) */
  rewardModels?: ReadonlyMap<number, readonly LoraSpec[]>;
  /** Gemma 4: keep the PLE table in host memory (default: as uploadPolicyModel decides for these limits) */
  pleOnHost?: boolean;
  /** Gemma 4: keep the main embedding table (tied to the LM head) in host memory (Gemma4Gpu's embedOnHost). Unset:
   * choosePlan tries it, after every layout with the table on the GPU, when the budget needs it */
  embedOnHost?: boolean;
}

export interface StepMeasure {
  peakBytes: number;
  largestBufferBytes: number;
  largestBufferLabel: string;
}

export interface MemoryPlan {
  basePrecision: string;
  /** the generation KV caches' storage (kv_precision resolved) */
  kvPrecision: string;
  layout: StepLayout;
  /** the buffer pool's peak over one worst-case step (exact) */
  peakBytes: number;
  largestBufferBytes: number;
  largestBufferLabel: string;
  budgetBytes: number | null;
  maxBufferSize: number;
  fits: boolean;
  /** activation recomputation in the policy update (config recompute, or the layout's under "auto") */
  recompute: 'on' | 'off';
  /** Gemma 4: the main embedding table (and the LM head tied to it) kept in host memory; the run uploads with it
   * (uploadPolicyModel's embedOnHost) */
  embedOnHost?: boolean;
  /** parts of the peak (weights and LoRA + Adam exact; KV cache of one generation batch; the rest is activations) */
  breakdown: { weights: number; loraAdam: number; kvCache: number; activations: number };
  /** what to lower when it does not fit */
  advice: string[];
}

/** A tokenizer for planning: no stop ids (worst case: every completion runs to max_completion_length); any text
 * encodes to `answerLength` tokens (sft_coef's reference answers at their longest). */
function planningTokenizer(vocabSize: number, answerLength: number): Tokenizer {
  return { vocabSize, bosId: null, eosIds: [], encode: () => new Array(answerLength).fill(1), decode: () => '', tokenText: () => '' };
}

function planningScorer(): RewardScorer {
  return {
    names: ['plan'],
    weights: [1],
    score: async (items) => ({ perFunc: [items.map(() => 0)], errors: [] }),
    dispose: () => {},
  };
}

/** Runs one worst-case training step on a dry runtime and returns the pool's peak and largest buffer. */
export async function measureStep(model: ModelConfig, config: GrpoConfig, layout: StepLayout | undefined, opts: PlanOptions = {}): Promise<StepMeasure> {
  const gpu = createDryRuntime(opts.limits ?? DEFAULT_DRY_LIMITS, opts.adapter);
  // Gemma 4 runs its own model (policy_model.ts): the same dry step over its tensors
  const limits = opts.limits ?? DEFAULT_DRY_LIMITS;
  const pleOnHost = opts.pleOnHost ?? gemma4PleOnHost(model, opts.storage ?? {}, limits);
  const m = model.gemma4
    ? new Gemma4Trainable(Gemma4Gpu.allocateForPlan(gpu, model, opts.storage, { pleOnHost, embedOnHost: !!opts.embedOnHost }))
    : GpuTransformer.allocateForPlan(gpu, model, opts.storage);
  if (opts.lmHeadChunkBytes !== undefined) m.lmHeadChunkBytes = opts.lmHeadChunkBytes;
  if (opts.inferenceKeepsLayers && m instanceof GpuTransformer) m.inferenceKeepsLayers = true;
  const promptLen = Math.min(config.max_prompt_length, model.maxPositionEmbeddings - 1);
  const n = config.prompts_per_step * config.gradient_accumulation_steps;
  // sft_coef's reference answers: the planned rows carry one (the sft_column's or the answer), which the planning
  // tokenizer encodes to max_completion_length tokens: the term's passes over prompt + answer at their longest
  // (every zero-reward group takes part under either sft_on)
  const answer = config.sft_coef > 0 ? 'answer' : '';
  const raw = config.sft_column !== null ? { [config.sft_column]: answer } : {};
  // distinct prompts (their first two tokens), so that share_prompt_prefix_training packs one row per group as a real
  // step does (it groups adjacent rows by equal prompts); no other byte depends on the ids
  const planIds = (i: number) => Array.from({ length: promptLen }, (_, j) => (j === 0 ? i % model.vocabSize : j === 1 ? Math.floor(i / model.vocabSize) % model.vocabSize : 1));
  const train: PromptExample[] = Array.from({ length: n }, (_, i) => ({ text: '', ids: planIds(i), answer, raw }));
  // an offline preference step (2 x prompts_per_step rows of at most max_prompt_length + max_completion_length
  // tokens, no KV caches) is bounded by the GRPO step of the same lengths (prompts_per_step x num_generations >= 2 x
  // prompts_per_step rows, plus the caches): it is planned as that
  // (an SFT step, prompts_per_step rows of prompt + answer, is bounded by the same GRPO step)
  const algorithm = isPreferenceAlgorithm(config.algorithm) || config.algorithm === 'sft' ? 'grpo' : config.algorithm;
  // reward models: their LoRA sets (zero weights) and head on the dry runtime, scoring with the planned model
  const rewardSpecs = [...(opts.rewardModels ?? new Map<number, readonly LoraSpec[]>())];
  const engine = asGemma4(m) ? null : (m as GpuTransformer);
  if (rewardSpecs.length && !engine) throw new Error(`${model.modelType}: reward_model rewards run on the engine's model; Gemma 4 does not score with reward adapters yet`);
  const rewardModels = rewardSpecs.map(([index, specs]) => ({
    index,
    scorer: new RewardModelScorer(engine!, specs.map((spec, k) => ({ source: `plan ${k}`, lora: new LoraSet(gpu, model, spec), head: new Float32Array(model.hiddenSize) })), 'mean', 0),
  }));
  const scorer = rewardModels.length
    ? createRewardScorer(
      config.reward_funcs.map((f, i) => (rewardModels.some((r) => r.index === i) ? f : { name: 'length_penalty', weight: f.weight, params: {} })),
      { maxCompletionLength: config.max_completion_length, rewardModels: new Map(rewardModels.map((r) => [r.index, (items) => r.scorer.scoreItems(items)])) },
    )
    : planningScorer();
  const trainer = new GrpoTrainer({
    gpu, model: m, tokenizer: planningTokenizer(model.vocabSize, config.max_completion_length), config: { ...config, algorithm, dynamic_sampling: false, curriculum: 'shuffle', curriculum_phases: null, mixture_weights: null }, // the order of the planning prompts changes no byte
    train, eval: [], scorer, layout,
  });
  await trainer.trainStep();
  return { peakBytes: gpu.stats.peakBytesAllocated, largestBufferBytes: gpu.pool.largest.bytes, largestBufferLabel: gpu.pool.largest.label };
}

/** Layouts to try, largest first: the config's own, then fewer prompts generated together, then fewer rows
 * per pass (halving down to one row). */
function candidateLayouts(config: GrpoConfig): StepLayout[] {
  const P = config.prompts_per_step;
  const rows = P * config.num_generations;
  // every cut also frees idle buffers between generation and training (trimBetweenPhases)
  const out: StepLayout[] = [{ generationPrompts: P, rowsPerPass: null }, { generationPrompts: P, rowsPerPass: null, trimBetweenPhases: true }];
  const gens: number[] = [];
  for (let g = P; g >= 1; g = g === 1 ? 0 : Math.max(1, Math.floor(g / 2))) gens.push(g);
  const passes: number[] = [];
  for (let r = Math.ceil(rows / 2); r >= 1; r = r === 1 ? 0 : Math.ceil(r / 2)) passes.push(r);
  for (const g of gens.slice(1)) out.push({ generationPrompts: g, rowsPerPass: null, trimBetweenPhases: true });
  const g1 = gens[gens.length - 1];
  for (const r of passes) out.push({ generationPrompts: g1, rowsPerPass: r, trimBetweenPhases: true });
  return out;
}

export function loraAdamBytes(model: ModelConfig, config: GrpoConfig): number {
  if (model.gemma4) return gemma4LoraAdamBytes(model, config); // each layer its own shapes; shared layers own no k/v
  let params = 0;
  for (const m of config.lora_target_modules) {
    // lora.ts's shapes (Qwen3.5: a gated q_proj, and q/k/v/o on its full layers only)
    const [out, inF] = moduleShape(model, m);
    for (let l = 0; l < model.numLayers; l++) if (layerHasModule(model, l, m)) params += config.lora_r * (out + inF);
  }
  return params * 4 * 4; // parameter, gradient, AdamW m and v, f32
}

/** The plan for one layout. */
export async function planLayout(model: ModelConfig, config: GrpoConfig, layout: StepLayout, opts: PlanOptions = {}): Promise<MemoryPlan> {
  const limits = opts.limits ?? DEFAULT_DRY_LIMITS;
  const measure = await measureStep(model, config, layout, opts);
  const format = resolveBasePrecision(model, opts.storage);
  const quant = plannedQuant(opts.storage, model);
  // Gemma 4 with its PLE table in host memory: the GPU holds the rest
  const pleOnHost = !!model.gemma4 && (opts.pleOnHost ?? gemma4PleOnHost(model, opts.storage ?? {}, limits));
  const embedOnHost = !!model.gemma4 && !!opts.embedOnHost;
  const floor = model.gemma4 ? gemma4MemoryFloor(model, config, { storage: opts.storage }) : null;
  const weights = baseWeightBytes(model, format, quant) - (pleOnHost ? floor!.pleTable : 0) - (embedOnHost ? floor!.embedTable : 0);
  const loraAdam = loraAdamBytes(model, config);
  const rows = layout.generationPrompts * config.num_generations;
  const T = Math.ceil((config.max_prompt_length + config.max_completion_length) / 8) * 8;
  const kvFormat = resolveKvPrecision(model, config.kv_precision, format);
  // sliding-window layers' caches are rings as long as their window (decode_state.ts); with share_prompt_prefix (the
  // dry step's rollout shares as a real one does: not off, G > 1, not Gemma 4) each prompt's k/v once per group and
  // each row's new tokens (decode_state.ts kvCacheBytesShared, generate.ts prefixKv 'shared')
  const sharesPrefix = config.share_prompt_prefix !== 'off' && config.num_generations > 1 && !model.gemma4;
  const promptLen = Math.min(config.max_prompt_length, model.maxPositionEmbeddings - 1);
  const kvCache = sharesPrefix
    ? kvCacheBytesShared(model, generationLengths(model, Array.from({ length: rows }, () => new Array<number>(promptLen).fill(0)), config.max_completion_length), config.num_generations, kvFormat)
    : kvCacheBytes(model, rows, T, kvFormat);
  const budget = opts.budgetBytes ?? null;
  const fits = measure.largestBufferBytes <= limits.maxBufferSize && (budget === null || measure.peakBytes <= budget);
  return {
    basePrecision: (quant?.size ? `${[...new Set(quant.values())].sort().join('+')} blocks, the rest ${format}` : format) +
      (pleOnHost && embedOnHost ? ' (PLE and embedding tables in host memory)' : pleOnHost ? ' (PLE table in host memory)' : embedOnHost ? ' (embedding table in host memory)' : ''),
    kvPrecision: kvFormat,
    layout,
    peakBytes: measure.peakBytes,
    largestBufferBytes: measure.largestBufferBytes,
    largestBufferLabel: measure.largestBufferLabel,
    budgetBytes: budget,
    maxBufferSize: limits.maxBufferSize,
    fits,
    recompute: config.recompute === 'on' || (config.recompute === 'auto' && layout.recompute) ? 'on' : 'off',
    ...(model.gemma4 ? { embedOnHost } : {}),
    breakdown: { weights, loraAdam, kvCache, activations: Math.max(0, measure.peakBytes - weights - loraAdam - kvCache) },
    advice: fits ? [] : adviceFor(config, format, kvFormat),
  };
}

function adviceFor(config: GrpoConfig, format: string, kvFormat: string): string[] {
  const out = [
    `max_completion_length (${config.max_completion_length}) or max_prompt_length (${config.max_prompt_length})`,
    `num_generations (${config.num_generations}) or prompts_per_step (${config.prompts_per_step})`,
    `lora_r (${config.lora_r}) or lora_target_modules (${config.lora_target_modules.join(', ')})`,
  ];
  if (format === 'f32') out.push('base_precision "bf16" (halves the frozen weights)');
  if (kvFormat === 'f32') out.push('kv_precision "bf16" (halves the generation KV caches)');
  if (config.recompute === 'off') out.push('recompute "auto" or "on" (keeps only each layer\'s input for backward)');
  out.push('a smaller model, or memory_budget_bytes if the GPU has more memory');
  return out;
}

/** The LM head chunk budgets (MiB) choosePlan tries after every layout at the model's own (64 MiB). */
export const LM_HEAD_CHUNK_MIB = [32, 16, 8];
/** Gemma 4's: the same, then 4 and 2 MiB (its 262,144-word vocabulary's chunks are the last cut) */
export const GEMMA4_LM_HEAD_CHUNK_MIB = [...LM_HEAD_CHUNK_MIB, 4, 2];

/** The config's own layout when it fits, else the first (largest) cut that fits; under recompute "auto",
 * when no layout fits without recomputation, the same layouts again with it; the smallest cut's plan, with
 * fits false, when none does. */
export async function choosePlan(model: ModelConfig, config: GrpoConfig, opts: PlanOptions = {}): Promise<MemoryPlan> {
  // Gemma 4 (tied head): when no layout fits with the embedding table on the GPU, the same layouts with it in host
  // memory. Every weight stays allocated through the step, so a budget below the weights' bytes skips the GPU table's
  // layouts (none can fit)
  if (model.gemma4 && model.tieWordEmbeddings && opts.embedOnHost === undefined) {
    const budget = opts.budgetBytes ?? null;
    const floor = gemma4MemoryFloor(model, config, { storage: opts.storage, pleOnHost: opts.pleOnHost ?? gemma4PleOnHost(model, opts.storage ?? {}, opts.limits ?? DEFAULT_DRY_LIMITS) });
    if (budget === null || floor.weights + (floor.pleOnHost ? 0 : floor.pleTable) <= budget) {
      const onGpu = await choosePlan(model, config, { ...opts, embedOnHost: false });
      if (onGpu.fits) return onGpu;
    }
    return choosePlan(model, config, { ...opts, embedOnHost: true });
  }
  let last: MemoryPlan | null = null;
  const plain = candidateLayouts(config);
  const layouts = config.recompute === 'auto' ? [...plain, ...plain.map((l) => ({ ...l, recompute: true }))] : plain;
  // then the smallest layout with the LM head's vocabulary chunks narrowed (their weight slice, logits and dlogits
  // shrink with the budget; more, smaller matmuls); Gemma 4 down to 2 MiB (E2B's step fits 4 GiB there)
  const smallest = layouts[layouts.length - 1];
  for (const mib of model.gemma4 ? GEMMA4_LM_HEAD_CHUNK_MIB : LM_HEAD_CHUNK_MIB) layouts.push({ ...smallest, lmHeadChunkBytes: mib * 2 ** 20 });
  for (const layout of layouts) {
    last = await planLayout(model, config, layout, opts);
    if (last.fits) return last;
  }
  return last!;
}

/** A plan as lines a person reads (the CLI, refusals). */
export function describePlan(p: MemoryPlan): string {
  const b = p.breakdown;
  const lines = [
    `peak ${formatBytes(p.peakBytes)}${p.budgetBytes !== null ? ` of a ${formatBytes(p.budgetBytes)} budget` : ''} ` +
      `(weights ${formatBytes(b.weights)} in ${p.basePrecision}, LoRA + Adam ${formatBytes(b.loraAdam)}, KV cache ${formatBytes(b.kvCache)} in ${p.kvPrecision}, ` +
      `activations and the rest ${formatBytes(b.activations)})`,
    `largest buffer ${formatBytes(p.largestBufferBytes)} (${p.largestBufferLabel}; the device allows ${formatBytes(p.maxBufferSize)})`,
    `layout: ${p.layout.generationPrompts} prompt(s) generated together, ${p.layout.rowsPerPass ?? 'all'} rows per training pass, ` +
      `${p.layout.trimBetweenPhases ? 'idle buffers freed between generation and training' : 'buffers kept for reuse'}, recompute ${p.recompute}` +
      (p.layout.lmHeadChunkBytes !== undefined ? `, LM head chunks of at most ${formatBytes(p.layout.lmHeadChunkBytes)}` : ''),
  ];
  if (!p.fits) lines.push(`does not fit; lower: ${p.advice.join('; ')}`);
  return lines.join('\n');
}

/** Throws before anything is allocated when the run cannot fit, with the plan and what to lower. */
export function refuseUnlessFits(p: MemoryPlan): void {
  if (!p.fits) throw new Error(`this run does not fit the GPU memory budget:\n${describePlan(p)}`);
}
