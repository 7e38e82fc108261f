// GGUF tensor names (llama.cpp's, gguf-py tensor_mapping.py) <-> Hugging Face's, and the two value changes
// llama.cpp's converter makes: the q/k row permutation of llama (its RoPE pairs (2i, 2i+1); Hugging Face's
// pairs (i, i + HS/2)) and Gemma's norm weights stored as 1 + w.

const LAYER: Record<string, string> = {
  attn_norm: 'input_layernorm',
  attn_q: 'self_attn.q_proj',
  attn_k: 'self_attn.k_proj',
  attn_v: 'self_attn.v_proj',
  attn_output: 'self_attn.o_proj',
  attn_q_norm: 'self_attn.q_norm',
  attn_k_norm: 'self_attn.k_norm',
  ffn_gate: 'mlp.gate_proj',
  ffn_up: 'mlp.up_proj',
  ffn_down: 'mlp.down_proj',
};

/** Gemma 3 has four norms per layer: ffn_norm is the one before the MLP there; llama's is post_attention */
const LAYER_GEMMA3: Record<string, string> = {
  post_attention_norm: 'post_attention_layernorm',
  ffn_norm: 'pre_feedforward_layernorm',
  post_ffw_norm: 'post_feedforward_layernorm',
};

const GLOBAL: Record<string, string> = {
  'token_embd.weight': 'model.embed_tokens.weight',
  'output_norm.weight': 'model.norm.weight',
  'output.weight': 'lm_head.weight',
};

/** The Hugging Face name of a GGUF tensor, or null when the project has no such tensor. */
export function hfTensorName(name: string, arch: string): string | null {
  if (GLOBAL[name]) return GLOBAL[name];
  const m = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/.exec(name);
  if (!m) return null;
  const [, layer, part, kind] = m;
  const mapped = (arch === 'gemma3' ? LAYER_GEMMA3[part] : undefined) ?? LAYER[part] ?? (arch !== 'gemma3' && part === 'ffn_norm' ? 'post_attention_layernorm' : undefined);
  return mapped ? `model.layers.${layer}.${mapped}.${kind}` : null;
}

/** The GGUF name of a Hugging Face tensor (the inverse of hfTensorName), or null. */
export function ggufTensorName(hf: string, arch: string): string | null {
  for (const [g, h] of Object.entries(GLOBAL)) if (h === hf) return g;
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hf);
  if (!m) return null;
  const [, layer, part, kind] = m;
  const table = arch === 'gemma3' ? { ...LAYER, ...LAYER_GEMMA3 } : { ...LAYER, ffn_norm: 'post_attention_layernorm' };
  for (const [g, h] of Object.entries(table)) if (h === part) return `blk.${layer}.${g}.${kind}`;
  return null;
}

/** Whether llama.cpp's converter permuted this tensor's rows (llama's q and k projections and biases). */
export function isRopePermuted(hf: string, arch: string): boolean {
  return arch === 'llama' && /\.self_attn\.(q|k)_proj\.(weight|bias)$/.test(hf);
}

/** The GGUF row that holds Hugging Face row r of a permuted q/k projection with heads of HS rows:
 * within a head, HF row s*HS/2 + i is GGUF row 2i + s (convert_hf_to_gguf.py's LlamaModel.permute). */
export function permutedRow(r: number, HS: number): number {
  const h = Math.floor(r / HS);
  const w = r % HS;
  const half = HS / 2;
  const s = w < half ? 0 : 1;
  const i = w - s * half;
  return h * HS + 2 * i + s;
}

/** Rows of a (R, K) row-major tensor (R = heads * HS) from GGUF order to Hugging Face order (values, or the
 * words of quantised rows: a row's blocks move with it). */
export function unpermuteRows<T extends Float32Array | Uint32Array>(data: T, R: number, K: number, HS: number): T {
  if (R % HS !== 0 || HS % 2 !== 0) throw new Error(`unpermuteRows: ${R} rows are not whole heads of ${HS}`);
  const out = (data instanceof Float32Array ? new Float32Array(data.length) : new Uint32Array(data.length)) as T;
  for (let r = 0; r < R; r++) {
    const g = permutedRow(r, HS);
    out.set(data.subarray(g * K, g * K + K), r * K);
  }
  return out;
}

/** Rows of a (R, K) tensor from Hugging Face order to GGUF order (what the converter writes). */
export function permuteRows(data: Float32Array, R: number, K: number, HS: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < R; r++) {
    const g = permutedRow(r, HS);
    out.set(data.subarray(r * K, r * K + K), g * K);
  }
  return out;
}
