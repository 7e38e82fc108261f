// Gemma 4 text (transformers' configuration_gemma4.py / modeling_gemma4.py): the config.json fields of a
// gemma4_text model (Gemma4ForCausalLM) and of the language model of a gemma4 checkpoint
// (Gemma4ForConditionalGeneration: text_config; its vision and audio towers are not loaded).
//
// What Gemma 4 changes over Gemma 3's layer (the ModelConfig's own fields hold the sliding layers' shape):
//   norms x * w (not 1 + w); v_norm without a weight; attention scale 1;
//   full layers: head size global_head_dim and, with attention_k_eq_v, num_global_key_value_heads kv heads whose
//     values are v_norm(k_proj(x)) (no v_proj); proportional RoPE (int(p * HS / 2) frequencies, the rest 0);
//   the last num_kv_shared_layers layers reuse the rotated K and normed V of the last earlier non-shared layer of
//     their type (no k/v projections or k_norm of their own);
//   per-layer embeddings (PLE, hidden_size_per_layer_input = P): embed_tokens_per_layer (Vp, L*P) * sqrt(P) plus
//     rmsnorm(per_layer_model_projection(x0) * C^-1/2) per layer, times 2^-1/2; after each layer's MLP residual:
//     x += post_per_layer_input_norm(per_layer_projection(gelu_tanh(per_layer_input_gate(x)) * ple_l)), x *= layer_scalar;
//   double-wide MLPs (2 * intermediate_size) on the shared layers when use_double_wide_mlp;
//   final logit soft-capping: cap * tanh(logits / cap).

import { FieldReader, type Json, type LayerType, type ModelConfig } from './config';

export interface Gemma4Fields {
  /** head size of full_attention layers (global_head_dim) */
  globalHeadDim: number;
  /** attention_k_eq_v: full layers take values from k_proj and have num_global_key_value_heads kv heads */
  kEqV: boolean;
  /** kv heads of full layers (num_global_key_value_heads with kEqV, else num_key_value_heads) */
  numGlobalKvHeads: number;
  /** the last this-many layers share K/V (num_kv_shared_layers) */
  numKvSharedLayers: number;
  /** P: hidden_size_per_layer_input (0: no per-layer embeddings) */
  plePerLayer: number;
  /** vocab_size_per_layer_input */
  pleVocab: number;
  useDoubleWideMlp: boolean;
  /** final_logit_softcapping (null: none) */
  finalLogitSoftcap: number | null;
  /** full layers' RoPE: theta, partial_rotary_factor of proportional RoPE (1 for default), linear factor */
  fullRope: { theta: number; partialFactor: number; factor: number };
}

/** The shape of one layer as modeling_gemma4.py builds it. */
export interface Gemma4Layer {
  type: LayerType;
  /** head size (global_head_dim on full layers) */
  HS: number;
  NKV: number;
  /** MLP hidden size */
  H: number;
  /** the layer whose K/V this one reads (itself unless shared) */
  kvSource: number;
  shared: boolean;
  /** values come from k_proj (attention_k_eq_v on a full layer): no v_proj */
  kEqV: boolean;
}

export const GEMMA4_DEFAULTS: Json = {
  vocab_size: 262144, hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: 30, num_attention_heads: 8,
  num_key_value_heads: 4, head_dim: 256, global_head_dim: 512, rms_norm_eps: 1e-6, max_position_embeddings: 131072,
  tie_word_embeddings: true, bos_token_id: 2, eos_token_id: 1, sliding_window: 512, vocab_size_per_layer_input: 262144,
  hidden_size_per_layer_input: 256, num_kv_shared_layers: 0,
};

const GELU_TANH = new Set(['gelu_pytorch_tanh', 'gelu_new']);

/** Every layer's shape, K/V source and MLP width. */
export function gemma4Layers(c: ModelConfig): Gemma4Layer[] {
  const g = c.gemma4;
  if (!g) throw new Error(`${c.architecture}: not a Gemma 4 config`);
  const types = c.layerTypes ?? [];
  const firstShared = c.numLayers - g.numKvSharedLayers;
  const layers: Gemma4Layer[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const type = types[l];
    const full = type === 'full_attention';
    const shared = l >= firstShared && firstShared >= 0 && g.numKvSharedLayers > 0;
    let kvSource = l;
    if (shared) {
      kvSource = -1;
      for (let j = firstShared - 1; j >= 0; j--) if (types[j] === type) { kvSource = j; break; }
    }
    layers.push({
      type,
      HS: full ? g.globalHeadDim : c.headDim,
      NKV: full ? g.numGlobalKvHeads : c.numKvHeads,
      H: c.intermediateSize * (g.useDoubleWideMlp && shared ? 2 : 1),
      kvSource,
      shared,
      kEqV: full && g.kEqV,
    });
  }
  return layers;
}

/** Parses a gemma4_text config.json, or a gemma4 one (its text_config, with the outer token ids and tying). */
export function parseGemma4Config(raw: Json, source: string): ModelConfig {
  let json = raw;
  let architecture = 'Gemma4ForCausalLM';
  if (raw.model_type === 'gemma4') {
    const outer = new FieldReader(raw, source);
    const text = raw.text_config;
    if (typeof text !== 'object' || text === null || Array.isArray(text)) {
      outer.fail('text_config', 'is missing or not an object: a Gemma 4 config (model_type "gemma4") needs its language model\'s config (vision-only configs are not supported)', text);
    }
    const t = text as Json;
    if (t.model_type !== undefined && t.model_type !== 'gemma4_text') outer.fail('text_config.model_type', 'must be "gemma4_text"', t.model_type);
    const inherited: Json = {};
    for (const k of ['bos_token_id', 'eos_token_id', 'pad_token_id', 'tie_word_embeddings']) {
      if (raw[k] !== undefined && t[k] === undefined) inherited[k] = raw[k];
    }
    json = { ...inherited, ...t, model_type: 'gemma4_text' };
    source = `${source} (text_config)`;
    architecture = 'Gemma4ForConditionalGeneration';
  }
  const obj: Json = { ...json };
  for (const [k, v] of Object.entries(GEMMA4_DEFAULTS)) if (obj[k] === undefined) obj[k] = v;
  const r: FieldReader = new FieldReader(obj, source);

  if (obj.enable_moe_block === true || (typeof obj.num_experts === 'number' && obj.num_experts > 0)) {
    r.fail('enable_moe_block', 'is true: Mixture-of-Experts Gemma 4 models (such as 26B-A4B) are not supported; only the dense ones (E2B, E4B, 31B)');
  }
  if (obj.use_bidirectional_attention !== undefined && obj.use_bidirectional_attention !== null) {
    r.fail('use_bidirectional_attention', 'is set: only causal attention is supported', obj.use_bidirectional_attention);
  }
  if (obj.attention_bias === true) r.fail('attention_bias', 'is true: attention biases are not supported for gemma4_text');
  if (r.has('attn_logit_softcapping')) r.fail('attn_logit_softcapping', 'is set: attention soft-capping is not part of Gemma 4', obj.attn_logit_softcapping);
  const actField = obj.hidden_activation !== undefined && obj.hidden_activation !== null ? 'hidden_activation' : 'hidden_act';
  const act = obj[actField] ?? 'gelu_pytorch_tanh';
  if (typeof act !== 'string' || !GELU_TANH.has(act)) r.fail(actField, 'must be "gelu_pytorch_tanh" (GeGLU with the tanh-approximated GELU)', act);

  const hiddenSize = r.positiveInt('hidden_size');
  const numLayers = r.positiveInt('num_hidden_layers');
  const numHeads = r.positiveInt('num_attention_heads');
  const numKvHeads = r.positiveInt('num_key_value_heads');
  const headDim = r.positiveInt('head_dim');
  const globalHeadDim = r.positiveInt('global_head_dim');
  for (const [f, v] of [['head_dim', headDim], ['global_head_dim', globalHeadDim]] as const) if (v % 2 !== 0) r.fail(f, 'must be even for RoPE', v);
  const kEqV = r.bool('attention_k_eq_v', false);
  const numGlobalKvHeads = kEqV && r.has('num_global_key_value_heads') ? r.positiveInt('num_global_key_value_heads') : numKvHeads;
  for (const [f, v] of [['num_key_value_heads', numKvHeads], ['num_global_key_value_heads', numGlobalKvHeads]] as const) {
    if (numHeads % v !== 0) r.fail(f, `must divide num_attention_heads (${numHeads})`, v);
  }
  const intermediateSize = r.positiveInt('intermediate_size');
  const vocabSize = r.positiveInt('vocab_size');
  const maxPositionEmbeddings = r.positiveInt('max_position_embeddings');
  const slidingWindow = r.positiveInt('sliding_window');

  // layer_types: absent -> every 6th layer full; the last layer is forced to full_attention as transformers does
  let layerTypes: LayerType[];
  if (r.has('layer_types')) {
    const types = obj.layer_types;
    if (!Array.isArray(types) || types.length !== numLayers) r.fail('layer_types', `must be a list of num_hidden_layers (${numLayers}) entries`, types);
    types.forEach((t, i) => {
      if (t !== 'full_attention' && t !== 'sliding_attention') r.fail(`layer_types[${i}]`, 'must be "full_attention" or "sliding_attention"', t);
    });
    layerTypes = [...(types as LayerType[])];
  } else {
    layerTypes = Array.from({ length: numLayers }, (_, i) => ((i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention'));
  }
  layerTypes[numLayers - 1] = 'full_attention';

  const numKvSharedLayers = obj.num_kv_shared_layers === 0 ? 0 : r.positiveInt('num_kv_shared_layers');
  if (numKvSharedLayers >= numLayers) r.fail('num_kv_shared_layers', `must be below num_hidden_layers (${numLayers})`, numKvSharedLayers);
  const firstShared = numLayers - numKvSharedLayers;
  for (let l = firstShared; l < numLayers; l++) {
    if (!layerTypes.slice(0, firstShared).includes(layerTypes[l])) {
      r.fail('num_kv_shared_layers', `leaves shared layer ${l} (${layerTypes[l]}) no earlier non-shared ${layerTypes[l]} layer to read K/V from`, numKvSharedLayers);
    }
  }
  const plePerLayer = obj.hidden_size_per_layer_input === 0 || obj.hidden_size_per_layer_input === null ? 0 : r.positiveInt('hidden_size_per_layer_input');
  const pleVocab = plePerLayer ? r.positiveInt('vocab_size_per_layer_input') : 0;
  let finalLogitSoftcap: number | null = null;
  if (r.has('final_logit_softcapping')) finalLogitSoftcap = r.positiveNumber('final_logit_softcapping', 0);

  // RoPE: rope_parameters {full_attention: {rope_type proportional|default, rope_theta, partial_rotary_factor, factor?},
  // sliding_attention: {rope_type default, rope_theta}}
  const defaults: Json = {
    sliding_attention: { rope_type: 'default', rope_theta: 10000 },
    full_attention: { rope_type: 'proportional', partial_rotary_factor: 0.25, rope_theta: 1_000_000 },
  };
  const params = r.has('rope_parameters') ? obj.rope_parameters : defaults;
  if (typeof params !== 'object' || params === null || Array.isArray(params)) r.fail('rope_parameters', 'must be an object per layer type', params);
  const rope = (type: LayerType) => {
    const p = (params as Json)[type] ?? defaults[type];
    const field = `rope_parameters.${type}`;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) r.fail(field, 'must be an object', p);
    const pj = p as Json;
    const kind = pj.rope_type ?? 'default';
    if (kind !== 'default' && kind !== 'proportional' && kind !== 'linear') {
      r.fail(`${field}.rope_type`, 'is not supported (only "default", "proportional" or "linear")', kind);
    }
    const theta = r.positiveNumber('rope_theta', type === 'full_attention' ? 1_000_000 : 10000, pj, `${field}.`);
    const factor = kind === 'default' ? 1 : r.positiveNumber('factor', 1, pj, `${field}.`);
    const partial = kind === 'proportional' ? r.positiveNumber('partial_rotary_factor', 1, pj, `${field}.`) : 1;
    if (partial > 1) r.fail(`${field}.partial_rotary_factor`, 'must be at most 1', partial);
    if (kind !== 'proportional' && pj.partial_rotary_factor !== undefined && pj.partial_rotary_factor !== 1) {
      r.fail(`${field}.partial_rotary_factor`, `is only supported with rope_type "proportional"`, pj.partial_rotary_factor);
    }
    return { theta, partialFactor: partial, factor };
  };
  const local = rope('sliding_attention');
  if (local.partialFactor !== 1) r.fail('rope_parameters.sliding_attention.rope_type', 'must be "default" or "linear" for sliding layers', (params as Json).sliding_attention);
  const fullRope = rope('full_attention');

  const bos = r.tokenIds('bos_token_id');
  if (bos.length > 1) r.fail('bos_token_id', 'must be a single token id', obj.bos_token_id);
  return {
    architecture,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize,
    vocabSize,
    rmsNormEps: r.positiveNumber('rms_norm_eps', 1e-6),
    ropeTheta: fullRope.theta,
    ropeScaling: null,
    ropeConvention: 'half',
    maxPositionEmbeddings,
    tieWordEmbeddings: r.bool('tie_word_embeddings', true),
    attentionBias: false,
    bosTokenId: bos.length ? bos[0] : null,
    eosTokenIds: r.tokenIds('eos_token_id'),
    modelType: 'gemma4_text',
    qkNorm: true,
    normWeightOffset: 0,
    embedScale: Math.fround(Math.sqrt(hiddenSize)),
    attentionScale: 1,
    sandwichNorms: true,
    hiddenAct: 'gelu_tanh',
    layerTypes,
    slidingWindow,
    ropeLocalTheta: local.theta,
    ropeLocalScaling: local.factor !== 1 ? { type: 'linear', factor: local.factor } : null,
    gemma4: {
      globalHeadDim, kEqV, numGlobalKvHeads, numKvSharedLayers, plePerLayer, pleVocab,
      useDoubleWideMlp: r.bool('use_double_wide_mlp', false), finalLogitSoftcap, fullRope,
    },
  };
}

/** model_types parsed here: gemma4_text, and gemma4 (its text_config). */
export function isGemma4ModelType(t: unknown): boolean {
  return t === 'gemma4' || t === 'gemma4_text';
}
