// Shared fixtures of the model tests: tiny random Llama models, LoRA sets, in-memory files and a small
// generated tokenizer.json. Everything is generated from a seed; nothing is stored.
import { fileURLToPath } from 'node:url';
import type { ModelConfig } from '../../src/model/config';
import type { FileSource } from '../../src/model/load';
import { expectedShapes, type WeightMap } from '../../src/model/weights';
import type { LoraMap } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';

/** ../shared beside the checkout (as on CI), never a fixed absolute path */
export const STORIES_DIR = fileURLToPath(new URL('../../../shared/models/stories260K', import.meta.url));
export const STORIES_BIN = `${STORIES_DIR}/stories260K.bin`;
export const STORIES_TOK = `${STORIES_DIR}/tok512.bin`;

export function tinyConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    architecture: 'LlamaForCausalLM',
    hiddenSize: 8,
    numLayers: 2,
    numHeads: 2,
    numKvHeads: 1,
    headDim: 4,
    intermediateSize: 12,
    vocabSize: 11,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    ropeConvention: 'half',
    maxPositionEmbeddings: 64,
    tieWordEmbeddings: true,
    attentionBias: false,
    bosTokenId: 1,
    eosTokenIds: [2],
    ...over,
  };
}

/** A slightly larger tiny model for the GPU tests: GQA with 4 heads over 2 kv heads, odd sizes throughout. */
export function gpuTinyConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return tinyConfig({ hiddenSize: 12, numHeads: 4, numKvHeads: 2, intermediateSize: 20, vocabSize: 37, ...over });
}

/** Random weights: matrices N(0, scale^2), norm weights near 1, biases N(0, scale^2). */
export function randomWeights(c: ModelConfig, seed: number, scale = 0.4): WeightMap {
  const rng = new Rng(seed);
  const w: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = name.endsWith('norm.weight');
    for (let i = 0; i < n; i++) data[i] = isNorm ? 1 + 0.2 * rng.normal() : scale * rng.normal();
    w.set(name, { shape: [...shape], data });
  }
  return w;
}

export const ALL_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

/** LoRA on the given modules of every layer, A and B both random (so both gradients are non-trivial). */
export function randomLora(c: ModelConfig, seed: number, r: number, scale: number, modules: readonly string[] = ALL_MODULES): LoraMap {
  const rng = new Rng(seed);
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KVD = c.numKvHeads * c.headDim;
  const H = c.intermediateSize;
  const dims: Record<string, [number, number]> = {
    q_proj: [QD, C], k_proj: [KVD, C], v_proj: [KVD, C], o_proj: [C, QD],
    gate_proj: [H, C], up_proj: [H, C], down_proj: [C, H],
  };
  const lora: LoraMap = new Map();
  for (let l = 0; l < c.numLayers; l++) {
    for (const m of modules) {
      const [OUT, IN] = dims[m];
      const group = ['gate_proj', 'up_proj', 'down_proj'].includes(m) ? 'mlp' : 'self_attn';
      const A = Float32Array.from({ length: r * IN }, () => 0.4 * rng.normal());
      const B = Float32Array.from({ length: OUT * r }, () => 0.4 * rng.normal());
      lora.set(`model.layers.${l}.${group}.${m}`, { A, B, r, scale });
    }
  }
  return lora;
}

export function randomTokens(n: number, V: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.int(V));
}

/** An in-memory FileSource. */
export function memFile(name: string, content: Uint8Array | string): FileSource {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  return {
    name,
    size: bytes.length,
    arrayBuffer: async () => bytes.slice().buffer,
    text: async () => new TextDecoder().decode(bytes),
  };
}

/** A byte-level BPE tokenizer.json (GPT-2 style) with 20 tokens: <s>, </s>, <unk>, a few letters, merges
 * that build "hello" and "Ġworld". */
export function tinyTokenizerJson(): Record<string, unknown> {
  const tokens = ['<s>', '</s>', '<unk>', 'h', 'e', 'l', 'o', 'w', 'r', 'd', 'Ġ', 'he', 'll', 'llo', 'hello', 'Ġw', 'or', 'ld', 'Ġworld', '!'];
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  const special = (id: number, content: string) => ({
    id, content, special: true, single_word: false, lstrip: false, rstrip: false, normalized: false,
  });
  return {
    version: '1.0',
    added_tokens: [special(0, '<s>'), special(1, '</s>')],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [],
      special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, vocab,
      merges: ['h e', 'l l', 'll o', 'he llo', 'Ġ w', 'o r', 'l d', 'Ġw or', 'Ġwor ld'],
    },
  };
}
