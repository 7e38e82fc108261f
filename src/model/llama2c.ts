// llama2.c's legacy checkpoint (Karpathy's run.c / export.py "version 0"): a header of 7 int32
//   dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size (negative: untied classifier), seq_len
// then float32 weights in this order (each matrix row-major (out, in), like Hugging Face's):
//   token embedding (V, C), rms_att (L, C), wq (L, NH*HS, C), wk (L, NKV*HS, C), wv (L, NKV*HS, C),
//   wo (L, C, NH*HS), rms_ffn (L, C), w1 (L, H, C), w2 (L, C, H), w3 (L, H, C), final norm (C),
//   freq_cis_real and freq_cis_imag (seq_len * HS/2 each, skipped), then wcls (V, C) when untied.
// Weights keep llama2.c's interleaved RoPE row order (ropeConvention 'interleaved'); permuteForHalfRope
// converts q/k rows to Hugging Face's rotate-half order as convert_llama_weights_to_hf.py does.

import type { ModelConfig } from './config';
import type { WeightMap } from './weights';

const HEADER_INTS = 7;

export interface Llama2cCheckpoint {
  config: ModelConfig;
  weights: WeightMap;
}

/** Parses a llama2.c checkpoint; the file size must match the header exactly. */
export function parseLlama2cCheckpoint(buf: ArrayBuffer | Uint8Array, source: string): Llama2cCheckpoint {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  if (bytes.length < HEADER_INTS * 4) {
    throw new Error(`${source}: truncated llama2.c checkpoint (${bytes.length} bytes; the header alone is ${HEADER_INTS * 4})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = Array.from({ length: HEADER_INTS }, (_, i) => view.getInt32(4 * i, true));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabRaw, seqLen] = h;
  const names = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'];
  h.forEach((v, i) => {
    if (i === 5 ? v === 0 : v <= 0) {
      throw new Error(`${source}: header ${names[i]} = ${v} is invalid (header: ${h.join(', ')}): not a llama2.c checkpoint?`);
    }
  });
  if (dim % nHeads !== 0) throw new Error(`${source}: header n_heads ${nHeads} does not divide dim ${dim}`);
  if (nHeads % nKvHeads !== 0) throw new Error(`${source}: header n_kv_heads ${nKvHeads} does not divide n_heads ${nHeads}`);
  const headDim = dim / nHeads;
  if (headDim % 2 !== 0) throw new Error(`${source}: head size dim / n_heads = ${headDim} must be even for RoPE`);
  const tied = vocabRaw > 0;
  const V = Math.abs(vocabRaw);
  const C = dim;
  const L = nLayers;
  const H = hiddenDim;
  const KVD = nKvHeads * headDim;

  const floats =
    V * C + L * C + L * C * C + 2 * L * KVD * C + L * C * C + L * C + 3 * L * H * C + C +
    seqLen * headDim + (tied ? 0 : V * C);
  const want = HEADER_INTS * 4 + floats * 4;
  if (bytes.length !== want) {
    const how = bytes.length < want ? 'truncated' : 'too long';
    throw new Error(
      `${source}: ${how}: ${bytes.length} bytes, but header (dim ${dim}, hidden_dim ${H}, n_layers ${L}, n_heads ${nHeads}, ` +
        `n_kv_heads ${nKvHeads}, vocab_size ${vocabRaw}, seq_len ${seqLen}) needs exactly ${want}`,
    );
  }

  // one aligned float copy of everything after the header
  const all = new Float32Array(bytes.slice(HEADER_INTS * 4).buffer);
  let pos = 0;
  const take = (n: number): Float32Array => {
    const out = all.slice(pos, pos + n);
    pos += n;
    return out;
  };
  /** splits a stacked (L, ...) block into per-layer tensors */
  const perLayer = (rows: number, cols: number): Float32Array[] => Array.from({ length: L }, () => take(rows * cols));

  const weights: WeightMap = new Map();
  const embed = take(V * C);
  const rmsAtt = perLayer(1, C);
  const wq = perLayer(C, C);
  const wk = perLayer(KVD, C);
  const wv = perLayer(KVD, C);
  const wo = perLayer(C, C);
  const rmsFfn = perLayer(1, C);
  const w1 = perLayer(H, C);
  const w2 = perLayer(C, H);
  const w3 = perLayer(H, C);
  const rmsFinal = take(C);
  pos += seqLen * headDim; // freq_cis_real, freq_cis_imag: (seq_len, HS/2) each
  weights.set('model.embed_tokens.weight', { shape: [V, C], data: embed });
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    weights.set(`${p}.input_layernorm.weight`, { shape: [C], data: rmsAtt[l] });
    weights.set(`${p}.self_attn.q_proj.weight`, { shape: [C, C], data: wq[l] });
    weights.set(`${p}.self_attn.k_proj.weight`, { shape: [KVD, C], data: wk[l] });
    weights.set(`${p}.self_attn.v_proj.weight`, { shape: [KVD, C], data: wv[l] });
    weights.set(`${p}.self_attn.o_proj.weight`, { shape: [C, C], data: wo[l] });
    weights.set(`${p}.post_attention_layernorm.weight`, { shape: [C], data: rmsFfn[l] });
    weights.set(`${p}.mlp.gate_proj.weight`, { shape: [H, C], data: w1[l] });
    weights.set(`${p}.mlp.down_proj.weight`, { shape: [C, H], data: w2[l] });
    weights.set(`${p}.mlp.up_proj.weight`, { shape: [H, C], data: w3[l] });
  }
  weights.set('model.norm.weight', { shape: [C], data: rmsFinal });
  if (!tied) weights.set('lm_head.weight', { shape: [V, C], data: take(V * C) });

  const config: ModelConfig = {
    architecture: 'llama2.c',
    hiddenSize: C,
    numLayers: L,
    numHeads: nHeads,
    numKvHeads: nKvHeads,
    headDim,
    intermediateSize: H,
    vocabSize: V,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    ropeConvention: 'interleaved',
    maxPositionEmbeddings: seqLen,
    tieWordEmbeddings: tied,
    attentionBias: false,
    bosTokenId: 1,
    eosTokenIds: [2],
  };
  return { config, weights };
}

function checkRows(w: Float32Array, nHeads: number, headDim: number, cols: number, what: string): void {
  if (headDim % 2 !== 0) throw new Error(`${what}: headDim ${headDim} must be even`);
  if (w.length !== nHeads * headDim * cols) {
    throw new Error(`${what}: ${w.length} values, expected nHeads*headDim*cols = ${nHeads}*${headDim}*${cols}`);
  }
}

/** Reorders the rows of a q or k projection (nHeads*headDim, cols) (or a bias, cols = 1) from interleaved
 * RoPE pairs to rotate-half: within each head, row 2i+j moves to j*headDim/2 + i (HF's `permute`). */
export function permuteForHalfRope(w: Float32Array, nHeads: number, headDim: number, cols: number): Float32Array {
  checkRows(w, nHeads, headDim, cols, 'permuteForHalfRope');
  const half = headDim / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * headDim + 2 * i + j) * cols;
        const dst = (h * headDim + j * half + i) * cols;
        out.set(w.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/** The inverse of permuteForHalfRope: rotate-half rows back to interleaved pairs. */
export function unpermuteFromHalfRope(w: Float32Array, nHeads: number, headDim: number, cols: number): Float32Array {
  checkRows(w, nHeads, headDim, cols, 'unpermuteFromHalfRope');
  const half = headDim / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (h * headDim + j * half + i) * cols;
        const dst = (h * headDim + 2 * i + j) * cols;
        out.set(w.subarray(src, src + cols), dst);
      }
    }
  }
  return out;
}

/** An interleaved-RoPE model in Hugging Face's layout: q/k rows (and biases) permuted, ropeConvention 'half'.
 * Other tensors are shared, not copied. */
export function toHalfRope(config: ModelConfig, weights: WeightMap): Llama2cCheckpoint {
  if (config.ropeConvention !== 'interleaved') throw new Error('toHalfRope: the model already uses rotate-half RoPE');
  const out: WeightMap = new Map(weights);
  const HS = config.headDim;
  for (let l = 0; l < config.numLayers; l++) {
    for (const [proj, heads] of [['q_proj', config.numHeads], ['k_proj', config.numKvHeads]] as const) {
      for (const kind of config.attentionBias ? ['weight', 'bias'] : ['weight']) {
        const name = `model.layers.${l}.self_attn.${proj}.${kind}`;
        const t = weights.get(name);
        if (!t) throw new Error(`toHalfRope: missing tensor ${name}`);
        const cols = kind === 'weight' ? t.shape[1] : 1;
        out.set(name, { shape: [...t.shape], data: permuteForHalfRope(t.data, heads, HS, cols) });
      }
    }
  }
  return { config: { ...config, ropeConvention: 'half' }, weights: out };
}
