// Random-weight GGUF model files for the tests, written by the independent writer (gguf_fixtures.ts) the way
// llama.cpp's converter lays them out: llama.cpp tensor names, llama's q/k rows permuted for its RoPE, Gemma's
// norm weights stored as 1 + w, a byte-level BPE tokenizer in tokenizer.ggml.*. Returns the file and the
// Hugging Face weights a correct reader must give back (the quantisers' own values, un-permuted).
import type { ModelConfig } from '../../src/model/config';
import { expectedShapes, type WeightMap } from '../../src/model/weights';
import { Rng } from '../../src/util/random';
import { bytesToUnicode, QUANTISERS, writeGguf, type KvValue, type QuantName, type WriterTensor } from './gguf_fixtures';

export type Arch = 'llama' | 'qwen2' | 'qwen3' | 'gemma3';

/** Hugging Face name -> llama.cpp name (written out here, independently of src/model/gguf/names.ts). */
function ggufName(hf: string, arch: Arch): string {
  const fixed: Record<string, string> = { 'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight', 'lm_head.weight': 'output.weight' };
  if (fixed[hf]) return fixed[hf];
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hf)!;
  const parts: Record<string, string> = {
    input_layernorm: 'attn_norm', 'self_attn.q_proj': 'attn_q', 'self_attn.k_proj': 'attn_k', 'self_attn.v_proj': 'attn_v',
    'self_attn.o_proj': 'attn_output', 'self_attn.q_norm': 'attn_q_norm', 'self_attn.k_norm': 'attn_k_norm',
    post_attention_layernorm: arch === 'gemma3' ? 'post_attention_norm' : 'ffn_norm', pre_feedforward_layernorm: 'ffn_norm',
    post_feedforward_layernorm: 'post_ffw_norm', 'mlp.gate_proj': 'ffn_gate', 'mlp.up_proj': 'ffn_up', 'mlp.down_proj': 'ffn_down',
  };
  return `blk.${m[1]}.${parts[m[2]]}.${m[3]}`;
}

/** convert_hf_to_gguf.py's permute: view rows as (heads, 2, HS/2) and swap the last two axes. */
export function permute(x: Float32Array, rows: number, cols: number, heads: number, back: boolean): Float32Array {
  const hs = rows / heads;
  const out = new Float32Array(x.length);
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < hs / 2; i++) {
        const hfRow = h * hs + s * (hs / 2) + i;
        const ggRow = h * hs + i * 2 + s;
        const [from, to] = back ? [ggRow, hfRow] : [hfRow, ggRow];
        out.set(x.subarray(from * cols, from * cols + cols), to * cols);
      }
    }
  }
  return out;
}

/** A byte-level BPE vocabulary of V tokens: 256 bytes, a few merges, chat markers (control), padding. */
export function tinyGpt2Vocab(V: number) {
  const bytes = bytesToUnicode();
  const merges = ['Ġ t', 'h e', 'Ġt he', 'Ġ a', 'i n', 'Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld'];
  const tokens = [...bytes, ...merges.map((m) => m.replace(' ', '')), '<|endoftext|>', '<|im_start|>', '<|im_end|>'];
  const types: number[] = tokens.map((t) => (t.startsWith("<|") ? 3 : 1));
  while (tokens.length < V) {
    types.push(4);
    tokens.push(`[PAD${tokens.length}]`);
  }
  return { tokens, types, merges, eos: tokens.indexOf('<|im_end|>'), bos: tokens.indexOf('<|endoftext|>') };
}

export interface GgufModel {
  bytes: Uint8Array;
  /** the weights a reader must return (Hugging Face names, order and values) */
  expected: WeightMap;
  kv: [string, KvValue][];
  tensors: WriterTensor[];
}

/** `quant(name, shape)` picks each tensor's type (norms and biases should stay F32, as llama.cpp keeps them). */
export function ggufModel(
  arch: Arch, c: ModelConfig, seed: number, quant: (hf: string, shape: number[]) => QuantName,
  opts: { tokenizer?: boolean; extraKv?: [string, KvValue][]; ropeFreqs?: Float32Array } = {},
): GgufModel {
  const rng = new Rng(seed);
  const expected: WeightMap = new Map();
  const tensors: WriterTensor[] = [];
  for (const [hf, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const isNorm = hf.endsWith('norm.weight');
    let x: Float32Array = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = isNorm ? (c.normWeightOffset ? 0.2 * rng.normal() : 1 + 0.2 * rng.normal()) : 0.3 * rng.normal();
    const permuted = arch === 'llama' && /self_attn\.(q|k)_proj\./.test(hf);
    const heads = hf.includes('q_proj') ? c.numHeads : c.numKvHeads;
    const cols = shape.length === 2 ? shape[1] : 1;
    if (permuted) x = permute(x, shape[0], cols, heads, false);
    if (arch === 'gemma3' && isNorm) x = x.map((v) => v + 1);
    const type = quant(hf, shape);
    const q = QUANTISERS[type].q(x);
    let values: Float32Array = q.values;
    if (arch === 'gemma3' && isNorm) values = values.map((v) => Math.fround(v - 1));
    if (permuted) values = permute(values, shape[0], cols, heads, true);
    expected.set(hf, { shape: [...shape], data: values });
    tensors.push({ name: ggufName(hf, arch), dims: [...shape].reverse(), type: QUANTISERS[type].id, bytes: q.bytes });
  }
  if (opts.ropeFreqs) tensors.push({ name: 'rope_freqs.weight', dims: [opts.ropeFreqs.length], type: 0, bytes: new Uint8Array(opts.ropeFreqs.slice().buffer) });
  const a = (k: string) => `${arch}.${k}`;
  const kv: [string, KvValue][] = [
    ['general.architecture', { t: 'string', v: arch }],
    ['general.name', { t: 'string', v: `tiny-${arch}` }],
    [a('context_length'), { t: 'u32', v: c.maxPositionEmbeddings }],
    [a('embedding_length'), { t: 'u32', v: c.hiddenSize }],
    [a('block_count'), { t: 'u32', v: c.numLayers }],
    [a('feed_forward_length'), { t: 'u32', v: c.intermediateSize }],
    [a('attention.head_count'), { t: 'u32', v: c.numHeads }],
    [a('attention.head_count_kv'), { t: 'u32', v: c.numKvHeads }],
    [a('attention.layer_norm_rms_epsilon'), { t: 'f32', v: c.rmsNormEps }],
    [a('rope.freq_base'), { t: 'f32', v: c.ropeTheta }],
  ];
  if (arch === 'qwen3' || arch === 'gemma3') {
    kv.push([a('attention.key_length'), { t: 'u32', v: c.headDim }], [a('attention.value_length'), { t: 'u32', v: c.headDim }]);
  }
  if (arch === 'gemma3') kv.push([a('attention.sliding_window'), { t: 'u32', v: c.slidingWindow ?? 512 }]);
  if (opts.tokenizer !== false) {
    const voc = tinyGpt2Vocab(c.vocabSize);
    kv.push(
      ['tokenizer.ggml.model', { t: 'string', v: 'gpt2' }],
      ['tokenizer.ggml.pre', { t: 'string', v: 'qwen2' }],
      ['tokenizer.ggml.tokens', { t: 'array', of: 'string', v: voc.tokens }],
      ['tokenizer.ggml.token_type', { t: 'array', of: 'i32', v: voc.types }],
      ['tokenizer.ggml.merges', { t: 'array', of: 'string', v: voc.merges }],
      ['tokenizer.ggml.bos_token_id', { t: 'u32', v: voc.bos }],
      ['tokenizer.ggml.eos_token_id', { t: 'u32', v: voc.eos }],
      ['tokenizer.ggml.add_bos_token', { t: 'bool', v: false }],
      ['tokenizer.chat_template', { t: 'string', v: "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}" }],
    );
  }
  kv.push(...(opts.extraKv ?? []));
  kv.push(['general.alignment', { t: 'u32', v: 32 }]);
  return { bytes: writeGguf({ kv, tensors }), expected, kv, tensors };
}

/** llama.cpp's Q4_K_M choice in miniature: Q6_K for attn_v and ffn_down, Q4_K for the other matrices, F32 norms. */
export function q4KM(hf: string, shape: number[]): QuantName {
  if (shape.length === 1) return 'F32';
  return /v_proj|down_proj/.test(hf) ? 'Q6_K' : 'Q4_K';
}
