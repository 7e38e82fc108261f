// CPU reference of the whole model, forward and backward, llm.c style: it calls the per-op references of
// this folder in order (embedding, rmsnorm, matmul + lora, rope, attention, swiglu / geglu), in float64
// activations over float32 weights. The GPU transformer is checked against it; it is also the ground truth
// for RoPE conventions and scalings, GQA, LoRA and the families. N = B*T rows.
//
//   x0 = embed(ids) * embedScale                                     (N, C)       Gemma: sqrt(C)
//   per layer l (full or sliding attention):
//     a  = rmsnorm(x) * w_in                                         (N, C)       norms: x * (w + offset)
//     q  = a Wq^T (+bq) (+lora)   k, v = a Wk^T, a Wv^T (+b) (+lora)   (N, NH*HS), (N, NKV*HS)
//     q, k = q_norm(q), k_norm(k) per head over HS                    Qwen3, Gemma 3
//     qr, kr = rope(q), rope(k)   (layer's base: rope_theta, or rope_local_base_freq on sliding layers)
//     att = softmax(qr kr^T * scale, causal [, window]) v  per head; head h reads kv head h / (NH/NKV)
//     o  = att Wo^T (+bo) (+lora)                                    (N, C)
//     xm = x + o                  (Gemma: x + post_attention_layernorm(o))
//     m  = rmsnorm(xm) * w_mlp    (w_mlp: post_attention_layernorm, Gemma: pre_feedforward_layernorm)
//     s  = act(m Wg^T) * (m Wu^T)  (+lora on each)  act = silu, Gemma: gelu_tanh   (N, H)
//     d  = s Wd^T (+lora)
//     x' = xm + d                 (Gemma: xm + post_feedforward_layernorm(d))
//   f = rmsnorm(x_L) * w_norm;  logits = f Wlm^T (Wlm = embed_tokens when tied)   (N, V)
// Qwen3.5: linear_attention layers replace the attention block by the Gated DeltaNet of ./qwen35.ts (o is its
// output); full layers' q_proj also yields a gate per head (att * sigmoid(gate) before o_proj, ./output_gate.ts)
// and RoPE turns only the first rotaryDim of each head.
// LoRA (PEFT): y += scale * (x A^T) B^T with A (R, IN), B (OUT, R), keyed by module path such as
// 'model.layers.0.self_attn.q_proj' or 'model.layers.3.mlp.down_proj'.
// Over 400 lines: the whole model's forward and backward stay in one file, readable top to bottom.

import type { ModelConfig } from '../model/config';
import { expectedShapes, type WeightMap } from '../model/weights';
import { isLinearAttentionLayer, LINEAR_ATTN_MODULES, linearAttnModuleDims, type LinearAttnModule } from '../model/weights_qwen35';
import { attentionBackward, attentionForward, type AttentionDims } from './attention';
import { embeddingBackward, embeddingForward } from './embedding';
import { gemma4Backward, gemma4Forward, type Gemma4Acts } from './gemma4';
import { gegluBackward, gegluForward } from './geglu';
import { loraBackward, loraForward } from './lora';
import { matmul } from './matmul';
import { outputGateBackward, outputGateForward } from './output_gate';
import { gatedDeltaNetBackward, gatedDeltaNetForward, type GatedDeltaNetSaved } from './qwen35';
import { rmsnormBackward, rmsnormForward } from './rmsnorm';
import { ropeBackward, ropeForward } from './rope';
import { swigluBackward, swigluForward } from './swiglu';

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
type Module = (typeof ATTN_MODULES)[number] | (typeof MLP_MODULES)[number] | LinearAttnModule;

function modulePath(layer: number, m: Module): string {
  const parent = (MLP_MODULES as readonly string[]).includes(m) ? 'mlp'
    : (LINEAR_ATTN_MODULES as readonly string[]).includes(m) ? 'linear_attn' : 'self_attn';
  return `model.layers.${layer}.${parent}.${m}`;
}

/** RoPE inverse frequencies (HS/2) in float64: theta^(-2i/HS), with the config's scaling (transformers'
 * _compute_llama3_parameters, or linear: divided by factor). `local`: the sliding layers' RoPE (Gemma). */
export function ropeInvFreq(c: ModelConfig, local = false): Float64Array {
  const theta = local ? c.ropeLocalTheta ?? c.ropeTheta : c.ropeTheta;
  const s = local ? c.ropeLocalScaling ?? null : c.ropeScaling;
  const dim = c.rotaryDim ?? c.headDim; // partial RoPE (Qwen3.5): frequencies over the rotated slice only
  const half = dim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / dim);
  if (!s) return inv;
  if (s.type === 'linear') return inv.map((f) => f / s.factor);
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
  q: Float64Array; // (N, NH*HS) before q_norm (qkNorm)
  k: Float64Array; // (N, NKV*HS) before k_norm
  rstdQ: Float64Array | null; // (N*NH) q_norm's rstd (qkNorm)
  rstdK: Float64Array | null; // (N*NKV)
  qr: Float64Array; // (N, NH*HS) after RoPE
  kr: Float64Array; // (N, NKV*HS) after RoPE
  v: Float64Array; // (N, NKV*HS)
  att: Float64Array; // (N, NH*HS)
  lse: Float64Array; // (B, NH, T)
  o: Float64Array; // attention output (N, C), before post_attention_layernorm (Gemma)
  rstdO: Float64Array | null; // sandwichNorms
  xm: Float64Array; // after the attention residual (N, C)
  m: Float64Array; // rmsnorm(xm) * w_mlp
  rstdM: Float64Array;
  g: Float64Array; // (N, H)
  u: Float64Array;
  s: Float64Array; // act(g) * u
  d: Float64Array; // MLP output (N, C), before post_feedforward_layernorm (Gemma)
  rstdD: Float64Array | null;
  lin: Map<Module, LinearSaved>;
  /** Qwen3.5 full layers: q_proj's output (N, NH*2*HS), query and gate per head (q is then its query halves) */
  qg: Float64Array | null;
  /** Qwen3.5 linear layers: the Gated DeltaNet's saved values (the attention fields above are then empty) */
  gdn: GatedDeltaNetSaved | null;
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
  /** the sliding layers' RoPE (equal to invFreq when the config has none) */
  invFreqLocal: Float64Array;
  layers: LayerActs[];
  xL: Float64Array; // last layer's output (N, C)
  f: Float64Array; // final rmsnorm (N, C)
  rstdF: Float64Array;
  /** logits in float64 (N, V) */
  logits: Float64Array;
  /** Gemma 4 (./gemma4.ts): its own per-layer activations (then `layers` is empty) */
  gemma4?: Gemma4Acts;
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
  if ((LINEAR_ATTN_MODULES as readonly string[]).includes(m)) return linearAttnModuleDims(c, m as LinearAttnModule);
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KVD = c.numKvHeads * c.headDim;
  const H = c.intermediateSize;
  const dims: Record<Exclude<Module, LinearAttnModule>, [number, number]> = {
    q_proj: [c.attnOutputGate ? 2 * QD : QD, C], k_proj: [KVD, C], v_proj: [KVD, C], o_proj: [C, QD],
    gate_proj: [H, C], up_proj: [H, C], down_proj: [C, H],
  };
  return dims[m as Exclude<Module, LinearAttnModule>];
}

function hasBias(c: ModelConfig, m: Module): boolean {
  return (c.attentionBias && (m === 'q_proj' || m === 'k_proj' || m === 'v_proj')) || (!!c.oProjBias && m === 'o_proj');
}

function validateLora(c: ModelConfig, lora: LoraMap): void {
  const known = new Map<string, Module>();
  for (let l = 0; l < c.numLayers; l++) {
    for (const m of [...(isLinearAttentionLayer(c, l) ? LINEAR_ATTN_MODULES : ATTN_MODULES), ...MLP_MODULES]) known.set(modulePath(l, m), m);
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
// Linear layers: matmul (+ bias) + LoRA, from the per-op references.

/** y = x W^T (+ bias) (+ scale * (x A^T) B^T); x (N, IN), W (OUT, IN). Returns the LoRA hidden (N, R). */
function linearForward(
  y: Float64Array, x: Float64Array, W: Float32Array, bias: Float32Array | null, lora: LoraWeights | null, N: number, IN: number, OUT: number,
): Float64Array | null {
  matmul(y, x, W, 1, N, IN, OUT, { transB: true, bias });
  if (!lora) return null;
  const h = new Float64Array(N * lora.r);
  loraForward(y, h, x, lora.A, lora.B, lora.scale, N, IN, OUT, lora.r);
  return h;
}

interface LinearGrads {
  dW: Float64Array | null;
  dBias: Float64Array | null;
  dA: Float64Array | null;
  dB: Float64Array | null;
}

/** dx += dy W (+ LoRA's share); dW += dy^T x; dBias += sum over rows of dy; dA, dB += LoRA's gradients. */
function linearBackward(
  dx: Float64Array, g: LinearGrads, dy: Float64Array, saved: LinearSaved, W: Float32Array, lora: LoraWeights | null,
  N: number, IN: number, OUT: number,
): void {
  matmul(dx, dy, W, 1, N, OUT, IN, { accumulate: true });
  if (g.dW) matmul(g.dW, dy, saved.x, 1, OUT, N, IN, { transA: true, accumulate: true });
  if (g.dBias) for (let n = 0; n < N; n++) for (let o = 0; o < OUT; o++) g.dBias[o] += dy[n * OUT + o];
  if (!lora || !saved.h || !g.dA || !g.dB) return;
  loraBackward(g.dA, g.dB, dx, dy, saved.x, saved.h, lora.A, lora.B, lora.scale, N, IN, OUT, lora.r);
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
  if (config.gemma4) return gemma4Forward(config, weights, tokens, B, T, lora, positions);
  const c = config;
  const N = B * T;
  const C = c.hiddenSize;
  const V = c.vocabSize;
  const HS = c.headDim;
  const QD = c.numHeads * HS;
  const KVD = c.numKvHeads * HS;
  const H = c.intermediateSize;
  const eps = c.rmsNormEps;
  const off = c.normWeightOffset ?? 0;
  if (tokens.length !== N) throw new Error(`reference transformer: tokens has ${tokens.length} ids, expected B*T = ${B}*${T}`);
  const ids = Int32Array.from(tokens);
  ids.forEach((id, n) => {
    if (!(id >= 0 && id < V)) throw new Error(`reference transformer: tokens[${n}] = ${id} is outside [0, ${V})`);
  });
  if (positions && positions.length !== N) throw new Error(`reference transformer: positions has ${positions.length} values, expected ${N}`);
  const pos = positions ? Int32Array.from(positions) : Int32Array.from({ length: N }, (_, n) => n % T);
  const posU = Uint32Array.from(pos);
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (tensor(weights, name).length !== n) throw new Error(`reference transformer: ${name} should hold ${n} values [${shape.join(', ')}]`);
  }
  if (lora) validateLora(c, lora);
  const invFreq = ropeInvFreq(c);
  const invFreqLocal = ropeInvFreq(c, true);
  const w = (name: string) => tensor(weights, name);

  let x = new Float64Array(N * C);
  embeddingForward(x, Uint32Array.from(ids), w('model.embed_tokens.weight'), N, V, C, c.embedScale ?? 1);

  const layers: LayerActs[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}`;
    const sliding = c.layerTypes?.[l] === 'sliding_attention';
    const lin = new Map<Module, LinearSaved>();
    const linear = (m: Module, xIn: Float64Array): Float64Array => {
      const [OUT, IN] = moduleDims(c, m);
      const path = modulePath(l, m);
      const y = new Float64Array(N * OUT);
      const h = linearForward(y, xIn, w(`${path}.weight`), hasBias(c, m) ? w(`${path}.bias`) : null, lora?.get(path) ?? null, N, IN, OUT);
      lin.set(m, { x: xIn, h });
      return y;
    };
    /** out = rmsnorm(xIn) * (w + offset) over rows of `width`; returns rstd */
    const norm = (out: Float64Array, xIn: Float64Array, weight: string, rows: number, width: number): Float64Array => {
      const rstd = new Float64Array(rows);
      rmsnormForward(out, rstd, xIn, w(weight), rows, width, eps, off);
      return rstd;
    };

    // attention block (Qwen3.5 linear layers: the Gated DeltaNet instead)
    const a = new Float64Array(N * C);
    const rstdA = norm(a, x, `${p}.input_layernorm.weight`, N, C);
    const E = new Float64Array(0);
    let o: Float64Array;
    let gdn: GatedDeltaNetSaved | null = null;
    let qg: Float64Array | null = null;
    let [q, k, v, qr, kr, att, lse]: Float64Array[] = [E, E, E, E, E, E, E];
    let [rstdQ, rstdK]: (Float64Array | null)[] = [null, null];
    if (isLinearAttentionLayer(c, l)) {
      const r = gatedDeltaNetForward(c, w, (m, xIn) => linear(m, xIn), p, a, B, T);
      o = r.out;
      gdn = r.saved;
    } else {
      q = linear('q_proj', a);
      if (c.attnOutputGate) {
        qg = q;
        q = queryHalves(qg, N, c.numHeads, HS);
      }
      k = linear('k_proj', a);
      v = linear('v_proj', a);
      let qIn = q;
      let kIn = k;
      if (c.qkNorm) {
        qIn = new Float64Array(N * QD);
        kIn = new Float64Array(N * KVD);
        rstdQ = norm(qIn, q, `${p}.self_attn.q_norm.weight`, N * c.numHeads, HS);
        rstdK = norm(kIn, k, `${p}.self_attn.k_norm.weight`, N * c.numKvHeads, HS);
      }
      const inv = sliding ? invFreqLocal : invFreq;
      qr = new Float64Array(N * QD);
      kr = new Float64Array(N * KVD);
      ropeForward(qr, qIn, posU, inv, N, c.numHeads, HS, c.ropeConvention, c.rotaryDim ?? HS);
      ropeForward(kr, kIn, posU, inv, N, c.numKvHeads, HS, c.ropeConvention, c.rotaryDim ?? HS);
      att = new Float64Array(N * QD);
      lse = new Float64Array(B * c.numHeads * T);
      attentionForward(att, lse, qr, kr, v, attentionDims(c, B, T, sliding));
      let attOut = att;
      if (qg) {
        attOut = new Float64Array(N * QD);
        outputGateForward(attOut, att, qg, N, c.numHeads, HS);
      }
      o = linear('o_proj', attOut);
    }
    let oPost = o;
    let rstdO: Float64Array | null = null;
    if (c.sandwichNorms) {
      oPost = new Float64Array(N * C);
      rstdO = norm(oPost, o, `${p}.post_attention_layernorm.weight`, N, C);
    }
    const xm = new Float64Array(N * C);
    for (let i = 0; i < N * C; i++) xm[i] = x[i] + oPost[i];

    // MLP block
    const m = new Float64Array(N * C);
    const rstdM = norm(m, xm, mlpNormName(c, l), N, C);
    const g = linear('gate_proj', m);
    const u = linear('up_proj', m);
    const s = new Float64Array(N * H);
    if (c.hiddenAct === 'gelu_tanh') gegluForward(s, g, u);
    else swigluForward(s, g, u);
    const d = linear('down_proj', s);
    let dPost = d;
    let rstdD: Float64Array | null = null;
    if (c.sandwichNorms) {
      dPost = new Float64Array(N * C);
      rstdD = norm(dPost, d, `${p}.post_feedforward_layernorm.weight`, N, C);
    }
    const xOut = new Float64Array(N * C);
    for (let i = 0; i < N * C; i++) xOut[i] = xm[i] + dPost[i];
    layers.push({ x, a, rstdA, q, k, rstdQ, rstdK, qr, kr, v, att, lse, o, rstdO, xm, m, rstdM, g, u, s, d, rstdD, lin, qg, gdn });
    x = xOut;
  }
  const f = new Float64Array(N * C);
  const rstdF = new Float64Array(N);
  rmsnormForward(f, rstdF, x, w('model.norm.weight'), N, C, eps, off);
  const logits = new Float64Array(N * V);
  linearForward(logits, f, w(lmHeadName(c)), null, null, N, C, V);
  const acts: ReferenceActivations = {
    config: c, weights, lora, B, T, tokens: ids, positions: pos, invFreq, invFreqLocal, layers, xL: x, f, rstdF, logits,
  };
  return { logits: Float32Array.from(logits), acts };
}

/** The query halves (N, NH*HS) of a gated q_proj output (N, NH*2*HS): per head HS query then HS gate values. */
function queryHalves(qg: Float64Array, N: number, NH: number, HS: number): Float64Array {
  const q = new Float64Array(N * NH * HS);
  for (let n = 0; n < N * NH; n++) q.set(qg.subarray(n * 2 * HS, n * 2 * HS + HS), n * HS);
  return q;
}

function attentionDims(c: ModelConfig, B: number, T: number, sliding: boolean): AttentionDims {
  return {
    B, T, NH: c.numHeads, NKV: c.numKvHeads, HS: c.headDim, scale: c.attentionScale, window: sliding ? c.slidingWindow ?? 0 : 0,
  };
}

/** The norm before the MLP: post_attention_layernorm (Llama), pre_feedforward_layernorm (Gemma). */
function mlpNormName(c: ModelConfig, l: number): string {
  return `model.layers.${l}.${c.sandwichNorms ? 'pre_feedforward_layernorm' : 'post_attention_layernorm'}.weight`;
}

/** Backward from dlogits (B, T, V): gradients of every LoRA A and B and, unless weightGrads is false,
 * of every weight (full-weight gradients, as pretraining needs). Overwrites nothing it was given. */
export function transformerBackward(
  acts: ReferenceActivations,
  dlogits: ArrayLike<number>,
  opts: { weightGrads?: boolean } = {},
): TransformerGrads {
  if (acts.gemma4) return gemma4Backward(acts, dlogits, opts);
  const { config: c, weights, lora, B, T } = acts;
  const wantW = opts.weightGrads ?? true;
  const N = B * T;
  const C = c.hiddenSize;
  const V = c.vocabSize;
  const HS = c.headDim;
  const QD = c.numHeads * HS;
  const KVD = c.numKvHeads * HS;
  const H = c.intermediateSize;
  const off = c.normWeightOffset ?? 0;
  if (dlogits.length !== N * V) throw new Error(`reference transformer: dlogits has ${dlogits.length} values, expected (B, T, V) = ${N * V}`);
  const posU = Uint32Array.from(acts.positions);
  const w = (name: string) => tensor(weights, name);

  const shapes = expectedShapes(c);
  const dW = new Map<string, Float64Array>();
  if (wantW) for (const [name, shape] of shapes) dW.set(name, new Float64Array(shape.reduce((a, b) => a * b, 1)));
  const dLora = new Map<string, { A: Float64Array; B: Float64Array }>();
  if (lora) for (const [path, lw] of lora) dLora.set(path, { A: new Float64Array(lw.A.length), B: new Float64Array(lw.B.length) });
  const gradsOf = (path: string, withBias: boolean): LinearGrads => ({
    dW: dW.get(`${path}.weight`) ?? null,
    dBias: withBias ? dW.get(`${path}.bias`) ?? null : null,
    dA: dLora.get(path)?.A ?? null,
    dB: dLora.get(path)?.B ?? null,
  });
  /** dxIn += d rmsnorm(xIn) from dy; dweight accumulates */
  const normBack = (dxIn: Float64Array, dy: Float64Array, xIn: Float64Array, weight: string, rstd: Float64Array, rows: number, width: number) =>
    rmsnormBackward(dxIn, dW.get(weight) ?? null, dy, xIn, w(weight), rstd, rows, width, off);

  // logits = f Wlm^T
  const dlog = Float64Array.from(dlogits);
  const df = new Float64Array(N * C);
  linearBackward(df, gradsOf(lmHeadName(c).replace(/\.weight$/, ''), false), dlog, { x: acts.f, h: null }, w(lmHeadName(c)), null, N, C, V);
  // dx: the residual stream's gradient, passed unchanged through every residual add
  const dx = new Float64Array(N * C);
  normBack(dx, df, acts.xL, 'model.norm.weight', acts.rstdF, N, C);

  for (let l = c.numLayers - 1; l >= 0; l--) {
    const L = acts.layers[l];
    const p = `model.layers.${l}`;
    const sliding = c.layerTypes?.[l] === 'sliding_attention';
    const linearBack = (m: Module, dxIn: Float64Array, dy: Float64Array): void => {
      const [OUT, IN] = moduleDims(c, m);
      const path = modulePath(l, m);
      const saved = L.lin.get(m);
      if (!saved) throw new Error(`reference transformer: layer ${l} ${m} was not saved`);
      linearBackward(dxIn, gradsOf(path, hasBias(c, m)), dy, saved, w(`${path}.weight`), lora?.get(path) ?? null, N, IN, OUT);
    };

    // MLP block: x' = xm + d (Gemma: xm + post_feedforward_layernorm(d))
    let dd = dx;
    if (c.sandwichNorms) {
      dd = new Float64Array(N * C);
      normBack(dd, dx, L.d, `${p}.post_feedforward_layernorm.weight`, L.rstdD!, N, C);
    }
    const ds = new Float64Array(N * H);
    linearBack('down_proj', ds, dd);
    const dg = new Float64Array(N * H);
    const du = new Float64Array(N * H);
    if (c.hiddenAct === 'gelu_tanh') gegluBackward(dg, du, ds, L.g, L.u);
    else swigluBackward(dg, du, ds, L.g, L.u);
    const dm = new Float64Array(N * C);
    linearBack('gate_proj', dm, dg);
    linearBack('up_proj', dm, du);
    normBack(dx, dm, L.xm, mlpNormName(c, l), L.rstdM, N, C);

    // attention block: xm = x + o (Gemma: x + post_attention_layernorm(o))
    let dout = dx;
    if (c.sandwichNorms) {
      dout = new Float64Array(N * C);
      normBack(dout, dx, L.o, `${p}.post_attention_layernorm.weight`, L.rstdO!, N, C);
    }
    const da = new Float64Array(N * C);
    if (L.gdn) {
      gatedDeltaNetBackward(c, w, dW, (m, dxIn, dy) => linearBack(m, dxIn, dy), p, da, dout, L.gdn, B, T);
    } else {
      let datt = new Float64Array(N * QD);
      linearBack('o_proj', datt, dout);
      let dqg: typeof datt | null = null;
      if (L.qg) {
        dqg = new Float64Array(N * 2 * QD);
        const dGated = datt;
        datt = new Float64Array(N * QD);
        outputGateBackward(datt, dqg, dGated, L.att, L.qg, N, c.numHeads, HS);
      }
      const dqr = new Float64Array(N * QD);
      const dkr = new Float64Array(N * KVD);
      const dv = new Float64Array(N * KVD);
      attentionBackward(dqr, dkr, dv, datt, L.qr, L.kr, L.v, L.att, L.lse, attentionDims(c, B, T, sliding));
      const inv = sliding ? acts.invFreqLocal : acts.invFreq;
      let dq = new Float64Array(N * QD);
      let dk = new Float64Array(N * KVD);
      ropeBackward(dq, dqr, posU, inv, N, c.numHeads, HS, c.ropeConvention, c.rotaryDim ?? HS);
      ropeBackward(dk, dkr, posU, inv, N, c.numKvHeads, HS, c.ropeConvention, c.rotaryDim ?? HS);
      if (c.qkNorm) {
        const dqIn = new Float64Array(N * QD);
        const dkIn = new Float64Array(N * KVD);
        normBack(dqIn, dq, L.q, `${p}.self_attn.q_norm.weight`, L.rstdQ!, N * c.numHeads, HS);
        normBack(dkIn, dk, L.k, `${p}.self_attn.k_norm.weight`, L.rstdK!, N * c.numKvHeads, HS);
        dq = dqIn;
        dk = dkIn;
      }
      if (dqg) {
        for (let n = 0; n < N * c.numHeads; n++) dqg.set(dq.subarray(n * HS, (n + 1) * HS), n * 2 * HS);
        dq = dqg;
      }
      linearBack('q_proj', da, dq);
      linearBack('k_proj', da, dk);
      linearBack('v_proj', da, dv);
    }
    normBack(dx, da, L.x, `${p}.input_layernorm.weight`, L.rstdA, N, C);
  }
  const dEmbed = dW.get('model.embed_tokens.weight');
  if (dEmbed) embeddingBackward(dEmbed, dx, Uint32Array.from(acts.tokens), N, V, C, c.embedScale ?? 1);
  const out: TransformerGrads = { weights: new Map(), lora: new Map() };
  for (const [name, g] of dW) out.weights.set(name, Float32Array.from(g));
  for (const [path, g] of dLora) out.lora.set(path, { A: Float32Array.from(g.A), B: Float32Array.from(g.B) });
  return out;
}
