// The config.json fields of the families that change the Llama layer: Qwen3 (q/k norms) and Gemma 3 text
// (scaled embeddings, (1 + w) norms, four norms per layer, GeGLU, query_pre_attn_scalar, sliding and full
// layers with their own RoPE), and the language model inside a Gemma 3 multimodal config. Definitions:
// transformers' configuration_qwen3.py / configuration_gemma3.py and modeling_*.py.

import { QWEN35_DEFAULTS } from './config_qwen35';
import { describe, parseRopeScaling, type FamilyFields, type FieldReader, type Json, type LayerType, type RopeScaling } from './config';

/** Fields whose transformers defaults apply when a config leaves them out (Qwen3Config, Gemma3TextConfig). */
export const FAMILY_DEFAULTS: Record<string, Json> = {
  qwen3: { head_dim: 128, rope_theta: 10000, rms_norm_eps: 1e-6, tie_word_embeddings: false },
  gemma3_text: {
    vocab_size: 262208, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 256, rms_norm_eps: 1e-6,
    rope_theta: 1_000_000, rope_local_base_freq: 10000, query_pre_attn_scalar: 256, sliding_window: 4096,
    tie_word_embeddings: true, bos_token_id: 2, eos_token_id: 1,
  },
  qwen3_5_text: QWEN35_DEFAULTS,
};

/** GELU spellings that mean the tanh approximation (transformers' ACT2FN: gelu_pytorch_tanh, gelu_new). */
const GELU_TANH = new Set(['gelu_pytorch_tanh', 'gelu_new']);

/** The fields of FamilyFields for one model_type (with any RoPE the family takes from elsewhere). */
export function familyFields(
  r: FieldReader, modelType: string, shape: { hiddenSize: number; numLayers: number; maxPositionEmbeddings: number },
): FamilyFields & { ropeTheta?: number; ropeScaling?: RopeScaling | null } {
  if (modelType === 'qwen3') {
    refuseSliding(r, 'qwen3', shape.numLayers);
    return { qkNorm: true };
  }
  if (modelType !== 'gemma3_text') return {};
  const json = r.json;
  for (const field of ['final_logit_softcapping', 'attn_logit_softcapping']) {
    if (r.has(field)) {
      r.fail(field, 'is set: logit soft-capping is not supported (Gemma 3 has none; null or absent is required)', json[field]);
    }
  }
  if (json.use_bidirectional_attention === true) {
    r.fail('use_bidirectional_attention', 'is true (an embedding model such as EmbeddingGemma): only causal language models are supported');
  }
  const actField = json.hidden_activation !== undefined && json.hidden_activation !== null ? 'hidden_activation' : 'hidden_act';
  const act = json[actField] ?? 'gelu_pytorch_tanh';
  if (typeof act !== 'string' || !GELU_TANH.has(act)) {
    r.fail(actField, `must be "gelu_pytorch_tanh" (GeGLU with the tanh-approximated GELU)`, act);
  }
  const window = r.positiveInt('sliding_window');
  const layerTypes = gemmaLayerTypes(r, shape.numLayers);
  const rope = gemmaRope(r, shape.maxPositionEmbeddings);
  const queryPreAttnScalar = r.positiveNumber('query_pre_attn_scalar', 256);
  return {
    qkNorm: true,
    normWeightOffset: 1,
    // transformers keeps sqrt(hidden) as a tensor of the model's dtype: in f32 it is sqrt rounded to f32
    embedScale: Math.fround(Math.sqrt(shape.hiddenSize)),
    attentionScale: queryPreAttnScalar ** -0.5,
    sandwichNorms: true,
    hiddenAct: 'gelu_tanh',
    layerTypes,
    slidingWindow: window,
    ...rope,
  };
}

/** Qwen's use_sliding_window and layer_types: only all-full attention is accepted. */
function refuseSliding(r: FieldReader, family: string, numLayers: number): void {
  const types = r.json.layer_types;
  if (types === undefined || types === null) return;
  const list = parseLayerTypes(r, numLayers);
  if (list.some((t) => t !== 'full_attention')) {
    r.fail('layer_types', `has sliding_attention layers: sliding-window attention is not supported for ${family}`);
  }
}

function parseLayerTypes(r: FieldReader, numLayers: number): LayerType[] {
  const types = r.json.layer_types;
  if (!Array.isArray(types) || types.length !== numLayers) {
    r.fail('layer_types', `must be a list of num_hidden_layers (${numLayers}) entries`, types);
  }
  types.forEach((t, i) => {
    if (t !== 'full_attention' && t !== 'sliding_attention') {
      r.fail(`layer_types[${i}]`, 'must be "full_attention" or "sliding_attention"', t);
    }
  });
  return types as LayerType[];
}

/** layer_types, or (older configs) every sliding_window_pattern-th layer full, the others sliding, as
 * Gemma3TextConfig derives it: layer i is full when (i + 1) % pattern == 0. */
function gemmaLayerTypes(r: FieldReader, numLayers: number): LayerType[] {
  if (r.has('layer_types')) return parseLayerTypes(r, numLayers);
  const pattern = r.positiveInt('sliding_window_pattern', 6);
  return Array.from({ length: numLayers }, (_, i) => ((i + 1) % pattern === 0 ? 'full_attention' : 'sliding_attention'));
}

/** Gemma 3's two RoPEs. The Hub's format: rope_theta + rope_scaling (full layers), rope_local_base_freq (sliding
 * layers, never scaled). transformers v5: rope_parameters {full_attention: {rope_type, rope_theta, factor?},
 * sliding_attention: {...}}. */
function gemmaRope(r: FieldReader, maxPositions: number): Pick<FamilyFields, 'ropeLocalTheta' | 'ropeLocalScaling'> & { ropeTheta: number; ropeScaling: RopeScaling | null } {
  const params = r.json.rope_parameters;
  if (params && typeof params === 'object' && !Array.isArray(params) && ('full_attention' in params || 'sliding_attention' in params)) {
    const per = params as Json;
    const one = (type: LayerType, fallbackTheta: number) => {
      const p = per[type];
      if (p === undefined) return { theta: fallbackTheta, scaling: null };
      if (typeof p !== 'object' || p === null || Array.isArray(p)) r.fail(`rope_parameters.${type}`, 'must be an object', p);
      const theta = r.positiveNumber('rope_theta', fallbackTheta, p as Json, `rope_parameters.${type}.`);
      return { theta, scaling: parseRopeScaling(r, p, `rope_parameters.${type}`, maxPositions) };
    };
    const full = one('full_attention', r.positiveNumber('rope_theta', 1_000_000));
    const local = one('sliding_attention', r.positiveNumber('rope_local_base_freq', 10000));
    return { ropeTheta: full.theta, ropeScaling: full.scaling, ropeLocalTheta: local.theta, ropeLocalScaling: local.scaling };
  }
  return {
    ropeTheta: r.positiveNumber('rope_theta', 1_000_000),
    ropeScaling: parseRopeScaling(r, r.json.rope_scaling, 'rope_scaling', maxPositions),
    ropeLocalTheta: r.positiveNumber('rope_local_base_freq', 10000),
    ropeLocalScaling: null,
  };
}

/** A Gemma3ForConditionalGeneration config.json -> its language model's gemma3_text config (text_config,
 * with the token ids and tying that the outer config holds). */
export function gemma3TextConfig(r: FieldReader): Json {
  const text = r.json.text_config;
  if (typeof text !== 'object' || text === null || Array.isArray(text)) {
    r.fail('text_config', 'is missing or not an object: a Gemma 3 multimodal config (model_type "gemma3") needs the language model\'s config', text);
  }
  const t = text as Json;
  if (t.model_type !== undefined && t.model_type !== 'gemma3_text') {
    r.fail('text_config.model_type', `must be "gemma3_text", got ${describe(t.model_type)}`);
  }
  const inherited: Json = {};
  for (const k of ['bos_token_id', 'eos_token_id', 'pad_token_id', 'tie_word_embeddings']) {
    if (r.json[k] !== undefined && t[k] === undefined) inherited[k] = r.json[k];
  }
  return { ...inherited, ...t, model_type: 'gemma3_text', architectures: ['Gemma3ForCausalLM'] };
}
