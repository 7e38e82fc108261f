// CPU reference of the whole Llama-family model, forward and backward, readable top to bottom: plain
// loops in float64 over float32 weights. The GPU transformer is checked against it; it is also the
// ground truth for RoPE conventions, llama3 frequency scaling, GQA and LoRA. N = B*T rows.
//
//   x0 = embed(ids)                                                (N, C)
//   per layer:
//     a  = rmsnorm(x) * w_in                                       (N, C)
//     q  = a Wq^T (+bq) (+lora)   k, v = a Wk^T, a Wv^T (+b) (+lora) (N, NH*HS), (N, NKV*HS)
//     qr, kr = rope(q), rope(k)   (positions 0..T-1 per row unless given)
//     att = softmax(qr kr^T / sqrt(HS), causal) v  per head; head h reads kv head h / (NH/NKV)
//     xm = x + att Wo^T (+lora)                                    (N, C)
//     m  = rmsnorm(xm) * w_post
//     s  = silu(m Wg^T) * (m Wu^T)  (+lora on each)                (N, H)
//     x' = xm + s Wd^T (+lora)
//   f = rmsnorm(x_L) * w_norm;  logits = f Wlm^T (Wlm = embed_tokens when tied)   (N, V)
// LoRA (PEFT): y += scale * (x A^T) B^T with A (R, IN), B (OUT, R), keyed by module path such as
// 'model.layers.0.self_attn.q_proj' or 'model.layers.3.mlp.down_proj'.

import type { ModelConfig } from '../model/config';
import { expectedShapes, type WeightMap } from '../model/weights';

export interface LoraWeights {
  /** (R, IN) */
  A: Float32Array;
  /** (OUT, R) */
  B: Float32Array;
  r: number;
  scale: number;
}

export type LoraMap = Map<string, LoraWeights>;

const ATTN_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const;
const MLP_MODULES = ['gate_proj', 'up_proj', 'down_proj'] as const;
type Module = (typeof ATTN_MODULES)[number] | (typeof MLP_MODULES)[number];

function modulePath(layer: number, m: Module): string {
  return `model.layers.${layer}.${(MLP_MODULES as readonly string[]).includes(m) ? 'mlp' : 'self_attn'}.${m}`;
}

/** RoPE inverse frequencies (HS/2): theta^(-2i/HS), with Llama 3.1's scaling when configured
 * (transformers' _compute_llama3_parameters). */
export function ropeInvFreq(c: ModelConfig): Float64Array {
  const half = c.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(c.ropeTheta, (2 * i) / c.headDim);
  const s = c.ropeScaling;
  if (!s) return inv;
  const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const wavelen = (2 * Math.PI) / inv[i];
    if (wavelen > lowFreqWavelen) {
      inv[i] = inv[i] / s.factor; // low frequencies: scaled
    } else if (wavelen >= highFreqWavelen) {
      // medium: interpolate between scaled and unscaled
      const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      inv[i] = (1 - smooth) * (inv[i] / s.factor) + smooth * inv[i];
    } // high frequencies: unchanged
  }
  return inv;
}

/** What a linear layer saved: its input and, with LoRA, the hidden h = x A^T (N, R). */
interface LinearSaved {
  x: Float64Array;
  h: Float64Array | null;
}

interface LayerActs {
  x: Float64Array; // layer input (N, C)
  a: Float64Array; // rmsnorm(x) * w_in (N, C)
  rstdA: Float64Array; // (N)
  qr: Float64Array; // (N, NH*HS) after RoPE
  kr: Float64Array; // (N, NKV*HS) after RoPE
  v: Float64Array; // (N, NKV*HS)
  probs: Float64Array; // softmax (B, NH, T, T), zero above the diagonal
  att: Float64Array; // (N, NH*HS)
  xm: Float64Array; // after the attention residual (N, C)
  m: Float64Array; // rmsnorm(xm) * w_post
  rstdM: Float64Array;
  g: Float64Array; // (N, H)
  u: Float64Array;
  s: Float64Array; // silu(g) * u
  lin: Map<Module, LinearSaved>;
}

/** Everything backward needs, from one forward. */
export interface ReferenceActivations {
  config: ModelConfig;
  weights: WeightMap;
  lora: LoraMap | null;
  B: number;
  T: number;
  tokens: Int32Array;
  positions: Int32Array;
  invFreq: Float64Array;
  layers: LayerActs[];
  xL: Float64Array; // last layer's output (N, C)
  f: Float64Array; // final rmsnorm (N, C)
  rstdF: Float64Array;
  /** logits in float64 (N, V) */
  logits: Float64Array;
}

export interface ForwardResult {
  /** (B, T, V) */
  logits: Float32Array;
  acts: ReferenceActivations;
}

export interface TransformerGrads {
  /** d loss / d weight for every tensor of expectedShapes (the tied embedding gets both uses); empty when
   * weight gradients were not asked for */
  weights: Map<string, Float32Array>;
  /** d loss / d A (R, IN) and d B (OUT, R) per LoRA module */
  lora: Map<string, { A: Float32Array; B: Float32Array }>;
}

function tensor(weights: WeightMap, name: string): Float32Array {
  const t = weights.get(name);
  if (!t) throw new Error(`reference transformer: missing tensor ${name}`);
  return t.data;
}

function lmHeadName(c: ModelConfig): string {
  return c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
}

/** (OUT, IN) of each LoRA-able module. */
function moduleDims(c: ModelConfig, m: Module): [number, number] {
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KVD = c.numKvHeads * c.headDim;
  const H = c.intermediateSize;
  const dims: Record<Module, [number, number]> = {
    q_proj: [QD, C], k_proj: [KVD, C], v_proj: [KVD, C], o_proj: [C, QD],
    gate_proj: [H, C], up_proj: [H, C], down_proj: [C, H],
  };
  return dims[m];
}

function validateLora(c: ModelConfig, lora: LoraMap): void {
  const known = new Map<string, Module>();
  for (let l = 0; l < c.numLayers; l++) {
    for (const m of [...ATTN_MODULES, ...MLP_MODULES]) known.set(modulePath(l, m), m);
  }
  for (const [path, w] of lora) {
    const m = known.get(path);
    if (!m) throw new Error(`LoRA module ${path}: not a projection of this model (e.g. model.layers.0.self_attn.q_proj)`);
    const [OUT, IN] = moduleDims(c, m);
    if (!Number.isInteger(w.r) || w.r <= 0) throw new Error(`LoRA module ${path}: rank ${w.r} must be a positive integer`);
    if (w.A.length !== w.r * IN) throw new Error(`LoRA module ${path}: A has ${w.A.length} values, expected (R, IN) = (${w.r}, ${IN})`);
    if (w.B.length !== OUT * w.r) throw new Error(`LoRA module ${path}: B has ${w.B.length} values, expected (OUT, R) = (${OUT}, ${w.r})`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Ops: forward and backward of each piece. Backward functions accumulate (+=) into their gradients.

/** out = rmsnorm(x) * w per row; returns rstd (N). */
function rmsnormForward(out: Float64Array, x: Float64Array, w: Float32Array, N: number, C: number, eps: number): Float64Array {
  const rstd = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let i = 0; i < C; i++) ss += x[n * C + i] * x[n * C + i];
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[n] = r;
    for (let i = 0; i < C; i++) out[n * C + i] = x[n * C + i] * r * w[i];
  }
  return rstd;
}

/** dx += d rmsnorm / dx, dw += dy * x * rstd (dw may be null). */
function rmsnormBackward(
  dx: Float64Array, dw: Float64Array | null, dy: Float64Array, x: Float64Array, w: Float32Array, rstd: Float64Array, N: number, C: number,
): void {
  for (let n = 0; n < N; n++) {
    const r = rstd[n];
    let dot = 0; // sum_i dy_i w_i x_i
    for (let i = 0; i < C; i++) dot += dy[n * C + i] * w[i] * x[n * C + i];
    const k = (r * r * r * dot) / C;
    for (let i = 0; i < C; i++) {
      dx[n * C + i] += r * dy[n * C + i] * w[i] - k * x[n * C + i];
      if (dw) dw[i] += dy[n * C + i] * x[n * C + i] * r;
    }
  }
}

/** y = x W^T (+ bias) (+ scale * (x A^T) B^T); x (N, IN), W (OUT, IN). Returns the LoRA hidden (N, R). */
function linearForward(
  y: Float64Array, x: Float64Array, W: Float32Array, bias: Float32Array | null, lora: LoraWeights | null, N: number, IN: number, OUT: number,
): Float64Array | null {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OUT; o++) {
      let acc = bias ? bias[o] : 0;
      for (let i = 0; i < IN; i++) acc += x[n * IN + i] * W[o * IN + i];
      y[n * OUT + o] = acc;
    }
  }
  if (!lora) return null;
  const { A, B, r: R, scale } = lora;
  const h = new Float64Array(N * R);
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < R; r++) {
      let acc = 0;
      for (let i = 0; i < IN; i++) acc += x[n * IN + i] * A[r * IN + i];
      h[n * R + r] = acc;
    }
    for (let o = 0; o < OUT; o++) {
      let acc = 0;
      for (let r = 0; r < R; r++) acc += h[n * R + r] * B[o * R + r];
      y[n * OUT + o] += scale * acc;
    }
  }
  return h;
}

interface LinearGrads {
  dW: Float64Array | null;
  dBias: Float64Array | null;
  dA: Float64Array | null;
  dB: Float64Array | null;
}

/** dx += dy W + scale * (dy B) A; dW += dy^T x; dBias += sum dy; dB += scale * dy^T h; dA += scale * (dy B)^T x. */
function linearBackward(
  dx: Float64Array, g: LinearGrads, dy: Float64Array, saved: LinearSaved, W: Float32Array, lora: LoraWeights | null,
  N: number, IN: number, OUT: number,
): void {
  const x = saved.x;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OUT; o++) {
      const d = dy[n * OUT + o];
      if (d === 0) continue;
      for (let i = 0; i < IN; i++) dx[n * IN + i] += d * W[o * IN + i];
      if (g.dW) for (let i = 0; i < IN; i++) g.dW[o * IN + i] += d * x[n * IN + i];
      if (g.dBias) g.dBias[o] += d;
    }
  }
  if (!lora || !saved.h) return;
  const { A, B, r: R, scale } = lora;
  const h = saved.h;
  const dh = new Float64Array(R);
  for (let n = 0; n < N; n++) {
    dh.fill(0);
    for (let o = 0; o < OUT; o++) {
      const d = scale * dy[n * OUT + o];
      for (let r = 0; r < R; r++) {
        dh[r] += d * B[o * R + r];
        if (g.dB) g.dB[o * R + r] += d * h[n * R + r];
      }
    }
    for (let r = 0; r < R; r++) {
      for (let i = 0; i < IN; i++) {
        dx[n * IN + i] += dh[r] * A[r * IN + i];
        if (g.dA) g.dA[r * IN + i] += dh[r] * x[n * IN + i];
      }
    }
  }
}

/** The two elements rotated together for frequency i of a head: interleaved (2i, 2i+1), half (i, i+HS/2). */
function ropePair(convention: 'interleaved' | 'half', i: number, HS: number): [number, number] {
  return convention === 'interleaved' ? [2 * i, 2 * i + 1] : [i, i + HS / 2];
}

/** out = x rotated by angle pos * invFreq[i] in each pair; x (N, nHeads*HS). sign -1 applies the inverse
 * rotation, which is the backward (the transpose of a rotation). */
function rope(
  out: Float64Array, x: Float64Array, positions: Int32Array, invFreq: Float64Array, nHeads: number, HS: number,
  convention: 'interleaved' | 'half', sign: 1 | -1,
): void {
  const D = nHeads * HS;
  for (let n = 0; n < positions.length; n++) {
    for (let i = 0; i < HS / 2; i++) {
      const angle = positions[n] * invFreq[i];
      const cos = Math.cos(angle);
      const sin = sign * Math.sin(angle);
      const [i0, i1] = ropePair(convention, i, HS);
      for (let h = 0; h < nHeads; h++) {
        const base = n * D + h * HS;
        const x0 = x[base + i0];
        const x1 = x[base + i1];
        out[base + i0] = x0 * cos - x1 * sin;
        out[base + i1] = x0 * sin + x1 * cos;
      }
    }
  }
}

interface AttnDims {
  B: number;
  T: number;
  NH: number;
  NKV: number;
  HS: number;
}

/** Causal GQA attention: att (N, NH*HS) from q (N, NH*HS), k, v (N, NKV*HS); returns probs (B, NH, T, T). */
function attentionForward(att: Float64Array, q: Float64Array, k: Float64Array, v: Float64Array, d: AttnDims): Float64Array {
  const { B, T, NH, NKV, HS } = d;
  const QD = NH * HS;
  const KVD = NKV * HS;
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HS);
  const probs = new Float64Array(B * NH * T * T);
  const s = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const kvh = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qo = (b * T + t) * QD + h * HS;
        let max = -Infinity;
        for (let u = 0; u <= t; u++) {
          const ko = (b * T + u) * KVD + kvh * HS;
          let dot = 0;
          for (let i = 0; i < HS; i++) dot += q[qo + i] * k[ko + i];
          s[u] = dot * scale;
          if (s[u] > max) max = s[u];
        }
        let sum = 0;
        for (let u = 0; u <= t; u++) {
          s[u] = Math.exp(s[u] - max);
          sum += s[u];
        }
        const po = ((b * NH + h) * T + t) * T;
        for (let i = 0; i < HS; i++) att[qo + i] = 0;
        for (let u = 0; u <= t; u++) {
          const p = s[u] / sum;
          probs[po + u] = p;
          const vo = (b * T + u) * KVD + kvh * HS;
          for (let i = 0; i < HS; i++) att[qo + i] += p * v[vo + i];
        }
      }
    }
  }
  return probs;
}

/** dq, dk, dv += attention backward from datt. */
function attentionBackward(
  dq: Float64Array, dk: Float64Array, dv: Float64Array, datt: Float64Array,
  q: Float64Array, k: Float64Array, v: Float64Array, probs: Float64Array, d: AttnDims,
): void {
  const { B, T, NH, NKV, HS } = d;
  const QD = NH * HS;
  const KVD = NKV * HS;
  const group = NH / NKV;
  const scale = 1 / Math.sqrt(HS);
  const dp = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const kvh = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qo = (b * T + t) * QD + h * HS;
        const po = ((b * NH + h) * T + t) * T;
        let dot = 0; // sum_u p_u dp_u
        for (let u = 0; u <= t; u++) {
          const vo = (b * T + u) * KVD + kvh * HS;
          let acc = 0;
          for (let i = 0; i < HS; i++) {
            acc += datt[qo + i] * v[vo + i];
            dv[vo + i] += probs[po + u] * datt[qo + i];
          }
          dp[u] = acc;
          dot += probs[po + u] * acc;
        }
        for (let u = 0; u <= t; u++) {
          const ds = probs[po + u] * (dp[u] - dot) * scale;
          const ko = (b * T + u) * KVD + kvh * HS;
          for (let i = 0; i < HS; i++) {
            dq[qo + i] += ds * k[ko + i];
            dk[ko + i] += ds * q[qo + i];
          }
        }
      }
    }
  }
}

function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

// ---------------------------------------------------------------------------------------------------

/** Forward over B rows of T tokens (tokens (B*T), row-major). `positions` (B*T) default to 0..T-1 in
 * each row. Returns float32 logits (B, T, V) and the activations backward needs. */
export function transformerForward(
  config: ModelConfig,
  weights: WeightMap,
  tokens: ArrayLike<number>,
  B: number,
  T: number,
  lora: LoraMap | null = null,
  positions?: ArrayLike<number>,
): ForwardResult {
  const c = config;
  const N = B * T;
  const C = c.hiddenSize;
  const V = c.vocabSize;
  const HS = c.headDim;
  const QD = c.numHeads * HS;
  const KVD = c.numKvHeads * HS;
  const H = c.intermediateSize;
  if (tokens.length !== N) throw new Error(`reference transformer: tokens has ${tokens.length} ids, expected B*T = ${B}*${T}`);
  const ids = Int32Array.from(tokens);
  ids.forEach((id, n) => {
    if (!(id >= 0 && id < V)) throw new Error(`reference transformer: tokens[${n}] = ${id} is outside [0, ${V})`);
  });
  if (positions && positions.length !== N) throw new Error(`reference transformer: positions has ${positions.length} values, expected ${N}`);
  const pos = positions ? Int32Array.from(positions) : Int32Array.from({ length: N }, (_, n) => n % T);
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (tensor(weights, name).length !== n) throw new Error(`reference transformer: ${name} should hold ${n} values [${shape.join(', ')}]`);
  }
  if (lora) validateLora(c, lora);
  const invFreq = ropeInvFreq(c);
  const dims: AttnDims = { B, T, NH: c.numHeads, NKV: c.numKvHeads, HS };

  const embed = tensor(weights, 'model.embed_tokens.weight');
  let x = new Float64Array(N * C);
  for (let n = 0; n < N; n++) for (let i = 0; i < C; i++) x[n * C + i] = embed[ids[n] * C + i];

  const layers: LayerActs[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    const lin = new Map<Module, LinearSaved>();
    const linear = (m: Module, xIn: Float64Array, N_: number): Float64Array => {
      const [OUT, IN] = moduleDims(c, m);
      const path = modulePath(l, m);
      const bias = c.attentionBias && (m === 'q_proj' || m === 'k_proj' || m === 'v_proj') ? tensor(weights, `${path}.bias`) : null;
      const y = new Float64Array(N_ * OUT);
      const h = linearForward(y, xIn, tensor(weights, `${path}.weight`), bias, lora?.get(path) ?? null, N_, IN, OUT);
      lin.set(m, { x: xIn, h });
      return y;
    };
    const a = new Float64Array(N * C);
    const rstdA = rmsnormForward(a, x, tensor(weights, `${p}.input_layernorm.weight`), N, C, c.rmsNormEps);
    const q = linear('q_proj', a, N);
    const k = linear('k_proj', a, N);
    const v = linear('v_proj', a, N);
    const qr = new Float64Array(N * QD);
    const kr = new Float64Array(N * KVD);
    rope(qr, q, pos, invFreq, c.numHeads, HS, c.ropeConvention, 1);
    rope(kr, k, pos, invFreq, c.numKvHeads, HS, c.ropeConvention, 1);
    const att = new Float64Array(N * QD);
    const probs = attentionForward(att, qr, kr, v, dims);
    const o = linear('o_proj', att, N);
    const xm = new Float64Array(N * C);
    for (let i = 0; i < N * C; i++) xm[i] = x[i] + o[i];
    const m = new Float64Array(N * C);
    const rstdM = rmsnormForward(m, xm, tensor(weights, `${p}.post_attention_layernorm.weight`), N, C, c.rmsNormEps);
    const g = linear('gate_proj', m, N);
    const u = linear('up_proj', m, N);
    const s = new Float64Array(N * H);
    for (let i = 0; i < N * H; i++) s[i] = silu(g[i]) * u[i];
    const d = linear('down_proj', s, N);
    const xOut = new Float64Array(N * C);
    for (let i = 0; i < N * C; i++) xOut[i] = xm[i] + d[i];
    layers.push({ x, a, rstdA, qr, kr, v, probs, att, xm, m, rstdM, g, u, s, lin });
    x = xOut;
  }
  const f = new Float64Array(N * C);
  const rstdF = rmsnormForward(f, x, tensor(weights, 'model.norm.weight'), N, C, c.rmsNormEps);
  const logits = new Float64Array(N * V);
  linearForward(logits, f, tensor(weights, lmHeadName(c)), null, null, N, C, V);
  const acts: ReferenceActivations = {
    config: c, weights, lora, B, T, tokens: ids, positions: pos, invFreq, layers, xL: x, f, rstdF, logits,
  };
  return { logits: Float32Array.from(logits), acts };
}

/** Backward from dlogits (B, T, V): gradients of every LoRA A and B and, unless weightGrads is false,
 * of every weight (full-weight gradients, as pretraining needs). Overwrites nothing it was given. */
export function transformerBackward(
  acts: ReferenceActivations,
  dlogits: ArrayLike<number>,
  opts: { weightGrads?: boolean } = {},
): TransformerGrads {
  const { config: c, weights, lora, B, T } = acts;
  const wantW = opts.weightGrads ?? true;
  const N = B * T;
  const C = c.hiddenSize;
  const V = c.vocabSize;
  const HS = c.headDim;
  const QD = c.numHeads * HS;
  const KVD = c.numKvHeads * HS;
  const H = c.intermediateSize;
  if (dlogits.length !== N * V) throw new Error(`reference transformer: dlogits has ${dlogits.length} values, expected (B, T, V) = ${N * V}`);
  const dims: AttnDims = { B, T, NH: c.numHeads, NKV: c.numKvHeads, HS };

  const shapes = expectedShapes(c);
  const dW = new Map<string, Float64Array>();
  if (wantW) for (const [name, shape] of shapes) dW.set(name, new Float64Array(shape.reduce((a, b) => a * b, 1)));
  const dLora = new Map<string, { A: Float64Array; B: Float64Array }>();
  if (lora) for (const [path, w] of lora) dLora.set(path, { A: new Float64Array(w.A.length), B: new Float64Array(w.B.length) });
  const gradsOf = (path: string, withBias: boolean): LinearGrads => ({
    dW: dW.get(`${path}.weight`) ?? null,
    dBias: withBias ? dW.get(`${path}.bias`) ?? null : null,
    dA: dLora.get(path)?.A ?? null,
    dB: dLora.get(path)?.B ?? null,
  });

  // logits = f Wlm^T
  const dlog = Float64Array.from(dlogits);
  const df = new Float64Array(N * C);
  linearBackward(df, gradsOf(lmHeadName(c).replace(/\.weight$/, ''), false), dlog, { x: acts.f, h: null },
    tensor(weights, lmHeadName(c)), null, N, C, V);
  let dx = new Float64Array(N * C);
  rmsnormBackward(dx, dW.get('model.norm.weight') ?? null, df, acts.xL, tensor(weights, 'model.norm.weight'), acts.rstdF, N, C);

  for (let l = c.numLayers - 1; l >= 0; l--) {
    const L = acts.layers[l];
    const p = `model.layers.${l}`;
    const linearBack = (m: Module, dxIn: Float64Array, dy: Float64Array): void => {
      const [OUT, IN] = moduleDims(c, m);
      const path = modulePath(l, m);
      const hasBias = c.attentionBias && (m === 'q_proj' || m === 'k_proj' || m === 'v_proj');
      const saved = L.lin.get(m);
      if (!saved) throw new Error(`reference transformer: layer ${l} ${m} was not saved`);
      linearBackward(dxIn, gradsOf(path, hasBias), dy, saved, tensor(weights, `${path}.weight`), lora?.get(path) ?? null, N, IN, OUT);
    };
    // x' = xm + s Wd^T: dx flows to xm unchanged and into the MLP
    const dxm = Float64Array.from(dx);
    const ds = new Float64Array(N * H);
    linearBack('down_proj', ds, dx);
    // s = silu(g) * u;  silu'(g) = sig(g) (1 + g (1 - sig(g)))
    const dg = new Float64Array(N * H);
    const du = new Float64Array(N * H);
    for (let i = 0; i < N * H; i++) {
      const g = L.g[i];
      const sig = 1 / (1 + Math.exp(-g));
      du[i] = ds[i] * g * sig;
      dg[i] = ds[i] * L.u[i] * sig * (1 + g * (1 - sig));
    }
    const dm = new Float64Array(N * C);
    linearBack('gate_proj', dm, dg);
    linearBack('up_proj', dm, du);
    const wPost = `${p}.post_attention_layernorm.weight`;
    rmsnormBackward(dxm, dW.get(wPost) ?? null, dm, L.xm, tensor(weights, wPost), L.rstdM, N, C);
    // xm = x + att Wo^T
    dx = Float64Array.from(dxm);
    const datt = new Float64Array(N * QD);
    linearBack('o_proj', datt, dxm);
    const dqr = new Float64Array(N * QD);
    const dkr = new Float64Array(N * KVD);
    const dv = new Float64Array(N * KVD);
    attentionBackward(dqr, dkr, dv, datt, L.qr, L.kr, L.v, L.probs, dims);
    const dq = new Float64Array(N * QD);
    const dk = new Float64Array(N * KVD);
    rope(dq, dqr, acts.positions, acts.invFreq, c.numHeads, HS, c.ropeConvention, -1);
    rope(dk, dkr, acts.positions, acts.invFreq, c.numKvHeads, HS, c.ropeConvention, -1);
    const da = new Float64Array(N * C);
    linearBack('q_proj', da, dq);
    linearBack('k_proj', da, dk);
    linearBack('v_proj', da, dv);
    const wIn = `${p}.input_layernorm.weight`;
    rmsnormBackward(dx, dW.get(wIn) ?? null, da, L.x, tensor(weights, wIn), L.rstdA, N, C);
  }
  const dEmbed = dW.get('model.embed_tokens.weight');
  if (dEmbed) {
    for (let n = 0; n < N; n++) {
      const row = acts.tokens[n] * C;
      for (let i = 0; i < C; i++) dEmbed[row + i] += dx[n * C + i];
    }
  }
  const out: TransformerGrads = { weights: new Map(), lora: new Map() };
  for (const [name, g] of dW) out.weights.set(name, Float32Array.from(g));
  for (const [path, g] of dLora) out.lora.set(path, { A: Float32Array.from(g.A), B: Float32Array.from(g.B) });
  return out;
}
