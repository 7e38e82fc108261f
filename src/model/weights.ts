// Host-side weights under Hugging Face tensor names, whatever the checkpoint format:
//   model.embed_tokens.weight                          (V, C)
//   model.layers.{i}.input_layernorm.weight            (C)
//   model.layers.{i}.self_attn.q_proj.weight           (NH*HS, C)    .bias (NH*HS) when attentionBias
//   model.layers.{i}.self_attn.{k,v}_proj.weight       (NKV*HS, C)   .bias (NKV*HS) when attentionBias
//   model.layers.{i}.self_attn.{q,k}_norm.weight       (HS)          Qwen3, Gemma 3 (qkNorm)
//   model.layers.{i}.self_attn.o_proj.weight           (C, NH*HS)    .bias (C) when oProjBias
//   model.layers.{i}.post_attention_layernorm.weight   (C)
//   model.layers.{i}.{pre,post}_feedforward_layernorm.weight (C)    Gemma 3 (sandwichNorms)
//   model.layers.{i}.mlp.{gate,up}_proj.weight         (H, C)
//   model.layers.{i}.mlp.down_proj.weight              (C, H)
//   model.norm.weight                                  (C)
//   lm_head.weight                                     (V, C) unless tied to the embedding
// Qwen3.5: linear_attention layers hold linear_attn.* instead of self_attn.*, and q_proj is (2*NH*HS, C) with
// attnOutputGate (weights_qwen35.ts).

import type { GgmlTypeName } from '../ops/ggml_types';
import type { ModelConfig } from './config';
import { gemma4ExpectedShapes } from './gemma4_weights';
import { isLinearAttentionLayer, linearAttentionShapes } from './weights_qwen35';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
  /** the same matrix in a ggml block format (GGUF files), word-aligned as the quantised kernels read it: kept
   * quantised on the GPU when base_precision is "auto" (data holds its dequantised values) */
  quant?: { type: GgmlTypeName; words: Uint32Array };
}

export type WeightMap = Map<string, HostTensor>;

/** Every tensor the model needs, in a stable order (embedding, layers, final norm, lm_head). */
export function expectedShapes(c: ModelConfig): Map<string, number[]> {
  if (c.gemma4) return gemma4ExpectedShapes(c);
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KVD = c.numKvHeads * c.headDim;
  const H = c.intermediateSize;
  const m = new Map<string, number[]>();
  m.set('model.embed_tokens.weight', [c.vocabSize, C]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    m.set(`${p}.input_layernorm.weight`, [C]);
    if (isLinearAttentionLayer(c, i)) linearAttentionShapes(m, c, p);
    else {
      m.set(`${p}.self_attn.q_proj.weight`, [c.attnOutputGate ? 2 * QD : QD, C]);
      m.set(`${p}.self_attn.k_proj.weight`, [KVD, C]);
      m.set(`${p}.self_attn.v_proj.weight`, [KVD, C]);
      if (c.attentionBias) {
        m.set(`${p}.self_attn.q_proj.bias`, [c.attnOutputGate ? 2 * QD : QD]);
        m.set(`${p}.self_attn.k_proj.bias`, [KVD]);
        m.set(`${p}.self_attn.v_proj.bias`, [KVD]);
      }
      if (c.qkNorm) {
        m.set(`${p}.self_attn.q_norm.weight`, [c.headDim]);
        m.set(`${p}.self_attn.k_norm.weight`, [c.headDim]);
      }
      m.set(`${p}.self_attn.o_proj.weight`, [C, QD]);
      if (c.oProjBias) m.set(`${p}.self_attn.o_proj.bias`, [C]);
    }
    m.set(`${p}.post_attention_layernorm.weight`, [C]);
    if (c.sandwichNorms) {
      m.set(`${p}.pre_feedforward_layernorm.weight`, [C]);
      m.set(`${p}.post_feedforward_layernorm.weight`, [C]);
    }
    m.set(`${p}.mlp.gate_proj.weight`, [H, C]);
    m.set(`${p}.mlp.up_proj.weight`, [H, C]);
    m.set(`${p}.mlp.down_proj.weight`, [C, H]);
  }
  m.set('model.norm.weight', [C]);
  if (!c.tieWordEmbeddings) m.set('lm_head.weight', [c.vocabSize, C]);
  return m;
}

/** The family as a person knows it: model_type and architecture (e.g. qwen3 (Qwen3ForCausalLM)). */
function familyName(c: ModelConfig): string {
  return c.modelType ? `${c.modelType} (${c.architecture})` : c.architecture;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Throws one message naming the tensor (and both shapes) on the first missing, unexpected or misshapen
 * tensor; also checks that each tensor's data length matches its shape. */
export function validateWeights(c: ModelConfig, w: WeightMap, source: string): void {
  const shapes = expectedShapes(c);
  for (const [name, shape] of shapes) {
    const t = w.get(name);
    if (!t) {
      throw new Error(`${source}: missing tensor ${name} (expected shape ${fmt(shape)}): a ${familyName(c)} checkpoint with this config has it`);
    }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`${source}: tensor ${name} has shape ${fmt(t.shape)}, expected ${fmt(shape)}`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.quant) continue; // blocks (quant_storage.ts) were sized from the shape when read; data would dequantise them
    if (t.data.length !== n) {
      throw new Error(`${source}: tensor ${name} ${fmt(t.shape)} holds ${t.data.length} values, expected ${n}`);
    }
  }
  for (const [name, t] of w) {
    if (!shapes.has(name)) {
      throw new Error(`${source}: unexpected tensor ${name} ${fmt(t.shape)} (not part of a ${familyName(c)} model with this config)`);
    }
  }
}
