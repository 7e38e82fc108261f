// GGUF metadata -> the project's ModelConfig, through the same checks as a Hugging Face config.json: the
// `{arch}.*` keys llama.cpp's converter writes (convert_hf_to_gguf.py, gguf-py constants) become the
// config.json fields of the family, and parseHfConfig validates them. Architectures: llama, qwen2, qwen3,
// gemma3 (llama.cpp's names).

import { parseHfConfig, type Json, type ModelConfig } from '../config';
import type { GgufFile, GgufTensorInfo, GgufValue } from './reader';

/** llama.cpp architecture -> Hugging Face model_type */
export const GGUF_ARCHITECTURES: Record<string, string> = {
  llama: 'llama',
  qwen2: 'qwen2',
  qwen3: 'qwen3',
  gemma3: 'gemma3_text',
};

export class MetaReader {
  constructor(
    readonly file: GgufFile,
    readonly source: string,
  ) {}

  get(key: string): GgufValue | undefined {
    return this.file.metadata.get(key);
  }

  fail(key: string, why: string): never {
    throw new Error(`${this.source}: metadata ${key} ${why}`);
  }

  number(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a number, got ${String(v)}`);
    return v;
  }

  int(key: string, required: true): number;
  int(key: string, required?: false): number | undefined;
  int(key: string, required = false): number | undefined {
    const v = this.get(key);
    if (v === undefined) {
      if (required) this.fail(key, 'is missing');
      return undefined;
    }
    if (Array.isArray(v)) {
      // per-layer counts (head_count_kv of some models): accepted when all equal
      if (v.length === 0 || v.some((x) => x !== v[0])) this.fail(key, `varies per layer (${v.slice(0, 8).join(', ')}...), which is not supported`);
      return this.intValue(key, v[0]);
    }
    return this.intValue(key, v);
  }

  private intValue(key: string, v: GgufValue): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(key, `must be a non-negative integer, got ${String(v)}`);
    return v;
  }

  string(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(key, `must be a string, got ${String(v)}`);
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${String(v)}`);
    return v;
  }
}

/** The architecture name, refused with the supported list when we do not run it. */
export function ggufArchitecture(m: MetaReader): string {
  const arch = m.string('general.architecture');
  if (arch === undefined) m.fail('general.architecture', `is missing (supported: ${Object.keys(GGUF_ARCHITECTURES).join(', ')})`);
  if (m.file.metadata.get('general.type') === 'adapter') {
    m.fail('general.type', 'is "adapter": this is a LoRA adapter, not a model (load its base model)');
  }
  if (!GGUF_ARCHITECTURES[arch]) {
    m.fail('general.architecture', `is "${arch}", which is not supported (supported: ${Object.keys(GGUF_ARCHITECTURES).join(', ')})`);
  }
  return arch;
}

/** Llama 3.1's rope_freqs factors for a set of llama3 scaling parameters (transformers' _compute_llama3_parameters). */
export function llama3RopeFactors(headDim: number, theta: number, s: { factor: number; low: number; high: number; orig: number }): Float32Array {
  const out = new Float32Array(headDim / 2);
  const lowWavelen = s.orig / s.low;
  const highWavelen = s.orig / s.high;
  for (let i = 0; i < headDim / 2; i++) {
    const freq = 1 / theta ** ((2 * i) / headDim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = s.factor;
    else {
      const smooth = (s.orig / wavelen - s.low) / (s.high - s.low);
      out[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}

/** The config.json a Hugging Face checkpoint of this GGUF file would have (then validated by parseHfConfig).
 * `ropeFreqs`: llama's rope_freqs.weight, dequantised, when present (Llama 3.1+ scaling). */
export function ggufConfig(m: MetaReader, tensors: Map<string, GgufTensorInfo>, ropeFreqs: Float32Array | null): ModelConfig {
  const arch = ggufArchitecture(m);
  const modelType = GGUF_ARCHITECTURES[arch];
  const k = (s: string) => `${arch}.${s}`;
  const embd = tensors.get('token_embd.weight');
  if (!embd) throw new Error(`${m.source}: tensor token_embd.weight (the embedding) is missing`);
  const numHeads = m.int(k('attention.head_count'), true);
  const hidden = m.int(k('embedding_length'), true);
  const json: Json = {
    model_type: modelType,
    hidden_size: hidden,
    num_hidden_layers: m.int(k('block_count'), true),
    intermediate_size: m.int(k('feed_forward_length'), true),
    num_attention_heads: numHeads,
    num_key_value_heads: m.int(k('attention.head_count_kv')) ?? numHeads,
    vocab_size: m.int(k('vocab_size')) ?? embd.dims[1],
    max_position_embeddings: m.int(k('context_length')),
    rms_norm_eps: m.number(k('attention.layer_norm_rms_epsilon')),
    rope_theta: m.number(k('rope.freq_base')),
    tie_word_embeddings: !tensors.has('output.weight'),
    bos_token_id: m.int('tokenizer.ggml.bos_token_id') ?? null,
    eos_token_id: m.int('tokenizer.ggml.eos_token_id') ?? null,
  };
  const keyLength = m.int(k('attention.key_length'));
  const valueLength = m.int(k('attention.value_length'));
  if (keyLength !== undefined && valueLength !== undefined && keyLength !== valueLength) {
    m.fail(k('attention.value_length'), `(${valueLength}) differs from attention.key_length (${keyLength}), which is not supported`);
  }
  if (keyLength !== undefined) json.head_dim = keyLength;
  const headDim = keyLength ?? hidden / numHeads;
  if (arch === 'llama') json.attention_bias = tensors.has('blk.0.attn_q.bias');
  if (arch === 'qwen3') json.attention_bias = tensors.has('blk.0.attn_q.bias');

  const scalingType = m.string(k('rope.scaling.type'));
  const scalingFactor = m.number(k('rope.scaling.factor'));
  if (scalingType !== undefined && scalingType !== 'none') {
    if (scalingType !== 'linear') m.fail(k('rope.scaling.type'), `is "${scalingType}": only linear RoPE scaling (or Llama 3's rope_freqs) is supported`);
    if (scalingFactor === undefined) m.fail(k('rope.scaling.factor'), 'is missing (linear RoPE scaling needs a factor)');
    if (scalingFactor !== 1) json.rope_scaling = { rope_type: 'linear', factor: scalingFactor };
  }
  if (ropeFreqs) json.rope_scaling = llama3Scaling(m, ropeFreqs, headDim, (json.rope_theta as number | undefined) ?? 10000);

  if (arch === 'gemma3') {
    const window = m.int(k('attention.sliding_window'));
    if (window !== undefined) json.sliding_window = window;
    // llama.cpp's gemma3: every 6th layer full, local RoPE base 10000, scale head_dim^-1/2 (27B: hidden/heads)
    json.sliding_window_pattern = 6;
    json.rope_local_base_freq = m.number(k('rope.freq_base_swa')) ?? 10000;
    json.query_pre_attn_scalar = arch === 'gemma3' && hidden === 5376 ? hidden / numHeads : headDim;
    if (json.rope_scaling) {
      json.rope_parameters = {
        full_attention: { ...(json.rope_scaling as Json), rope_theta: json.rope_theta ?? 1_000_000 },
        sliding_attention: { rope_type: 'default', rope_theta: json.rope_local_base_freq },
      };
      delete json.rope_scaling;
    }
  }
  for (const key of Object.keys(json)) if (json[key] === undefined) delete json[key];
  return parseHfConfig(json, `${m.source} (GGUF metadata, architecture ${arch})`);
}

/** Llama 3.1 / 3.2 write their frequency-dependent scaling as the tensor rope_freqs.weight; we accept it when it
 * equals the llama3 rope_type with the released models' low/high frequency factors (1, 4) and 8192 positions. */
function llama3Scaling(m: MetaReader, freqs: Float32Array, headDim: number, theta: number): Json {
  if (freqs.length !== headDim / 2) {
    throw new Error(`${m.source}: tensor rope_freqs.weight has ${freqs.length} values, expected head_dim / 2 = ${headDim / 2}`);
  }
  let factor = 0;
  for (const v of freqs) factor = Math.max(factor, v);
  const params = { factor, low: 1, high: 4, orig: 8192 };
  const want = llama3RopeFactors(headDim, theta, params);
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(want[i] - freqs[i]) > 1e-4 * Math.max(1, want[i])) {
      throw new Error(
        `${m.source}: tensor rope_freqs.weight does not match Llama 3's RoPE scaling (factor ${factor}, low_freq_factor 1, ` +
          `high_freq_factor 4, original context 8192) at index ${i} (${freqs[i]} vs ${want[i]}): custom RoPE factors are not supported`,
      );
    }
  }
  return { rope_type: 'llama3', factor, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
}
