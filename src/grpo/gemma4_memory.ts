// The part of a GRPO step's memory that a Gemma 4 model fixes before any activation: the frozen weights in the
// base precision (the per-layer-embedding table counted on its own, on the GPU or kept on the host as
// Gemma4Gpu.upload's pleOnHost keeps it), LoRA + AdamW on the projections each layer owns (shared layers have no
// k/v, k_eq_v full layers no v), and the generation KV caches of the non-shared layers only (kvCacheBytes), in
// kv_precision. A floor of the peak, not the peak (activations, the chunked LM head's and decode's temporaries come
// on top): memory_plan.ts's exact dry run plans a Gemma 4 step, and uses this file's LoRA + Adam count.

import type { ModelConfig } from '../model/config';
import { isPackable, resolveBasePrecision, type BaseStorageOptions } from '../model/weight_storage';
import { kvCacheBytes } from '../model/decode_state';
import { resolveKvPrecision } from '../model/kv_storage';
import { gemma4LoraModules } from '../model/gemma4_lora';
import { expectedShapes } from '../model/weights';
import type { GrpoConfig } from './config';

const PLE_TABLE = 'model.embed_tokens_per_layer.weight';

export interface Gemma4MemoryFloor {
  basePrecision: string;
  /** the KV caches' format (kv_precision resolved for this base) */
  kvPrecision: string;
  /** frozen weights on the GPU (without the PLE table when it stays on the host) */
  weights: number;
  /** the PLE table in the base precision (262,144 x L*P values), on the GPU unless pleOnHost */
  pleTable: number;
  /** the main embedding table in the base precision (V x C), counted in weights (the memory plan takes it out when
   * it keeps the table in host memory) */
  embedTable: number;
  pleOnHost: boolean;
  loraAdam: number;
  /** KV caches of one generation batch (prompts generated together x num_generations rows) */
  kvCache: number;
  /** weights + LoRA/Adam + KV cache on the GPU */
  total: number;
}

/** LoRA + AdamW bytes on the projections each Gemma 4 layer owns (parameter, gradient, m and v, f32). */
export function gemma4LoraAdamBytes(model: ModelConfig, config: GrpoConfig): number {
  let params = 0;
  for (const [path, [out, inF]] of gemma4LoraModules(model)) {
    if (config.lora_target_modules.some((m) => path.endsWith(`.${m}`))) params += config.lora_r * (out + inF);
  }
  return params * 4 * 4;
}

export function gemma4MemoryFloor(
  model: ModelConfig, config: GrpoConfig, opts: { storage?: BaseStorageOptions; pleOnHost?: boolean; generationPrompts?: number } = {},
): Gemma4MemoryFloor {
  if (!model.gemma4) throw new Error(`${model.architecture}: not a Gemma 4 config`);
  const format = resolveBasePrecision(model, opts.storage);
  let weights = 0;
  let pleTable = 0;
  let embedTable = 0;
  for (const [name, shape] of expectedShapes(model)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * (format !== 'f32' && isPackable(name, shape) ? 2 : 4);
    if (name === PLE_TABLE) pleTable = bytes;
    else weights += bytes;
    if (name === 'model.embed_tokens.weight') embedTable = bytes;
  }
  const loraAdam = gemma4LoraAdamBytes(model, config);
  const rows = (opts.generationPrompts ?? config.prompts_per_step) * config.num_generations;
  const T = Math.ceil((config.max_prompt_length + config.max_completion_length) / 8) * 8;
  const kvFormat = resolveKvPrecision(model, config.kv_precision, format);
  const kvCache = kvCacheBytes(model, rows, T, kvFormat);
  const pleOnHost = !!opts.pleOnHost;
  return {
    basePrecision: format, kvPrecision: kvFormat, weights, pleTable, embedTable, pleOnHost, loraAdam, kvCache,
    total: weights + (pleOnHost ? 0 : pleTable) + loraAdam + kvCache,
  };
}
