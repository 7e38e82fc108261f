// Qwen3.5 text (model_type qwen3_5_text, Qwen3_5ForCausalLM) and the language model of a Qwen3.5 multimodal
// config (model_type qwen3_5, Qwen3_5ForConditionalGeneration: its text_config). Definition: transformers'
// configuration_qwen3_5.py / modeling_qwen3_5.py. What it changes in the Llama layer:
//   - layer_types mixes "linear_attention" (Gated DeltaNet) and "full_attention" layers;
//   - every RMSNorm is x * (1 + w) (q/k norms included), except the linear layers' gated output norm
//     rms(o) * w * silu(z) with plain w;
//   - full layers: q_proj yields per head the query and an equal-sized output gate (o * sigmoid(gate) before
//     o_proj); RoPE over the first partial_rotary_factor of each head only (rotate-half within that slice);
//   - linear layers: linear_num_key_heads (NK) x linear_key_head_dim (DK) for q and k, linear_num_value_heads (NV)
//     x linear_value_head_dim (DV) for v, a causal depthwise conv of linear_conv_kernel_dim (K) taps.

import { describe, type FieldReader, type Json, type LayerType } from './config';

/** The Gated DeltaNet layers' shape (Qwen3.5). Letters: NK key heads, DK key head size, NV value heads, DV value
 * head size, K conv taps. Conv channels CD = 2*NK*DK + NV*DV (q, k, v in that order). */
export interface LinearAttentionShape {
  numKeyHeads: number;
  keyHeadDim: number;
  numValueHeads: number;
  valueHeadDim: number;
  convKernel: number;
}

/** Qwen3_5TextConfig's defaults for fields a config may leave out. */
export const QWEN35_DEFAULTS: Json = {
  vocab_size: 248320, num_attention_heads: 16, num_key_value_heads: 4, head_dim: 256, rms_norm_eps: 1e-6,
  max_position_embeddings: 32768, tie_word_embeddings: false, hidden_act: 'silu',
  linear_conv_kernel_dim: 4, linear_key_head_dim: 128, linear_value_head_dim: 128, linear_num_key_heads: 16,
  linear_num_value_heads: 32,
};

/** partial_rotary_factor: top level (older configs) or inside rope_parameters (transformers v5); default 0.25. */
export function qwen35RotaryDim(r: FieldReader, headDim: number): number {
  const rope = r.json.rope_parameters;
  const inRope = rope && typeof rope === 'object' && !Array.isArray(rope) ? (rope as Json).partial_rotary_factor : undefined;
  const field = inRope !== undefined ? 'rope_parameters.partial_rotary_factor' : 'partial_rotary_factor';
  const f = inRope ?? r.json.partial_rotary_factor ?? 0.25;
  if (typeof f !== 'number' || !(f > 0 && f <= 1)) r.fail(field, 'must be a number in (0, 1]', f);
  const dim = Math.floor(headDim * f);
  if (dim < 2 || dim % 2 !== 0) r.fail(field, `gives ${dim} rotary dimensions of head_dim ${headDim}: an even number >= 2 is required`, f);
  return dim;
}

/** The family fields of a qwen3_5_text config (its shape already read by config.ts). */
export function qwen35Fields(r: FieldReader, numLayers: number, headDim: number): {
  qkNorm: true; normWeightOffset: 1; attnOutputGate: true; rotaryDim: number; layerTypes: LayerType[]; linearAttention: LinearAttentionShape;
} {
  const json = r.json;
  for (const moe of ['num_experts', 'num_experts_per_tok', 'moe_intermediate_size']) {
    if (r.has(moe) && json[moe] !== 0) {
      r.fail(moe, 'is set: a mixture-of-experts Qwen3.5 (qwen3_5_moe) is not supported, only the dense text models', json[moe]);
    }
  }
  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu') r.fail('hidden_act', 'must be "silu" (SwiGLU MLP and SiLU after the linear layers\' conv)', act);
  if (json.attn_output_gate === false) r.fail('attn_output_gate', 'is false: Qwen3.5\'s full-attention layers always gate their output');
  if (Array.isArray(json.mlp_only_layers) && json.mlp_only_layers.length > 0) {
    r.fail('mlp_only_layers', 'is not empty: layers without attention are not supported', json.mlp_only_layers);
  }
  const linearAttention: LinearAttentionShape = {
    numKeyHeads: r.positiveInt('linear_num_key_heads'),
    keyHeadDim: r.positiveInt('linear_key_head_dim'),
    numValueHeads: r.positiveInt('linear_num_value_heads'),
    valueHeadDim: r.positiveInt('linear_value_head_dim'),
    convKernel: r.positiveInt('linear_conv_kernel_dim'),
  };
  if (linearAttention.numValueHeads % linearAttention.numKeyHeads !== 0) {
    r.fail('linear_num_key_heads', `must divide linear_num_value_heads (${linearAttention.numValueHeads})`, linearAttention.numKeyHeads);
  }
  return {
    qkNorm: true,
    normWeightOffset: 1,
    attnOutputGate: true,
    rotaryDim: qwen35RotaryDim(r, headDim),
    layerTypes: qwen35LayerTypes(r, numLayers),
    linearAttention,
  };
}

/** layer_types, or (absent) every full_attention_interval-th layer full and the others linear, as
 * Qwen3_5TextConfig derives it: layer i is linear when (i + 1) % interval != 0. */
function qwen35LayerTypes(r: FieldReader, numLayers: number): LayerType[] {
  const types = r.json.layer_types;
  if (types === undefined || types === null) {
    const interval = r.positiveInt('full_attention_interval', 4);
    return Array.from({ length: numLayers }, (_, i) => ((i + 1) % interval !== 0 ? 'linear_attention' : 'full_attention'));
  }
  if (!Array.isArray(types) || types.length !== numLayers) {
    r.fail('layer_types', `must be a list of num_hidden_layers (${numLayers}) entries`, types);
  }
  types.forEach((t, i) => {
    if (t !== 'full_attention' && t !== 'linear_attention') {
      r.fail(`layer_types[${i}]`, `is ${describe(t)}: a Qwen3.5 layer is "linear_attention" or "full_attention"`);
    }
  });
  return types as LayerType[];
}

/** A Qwen3_5ForConditionalGeneration config.json -> its language model's qwen3_5_text config (text_config, with
 * the token ids and tying the outer config holds). A config without text_config (vision only) is refused. */
export function qwen35TextConfig(r: FieldReader): Json {
  const text = r.json.text_config;
  if (typeof text !== 'object' || text === null || Array.isArray(text)) {
    r.fail('text_config', 'is missing or not an object: a Qwen3.5 multimodal config (model_type "qwen3_5") needs its language model\'s config (a vision-only model cannot be trained here)', text);
  }
  const t = text as Json;
  if (t.model_type !== undefined && t.model_type !== 'qwen3_5_text') {
    const why = t.model_type === 'qwen3_5_moe_text' ? ' (mixture-of-experts Qwen3.5 is not supported)' : '';
    r.fail('text_config.model_type', `must be "qwen3_5_text"${why}, got ${describe(t.model_type)}`);
  }
  const inherited: Json = {};
  for (const k of ['bos_token_id', 'eos_token_id', 'pad_token_id', 'tie_word_embeddings']) {
    if (r.json[k] !== undefined && t[k] === undefined) inherited[k] = r.json[k];
  }
  return { ...inherited, ...t, model_type: 'qwen3_5_text', architectures: ['Qwen3_5ForCausalLM'] };
}
