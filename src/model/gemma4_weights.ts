// Gemma 4 text's tensors under the causal LM's names (a gemma4 checkpoint's model.language_model.* are renamed
// to model.* by hf_folder.ts; its vision and audio towers are skipped there). Letters: C hidden, L layers,
// P hidden_size_per_layer_input, Vp vocab_size_per_layer_input; HS, NKV and H are each layer's (gemma4Layers).
//   model.embed_tokens.weight                               (V, C)
//   model.embed_tokens_per_layer.weight                     (Vp, L*P)   when P > 0
//   model.per_layer_model_projection.weight                 (L*P, C)
//   model.per_layer_projection_norm.weight                  (P)
//   model.layers.{i}.input_layernorm.weight                 (C)
//   model.layers.{i}.self_attn.q_proj.weight                (NH*HS, C)
//   model.layers.{i}.self_attn.q_norm.weight                (HS)
//   model.layers.{i}.self_attn.{k,v}_proj.weight            (NKV*HS, C)  not on shared layers; no v_proj where k_eq_v
//   model.layers.{i}.self_attn.k_norm.weight                (HS)         not on shared layers (v_norm has no weight)
//   model.layers.{i}.self_attn.o_proj.weight                (C, NH*HS)
//   model.layers.{i}.{post_attention,pre_feedforward,post_feedforward}_layernorm.weight (C)
//   model.layers.{i}.mlp.{gate,up}_proj.weight              (H, C)       H doubled on shared layers with use_double_wide_mlp
//   model.layers.{i}.mlp.down_proj.weight                   (C, H)
//   model.layers.{i}.per_layer_input_gate.weight            (P, C)       when P > 0
//   model.layers.{i}.per_layer_projection.weight            (C, P)
//   model.layers.{i}.post_per_layer_input_norm.weight       (C)
//   model.layers.{i}.layer_scalar                           (1)
//   model.norm.weight                                       (C)
//   lm_head.weight                                          (V, C) unless tied

import type { ModelConfig } from './config';
import { gemma4Layers } from './gemma4_config';

export function gemma4ExpectedShapes(c: ModelConfig): Map<string, number[]> {
  const g = c.gemma4!;
  const C = c.hiddenSize;
  const L = c.numLayers;
  const P = g.plePerLayer;
  const m = new Map<string, number[]>();
  m.set('model.embed_tokens.weight', [c.vocabSize, C]);
  if (P) {
    m.set('model.embed_tokens_per_layer.weight', [g.pleVocab, L * P]);
    m.set('model.per_layer_model_projection.weight', [L * P, C]);
    m.set('model.per_layer_projection_norm.weight', [P]);
  }
  gemma4Layers(c).forEach((ly, i) => {
    const p = `model.layers.${i}`;
    const QD = c.numHeads * ly.HS;
    const KVD = ly.NKV * ly.HS;
    m.set(`${p}.input_layernorm.weight`, [C]);
    m.set(`${p}.self_attn.q_proj.weight`, [QD, C]);
    m.set(`${p}.self_attn.q_norm.weight`, [ly.HS]);
    if (!ly.shared) {
      m.set(`${p}.self_attn.k_proj.weight`, [KVD, C]);
      if (!ly.kEqV) m.set(`${p}.self_attn.v_proj.weight`, [KVD, C]);
      m.set(`${p}.self_attn.k_norm.weight`, [ly.HS]);
    }
    m.set(`${p}.self_attn.o_proj.weight`, [C, QD]);
    m.set(`${p}.post_attention_layernorm.weight`, [C]);
    m.set(`${p}.pre_feedforward_layernorm.weight`, [C]);
    m.set(`${p}.post_feedforward_layernorm.weight`, [C]);
    m.set(`${p}.mlp.gate_proj.weight`, [ly.H, C]);
    m.set(`${p}.mlp.up_proj.weight`, [ly.H, C]);
    m.set(`${p}.mlp.down_proj.weight`, [C, ly.H]);
    if (P) {
      m.set(`${p}.per_layer_input_gate.weight`, [P, C]);
      m.set(`${p}.per_layer_projection.weight`, [C, P]);
      m.set(`${p}.post_per_layer_input_norm.weight`, [C]);
    }
    m.set(`${p}.layer_scalar`, [1]);
  });
  m.set('model.norm.weight', [C]);
  if (!c.tieWordEmbeddings) m.set('lm_head.weight', [c.vocabSize, C]);
  return m;
}

/** Tensors a Gemma 4 checkpoint may carry that the model ignores: the shared layers' own k/v projections and
 * norms (modeling_gemma4.py drops them on load). */
export function gemma4Ignored(c: ModelConfig, name: string): boolean {
  const m = /^model\.layers\.(\d+)\.self_attn\.(k_proj|v_proj|k_norm|v_norm)\.weight$/.exec(name);
  if (!m) return false;
  const layer = gemma4Layers(c)[Number(m[1])];
  return layer !== undefined && layer.shared;
}
