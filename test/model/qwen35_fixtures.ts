// Tiny Qwen3.5 text configs (Hub format) and random weights / LoRA for the Qwen3.5 tests.
import type { ModelConfig } from '../../src/model/config';
import { parseHfConfig } from '../../src/model/config';
import { expectedShapes, type WeightMap } from '../../src/model/weights';
import { isLinearAttentionLayer, LINEAR_ATTN_MODULES, linearAttnModuleDims } from '../../src/model/weights_qwen35';
import type { LoraMap } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';

/** A qwen3_5_text config.json: linear, full, linear layers; GQA (2 heads over 1); partial RoPE over 2 of 4
 * channels; 1 key head of 3 for 2 value heads of 2 (grouped); conv of 3 taps. */
export function qwen35TinyJson(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['Qwen3_5ForCausalLM'], model_type: 'qwen3_5_text', vocab_size: 11, hidden_size: 8, intermediate_size: 12,
    num_hidden_layers: 3, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 4, hidden_act: 'silu',
    layer_types: ['linear_attention', 'full_attention', 'linear_attention'],
    linear_num_key_heads: 1, linear_num_value_heads: 2, linear_key_head_dim: 3, linear_value_head_dim: 2, linear_conv_kernel_dim: 3,
    rope_parameters: { rope_type: 'default', rope_theta: 100, partial_rotary_factor: 0.5, mrope_section: [1, 0, 0], mrope_interleaved: true },
    rms_norm_eps: 1e-6, tie_word_embeddings: true, attention_bias: false, max_position_embeddings: 64, bos_token_id: null, eos_token_id: 2,
    ...over,
  };
}

export function qwen35TinyConfig(over: Record<string, unknown> = {}): ModelConfig {
  return parseHfConfig(qwen35TinyJson(over));
}

/** Random weights: (1 + w) norm weights around 0, the gated norm's plain w around 1, A_log and dt_bias around 0. */
export function qwen35Weights(c: ModelConfig, seed: number, scale = 0.4): WeightMap {
  const rng = new Rng(seed);
  const w: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const gatedNorm = name.endsWith('linear_attn.norm.weight');
    const norm = name.endsWith('norm.weight') && !gatedNorm;
    for (let i = 0; i < n; i++) data[i] = (gatedNorm ? 1 : 0) + (norm || gatedNorm ? 0.2 : scale) * rng.normal();
    w.set(name, { shape: [...shape], data });
  }
  return w;
}

/** LoRA (A and B random) on every projection of every layer by the checkpoint's own names: q/k/v/o on full
 * layers, in_proj_qkv/z/b/a and out_proj on linear layers, gate/up/down everywhere. */
export function qwen35Lora(c: ModelConfig, seed: number, r: number, scale: number): LoraMap {
  const rng = new Rng(seed);
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KVD = c.numKvHeads * c.headDim;
  const H = c.intermediateSize;
  const full: Record<string, [number, number]> = {
    q_proj: [2 * QD, C], k_proj: [KVD, C], v_proj: [KVD, C], o_proj: [C, QD],
  };
  const mlp: Record<string, [number, number]> = { gate_proj: [H, C], up_proj: [H, C], down_proj: [C, H] };
  const lora: LoraMap = new Map();
  const add = (path: string, [OUT, IN]: [number, number]) => {
    const A = Float32Array.from({ length: r * IN }, () => 0.4 * rng.normal());
    const B = Float32Array.from({ length: OUT * r }, () => 0.4 * rng.normal());
    lora.set(path, { A, B, r, scale });
  };
  for (let l = 0; l < c.numLayers; l++) {
    if (isLinearAttentionLayer(c, l)) for (const m of LINEAR_ATTN_MODULES) add(`model.layers.${l}.linear_attn.${m}`, linearAttnModuleDims(c, m));
    else for (const [m, d] of Object.entries(full)) add(`model.layers.${l}.self_attn.${m}`, d);
    for (const [m, d] of Object.entries(mlp)) add(`model.layers.${l}.mlp.${m}`, d);
  }
  return lora;
}
