// The built-in model's shape (a Llama config.json) and its random initialisation before pretraining.

import type { ModelConfig } from '../model/config';
import { parseHfConfig } from '../model/config';
import { expectedShapes, type WeightMap } from '../model/weights';
import { Rng } from '../util/random';
import { BOS_ID, EOS_ID, PAD_ID, VOCAB_SIZE } from './tokenizer';

export interface TinyShape {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  intermediateSize: number;
  maxPositions: number;
  /** the tokenizer's size (default: the puzzles model's VOCAB_SIZE) */
  vocabSize?: number;
}

export const TINY_PUZZLES_SHAPE: Readonly<TinyShape> = Object.freeze({
  hiddenSize: 128,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 4,
  intermediateSize: 512,
  maxPositions: 64,
});

/** The Hugging Face config.json of the model (LlamaForCausalLM, tied embeddings, f32). */
export function tinyConfigJson(shape: TinyShape = TINY_PUZZLES_SHAPE): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_size: shape.hiddenSize,
    intermediate_size: shape.intermediateSize,
    num_hidden_layers: shape.numLayers,
    num_attention_heads: shape.numHeads,
    num_key_value_heads: shape.numKvHeads,
    head_dim: shape.hiddenSize / shape.numHeads,
    hidden_act: 'silu',
    max_position_embeddings: shape.maxPositions,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    tie_word_embeddings: true,
    vocab_size: shape.vocabSize ?? VOCAB_SIZE,
    bos_token_id: BOS_ID,
    eos_token_id: EOS_ID,
    pad_token_id: PAD_ID,
    initializer_range: 0.02,
    torch_dtype: 'float32',
    use_cache: true,
  };
}

export function tinyModelConfig(shape: TinyShape = TINY_PUZZLES_SHAPE, name = 'tiny-puzzles'): ModelConfig {
  return parseHfConfig(tinyConfigJson(shape), `${name}/config.json`);
}

/** Random weights as GPT-2 initialises them: matrices N(0, 0.02²), the projections that write into the
 * residual stream (o_proj, down_proj) scaled down by √(2 × layers), RMSNorm weights 1. */
export function initWeights(c: ModelConfig, seed: number, std = 0.02): WeightMap {
  const rng = new Rng(seed);
  const residualStd = std / Math.sqrt(2 * c.numLayers);
  const w: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('norm.weight')) data.fill(1);
    else {
      const s = name.endsWith('o_proj.weight') || name.endsWith('down_proj.weight') ? residualStd : std;
      for (let i = 0; i < n; i++) data[i] = s * rng.normal();
    }
    w.set(name, { shape: [...shape], data });
  }
  return w;
}

export function parameterCount(w: WeightMap): number {
  let n = 0;
  for (const t of w.values()) n += t.data.length;
  return n;
}
