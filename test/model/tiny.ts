// Shared fixtures of the model tests: tiny random Llama models, LoRA sets, in-memory files and a small
// generated tokenizer.json. Everything is generated from a seed; nothing is stored.
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { ModelConfig } from '../../src/model/config';
import type { FileSource } from '../../src/model/load';
import type { LoraModule, LoraSet } from '../../src/model/lora';
import type { GpuTransformer } from '../../src/model/transformer';
import { isPackable } from '../../src/model/weight_storage';
import { expectedShapes, type WeightMap } from '../../src/model/weights';
import type { GpuRuntime } from '../../src/gpu/runtime';
import type { Tensor } from '../../src/gpu/tensor';
import { pack16, unpack16 } from '../../src/reference/packed16';
import { transformerBackward, transformerForward, type LoraMap } from '../../src/reference/transformer';
import { compare } from '../../src/selftest/check';
import { Rng, randn } from '../../src/util/random';

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

/** ALL_MODULES as LoraSet's targetModules (same order). */
export const ALL_TARGETS: LoraModule[] = [...ALL_MODULES];

/** Writes random A and B, N(0, 0.3^2) drawn from rng pair by pair (A, then B), into every pair of a LoraSet;
 * returns the same values as a reference LoraMap. */
export function randomizeLora(gpu: GpuRuntime, lora: LoraSet, rng: Rng): LoraMap {
  const refLora: LoraMap = new Map();
  for (const p of lora.pairs.values()) {
    const A = randn(p.A.size, rng, 0.3);
    const B = randn(p.B.size, rng, 0.3);
    gpu.write(p.A, A);
    gpu.write(p.B, B);
    refLora.set(p.path, { A, B, r: lora.spec.r, scale: lora.scale });
  }
  return refLora;
}

/** A random batch of B rows of T on the GPU: ids, then targets, drawn from rng in [0, V); positions 0..T-1 per row. */
export function uploadRandomBatch(gpu: GpuRuntime, B: number, T: number, V: number, rng: Rng): { ids: Tensor; pos: Tensor; tgt: Tensor } {
  const N = B * T;
  const ids = gpu.upload(Array.from({ length: N }, () => rng.int(V)), [N], 'ids', 'u32');
  const pos = gpu.upload(Array.from({ length: N }, (_, i) => i % T), [N], 'pos', 'u32');
  const tgt = gpu.upload(Array.from({ length: N }, () => rng.int(V)), [N], 'tgt', 'u32');
  return { ids, pos, tgt };
}

/** The weights a 16-bit base holds: every packable matrix rounded to `format` (nearest even) and back to f32. */
export function roundedWeights(w: WeightMap, format: 'bf16' | 'f16'): WeightMap {
  const out: WeightMap = new Map();
  for (const [name, t] of w) {
    out.set(name, { shape: t.shape, data: isPackable(name, t.shape) ? unpack16(pack16(t.data, format), format) : t.data });
  }
  return out;
}

/** GPU against CPU reference for the whole model: |got - want| <= atol + rtol * |want| elementwise. */
export function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol = 2e-4, rtol = 2e-3) {
  const r = compare('model', name, name, got, want, { atol, rtol });
  expect(r.mismatches.join('\n'), `${name}: max |err| ${r.maxAbsErr}`).toBe('');
}

/** Forward and backward of one random batch (B rows of T: tokens, then dlogits N(0, 1), drawn from rng) through
 * the GPU model and the CPU reference: checks the logits, then returns the GPU's full-weight gradients and the
 * reference's gradients for the caller to check (LoRA gradients stay in the pairs' dA and dB), and `release`
 * for the pass's tensors. */
export async function forwardBackwardVsReference(
  model: GpuTransformer, c: ModelConfig, weights: WeightMap, lora: LoraSet, refLora: LoraMap, B: number, T: number, rng: Rng,
  opts: { fullGrads?: boolean } = {},
) {
  const { gpu } = model;
  const tokens = Array.from({ length: B * T }, () => rng.int(c.vocabSize));
  const ref = transformerForward(c, weights, tokens, B, T, refLora);
  const ids = gpu.upload(tokens, [B * T], 'ids', 'u32');
  const pos = gpu.upload(Array.from({ length: B * T }, (_, i) => i % T), [B * T], 'pos', 'u32');
  const act = model.forward(ids, pos, B, T, lora);
  const logits = model.logits(act.f);
  expectClose('logits', await gpu.read(logits), ref.logits);

  const dlogits = randn(B * T * c.vocabSize, rng, 1);
  const refGrads = transformerBackward(ref.acts, dlogits);
  const dl = gpu.upload(dlogits, [B * T, c.vocabSize], 'dlogits');
  // a 16-bit base has no full-weight gradients (LoRA only): fullGrads false
  const full = opts.fullGrads === false ? new Map<string, Tensor>() : model.createFullGrads();
  lora.zeroGrads();
  model.backward(act, dl, full);
  const release = () => {
    model.releaseActivations(act);
    gpu.release(ids, pos, logits, dl, ...full.values());
  };
  return { full, refGrads, release };
}

/** Greedy continuation by repeated reference forwards (no KV cache: f32 attention over unrounded k/v). */
export function greedyReference(c: ModelConfig, w: WeightMap, lora: LoraMap | null, prompt: number[], steps: number): number[] {
  const seq = [...prompt];
  for (let s = 0; s < steps; s++) {
    const T = seq.length;
    const logits = transformerForward(c, w, seq, 1, T, lora).logits;
    const V = c.vocabSize;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[(T - 1) * V + v] > logits[(T - 1) * V + best]) best = v;
    seq.push(best);
  }
  return seq.slice(prompt.length);
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
