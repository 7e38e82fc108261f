// A Llama-structured ModelConfig read from any decoder config.json's shapes, for memory planning only
// (memory_plan.ts, the `plan` CLI): the fallback for a model_type this engine does not run. Families it runs
// (llama, mistral, qwen2, qwen3, gemma3_text, gemma3) are parsed by config.ts and planned with their own code.
// A model planned this way is a Llama of the same hidden size, layers, heads, kv heads, head_dim, MLP width and
// vocabulary: any per-layer op the family adds (e.g. q/k norms: N * (NH + NKV) * HS more saved floats per
// layer; extra norms: N * C each) is left out, and sliding-window layers are planned at full length.
// It never loads weights and is never used to run a model.

import type { ModelConfig } from './config';
import { checkConfigSizes } from './config_bounds';

const FAMILY_DEFAULT_TIE: Record<string, boolean> = { qwen3: true, gemma3_text: true, gemma3: true };

function int(obj: Record<string, unknown>, key: string, source: string, fallback?: number): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new Error(`${source}: ${key} must be a positive whole number for a memory plan, got ${JSON.stringify(obj[key])}`);
  }
  checkConfigSizes({ [key]: v }, (f, why, got) => {
    throw new Error(`${source}: ${f} ${why}, got ${JSON.stringify(got)}`);
  });
  return v;
}

/** The shapes of a config.json (a Gemma3ForConditionalGeneration's text_config is used when present). */
export function structuralConfig(json: unknown, source = 'config.json'): ModelConfig & { modelType: string } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${source}: expected a JSON object`);
  let obj = json as Record<string, unknown>;
  if (typeof obj.text_config === 'object' && obj.text_config !== null) obj = { model_type: 'gemma3_text', ...(obj.text_config as Record<string, unknown>) };
  const modelType = typeof obj.model_type === 'string' ? obj.model_type : 'unknown';
  const hidden = int(obj, 'hidden_size', source);
  const heads = int(obj, 'num_attention_heads', source);
  return {
    modelType,
    architecture: `${modelType} (structural plan)`,
    hiddenSize: hidden,
    numLayers: int(obj, 'num_hidden_layers', source),
    numHeads: heads,
    numKvHeads: int(obj, 'num_key_value_heads', source, heads),
    headDim: int(obj, 'head_dim', source, hidden / heads),
    intermediateSize: int(obj, 'intermediate_size', source),
    vocabSize: int(obj, 'vocab_size', source),
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    ropeScaling: null,
    ropeConvention: 'half',
    maxPositionEmbeddings: int(obj, 'max_position_embeddings', source, 32768),
    tieWordEmbeddings: typeof obj.tie_word_embeddings === 'boolean' ? obj.tie_word_embeddings : (FAMILY_DEFAULT_TIE[modelType] ?? false),
    attentionBias: obj.attention_bias === true || modelType === 'qwen2',
    bosTokenId: null,
    eosTokenIds: [],
  };
}

/** The checkpoint's dtype as config.json states it (torch_dtype, or transformers v5's dtype): 'bf16', 'f16', 'f32'. */
export function configDtype(json: unknown): string | undefined {
  const obj = (json ?? {}) as Record<string, unknown>;
  const d = obj.torch_dtype ?? obj.dtype ?? (obj.text_config as Record<string, unknown> | undefined)?.torch_dtype;
  return d === 'bfloat16' ? 'bf16' : d === 'float16' ? 'f16' : d === 'float32' ? 'f32' : undefined;
}
