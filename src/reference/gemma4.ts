// CPU reference of the whole Gemma 4 text model (modeling_gemma4.py's Gemma4ForCausalLM), forward and backward,
// built from the per-op references as transformer.ts is (float64 activations over float32 weights). N = B*T rows,
// C hidden, L layers, P per-layer-embedding size; each layer l has its own HS, NKV, H (gemma4Layers).
//
//   x0  = embed(ids) * sqrt(C)                                               (N, C)
//   ple = (rmsnorm(x0 Wplp^T * C^-1/2 per layer over P) * w_plpn + embed_pl(ids) * sqrt(P)) * 2^-1/2   (N, L, P)
//   per layer l:
//     a  = rmsnorm(x) * w_in
//     q  = rope_l(q_norm(a Wq^T))                                            (N, NH*HS)
//     k  = rope_l(k_norm(a Wk^T)),  v = v_norm(a Wv^T)  (v_norm: no weight; k_eq_v full layers: v = v_norm(a Wk^T))
//          shared layers: k, v of their source layer (the last earlier non-shared layer of their type)
//     att = softmax(q k^T * 1, causal [, window on sliding layers]) v;  o = att Wo^T
//     xm = x + post_attention_layernorm(o)
//     d  = down(gelu_tanh(gate(m)) * up(m)), m = pre_feedforward_layernorm(xm);  xp = xm + post_feedforward_layernorm(d)
//     xq = xp + post_per_layer_input_norm(per_layer_projection(gelu_tanh(per_layer_input_gate(xp)) * ple[:, l]))
//     x' = xq * layer_scalar
//   logits = cap * tanh((rmsnorm(x_L) * w_norm) Wlm^T / cap)   (no cap when final_logit_softcapping is null)
// RoPE of full layers is proportional: the first int(p * HS / 2) frequencies theta^(-2i/HS), the rest 0 (those
// pairs pass unrotated); sliding layers use the default RoPE of their own base. LoRA (PEFT) as in transformer.ts;
// a LoRA on a shared layer's k/v projection, or on v_proj where values come from k_proj, is refused.

import type { ModelConfig } from '../model/config';
import { gemma4Layers, type Gemma4Layer } from '../model/gemma4_config';
import { gemma4CheckLoraModule, gemma4InvFreq, gemma4ModuleDims as moduleDims, gemma4ModulePath as modulePath, type Gemma4Module as Module } from '../model/gemma4_lora';
import { expectedShapes, type WeightMap } from '../model/weights';
import { attentionBackward, attentionForward, type AttentionDims } from './attention';
import { embeddingBackward, embeddingForward } from './embedding';
import { gegluBackward, gegluForward } from './geglu';
import { loraBackward, loraForward } from './lora';
import { matmul } from './matmul';
import { rmsnormBackward, rmsnormForward } from './rmsnorm';
import { ropeBackward, ropeForward } from './rope';
import { softcapBackward, softcapForward } from './softcap';
import type { ForwardResult, LoraMap, LoraWeights, ReferenceActivations, TransformerGrads } from './transformer';

function validateLora(c: ModelConfig, lora: LoraMap): void {
  const layers = gemma4Layers(c);
  for (const [path, w] of lora) gemma4CheckLoraModule(c, layers, path, w.r, w.A.length, w.B.length);
}

interface Lin {
  x: Float64Array;
  h: Float64Array | null;
}

interface Gemma4LayerActs {
  x: Float64Array; a: Float64Array; rstdA: Float64Array;
  q: Float64Array; qn: Float64Array; rstdQ: Float64Array; qr: Float64Array;
  /** own K/V (non-shared layers): k_proj output, its norm, rotated; v before and after v_norm */
  k: Float64Array | null; rstdK: Float64Array | null; kr: Float64Array | null;
  v: Float64Array | null; rstdV: Float64Array | null; vn: Float64Array | null;
  att: Float64Array; lse: Float64Array; o: Float64Array; rstdO: Float64Array; xm: Float64Array;
  m: Float64Array; rstdM: Float64Array; g: Float64Array; u: Float64Array; s: Float64Array; d: Float64Array; rstdD: Float64Array;
  xp: Float64Array;
  /** PLE branch */
  gi: Float64Array | null; pleL: Float64Array | null; ge: Float64Array | null; pp: Float64Array | null; rstdP: Float64Array | null;
  xq: Float64Array;
  lin: Map<string, Lin>;
}

export interface Gemma4Acts {
  layers: Gemma4Layer[];
  invFreq: Float64Array[];
  acts: Gemma4LayerActs[];
  x0: Float64Array;
  /** PLE: projection, its scaled form, norm rstd, token part, combined (N, L*P) */
  proj: Float64Array | null; projS: Float64Array | null; rstdPl: Float64Array | null; ple: Float64Array | null;
  /** logits before the soft-cap (N, V) */
  rawLogits: Float64Array;
}

function tensor(weights: WeightMap, name: string): Float32Array {
  const t = weights.get(name);
  if (!t) throw new Error(`reference gemma4: missing tensor ${name}`);
  return t.data;
}

const lmHeadName = (c: ModelConfig) => (c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');

function linearForward(x: Float64Array, W: Float32Array, lora: LoraWeights | null, N: number, IN: number, OUT: number): { y: Float64Array; h: Float64Array | null } {
  const y = new Float64Array(N * OUT);
  matmul(y, x, W, 1, N, IN, OUT, { transB: true });
  if (!lora) return { y, h: null };
  const h = new Float64Array(N * lora.r);
  loraForward(y, h, x, lora.A, lora.B, lora.scale, N, IN, OUT, lora.r);
  return { y, h };
}

function dims(c: ModelConfig, ly: Gemma4Layer, B: number, T: number): AttentionDims {
  return { B, T, NH: c.numHeads, NKV: ly.NKV, HS: ly.HS, scale: 1, window: ly.type === 'sliding_attention' ? c.slidingWindow ?? 0 : 0 };
}

/** Forward over B rows of T tokens; positions default to 0..T-1 per row. */
export function gemma4Forward(
  c: ModelConfig, weights: WeightMap, tokens: ArrayLike<number>, B: number, T: number, lora: LoraMap | null = null, positions?: ArrayLike<number>,
): ForwardResult {
  const g = c.gemma4;
  if (!g) throw new Error('reference gemma4: not a Gemma 4 config');
  const N = B * T;
  const C = c.hiddenSize;
  const V = c.vocabSize;
  const L = c.numLayers;
  const P = g.plePerLayer;
  const eps = c.rmsNormEps;
  const NH = c.numHeads;
  if (tokens.length !== N) throw new Error(`reference gemma4: tokens has ${tokens.length} ids, expected B*T = ${B}*${T}`);
  const ids = Int32Array.from(tokens);
  ids.forEach((id, n) => {
    if (!(id >= 0 && id < V)) throw new Error(`reference gemma4: tokens[${n}] = ${id} is outside [0, ${V})`);
  });
  if (positions && positions.length !== N) throw new Error(`reference gemma4: positions has ${positions.length} values, expected ${N}`);
  const pos = positions ? Int32Array.from(positions) : Int32Array.from({ length: N }, (_, n) => n % T);
  const posU = Uint32Array.from(pos);
  const idsU = Uint32Array.from(ids);
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (tensor(weights, name).length !== n) throw new Error(`reference gemma4: ${name} should hold ${n} values [${shape.join(', ')}]`);
  }
  if (lora) validateLora(c, lora);
  const w = (name: string) => tensor(weights, name);
  const layers = gemma4Layers(c);
  const invFreq = layers.map((ly) => gemma4InvFreq(c, ly));

  const x0 = new Float64Array(N * C);
  embeddingForward(x0, idsU, w('model.embed_tokens.weight'), N, V, C, c.embedScale ?? 1);

  // per-layer embeddings (N, L*P)
  let proj: Float64Array | null = null;
  let projS: Float64Array | null = null;
  let rstdPl: Float64Array | null = null;
  let ple: Float64Array | null = null;
  if (P) {
    proj = linearForward(x0, w('model.per_layer_model_projection.weight'), null, N, C, L * P).y;
    projS = proj.map((v) => v * C ** -0.5);
    const pn = new Float64Array(N * L * P);
    rstdPl = new Float64Array(N * L);
    rmsnormForward(pn, rstdPl, projS, w('model.per_layer_projection_norm.weight'), N * L, P, eps);
    const tok = new Float64Array(N * L * P);
    embeddingForward(tok, idsU, w('model.embed_tokens_per_layer.weight'), N, g.pleVocab, L * P, Math.fround(Math.sqrt(P)));
    ple = pn.map((v, i) => (v + tok[i]) * 2 ** -0.5);
  }

  const acts: Gemma4LayerActs[] = [];
  let x = x0;
  for (let l = 0; l < L; l++) {
    const ly = layers[l];
    const p = `model.layers.${l}`;
    const HS = ly.HS;
    const QD = NH * HS;
    const KVD = ly.NKV * HS;
    const lin = new Map<string, Lin>();
    const linear = (m: Module, xIn: Float64Array): Float64Array => {
      const [OUT, IN] = moduleDims(c, ly, m);
      const path = modulePath(l, m);
      const { y, h } = linearForward(xIn, w(`${path}.weight`), lora?.get(path) ?? null, N, IN, OUT);
      lin.set(m, { x: xIn, h });
      return y;
    };
    const norm = (xIn: Float64Array, weight: Float32Array, rows: number, width: number) => {
      const out = new Float64Array(rows * width);
      const rstd = new Float64Array(rows);
      rmsnormForward(out, rstd, xIn, weight, rows, width, eps);
      return { out, rstd };
    };

    const { out: a, rstd: rstdA } = norm(x, w(`${p}.input_layernorm.weight`), N, C);
    const q = linear('q_proj', a);
    const { out: qn, rstd: rstdQ } = norm(q, w(`${p}.self_attn.q_norm.weight`), N * NH, HS);
    const qr = new Float64Array(N * QD);
    ropeForward(qr, qn, posU, invFreq[l], N, NH, HS, 'half');
    let k: Float64Array | null = null, rstdK: Float64Array | null = null, kr: Float64Array | null = null;
    let v: Float64Array | null = null, rstdV: Float64Array | null = null, vn: Float64Array | null = null;
    if (!ly.shared) {
      k = linear('k_proj', a);
      v = ly.kEqV ? k : linear('v_proj', a);
      const kn = norm(k, w(`${p}.self_attn.k_norm.weight`), N * ly.NKV, HS);
      rstdK = kn.rstd;
      kr = new Float64Array(N * KVD);
      ropeForward(kr, kn.out, posU, invFreq[l], N, ly.NKV, HS, 'half');
      const vv = norm(v, new Float32Array(HS).fill(1), N * ly.NKV, HS);
      vn = vv.out;
      rstdV = vv.rstd;
    }
    const src = acts[ly.kvSource] ?? null;
    const K = ly.shared ? src!.kr! : kr!;
    const Vv = ly.shared ? src!.vn! : vn!;
    const att = new Float64Array(N * QD);
    const lse = new Float64Array(B * NH * T);
    attentionForward(att, lse, qr, K, Vv, dims(c, ly, B, T));
    const o = linear('o_proj', att);
    const { out: oP, rstd: rstdO } = norm(o, w(`${p}.post_attention_layernorm.weight`), N, C);
    const xm = x.map((xv, i) => xv + oP[i]);
    const { out: m, rstd: rstdM } = norm(xm, w(`${p}.pre_feedforward_layernorm.weight`), N, C);
    const gg = linear('gate_proj', m);
    const u = linear('up_proj', m);
    const s = new Float64Array(N * ly.H);
    gegluForward(s, gg, u);
    const d = linear('down_proj', s);
    const { out: dP, rstd: rstdD } = norm(d, w(`${p}.post_feedforward_layernorm.weight`), N, C);
    const xp = xm.map((xv, i) => xv + dP[i]);
    let xq = xp;
    let gi: Float64Array | null = null, pleL: Float64Array | null = null, ge: Float64Array | null = null;
    let pp: Float64Array | null = null, rstdP: Float64Array | null = null;
    if (P && ple) {
      gi = linearForward(xp, w(`${p}.per_layer_input_gate.weight`), null, N, C, P).y;
      pleL = new Float64Array(N * P);
      for (let n = 0; n < N; n++) for (let j = 0; j < P; j++) pleL[n * P + j] = ple[(n * L + l) * P + j];
      ge = new Float64Array(N * P);
      gegluForward(ge, gi, pleL);
      pp = linearForward(ge, w(`${p}.per_layer_projection.weight`), null, N, P, C).y;
      const pn = norm(pp, w(`${p}.post_per_layer_input_norm.weight`), N, C);
      rstdP = pn.rstd;
      xq = xp.map((xv, i) => xv + pn.out[i]);
    }
    const scalar = w(`${p}.layer_scalar`)[0];
    acts.push({ x, a, rstdA, q, qn, rstdQ, qr, k, rstdK, kr, v, rstdV, vn, att, lse, o, rstdO, xm, m, rstdM, g: gg, u, s, d, rstdD, xp, gi, pleL, ge, pp, rstdP, xq, lin });
    x = xq.map((xv) => xv * scalar);
  }
  const f = new Float64Array(N * C);
  const rstdF = new Float64Array(N);
  rmsnormForward(f, rstdF, x, w('model.norm.weight'), N, C, eps);
  const rawLogits = linearForward(f, w(lmHeadName(c)), null, N, C, V).y;
  let logits = rawLogits;
  if (g.finalLogitSoftcap !== null) {
    logits = new Float64Array(N * V);
    softcapForward(logits, rawLogits, g.finalLogitSoftcap);
  }
  const all: ReferenceActivations = {
    config: c, weights, lora, B, T, tokens: ids, positions: pos, invFreq: invFreq[0], invFreqLocal: invFreq[0], layers: [], xL: x, f, rstdF, logits,
    gemma4: { layers, invFreq, acts, x0, proj, projS, rstdPl, ple, rawLogits },
  };
  return { logits: Float32Array.from(logits), acts: all };
}

/** Backward from dlogits (B, T, V): LoRA gradients and (unless weightGrads is false) every weight's gradient. */
export function gemma4Backward(all: ReferenceActivations, dlogits: ArrayLike<number>, opts: { weightGrads?: boolean } = {}): TransformerGrads {
  const { config: c, weights, lora, B, T } = all;
  const G4 = all.gemma4;
  const g = c.gemma4;
  if (!G4 || !g) throw new Error('reference gemma4: activations of a Gemma 4 forward are required');
  const wantW = opts.weightGrads ?? true;
  const N = B * T;
  const C = c.hiddenSize;
  const V = c.vocabSize;
  const L = c.numLayers;
  const P = g.plePerLayer;
  const NH = c.numHeads;
  if (dlogits.length !== N * V) throw new Error(`reference gemma4: dlogits has ${dlogits.length} values, expected (B, T, V) = ${N * V}`);
  const posU = Uint32Array.from(all.positions);
  const idsU = Uint32Array.from(all.tokens);
  const w = (name: string) => tensor(weights, name);
  const dW = new Map<string, Float64Array>();
  if (wantW) for (const [name, shape] of expectedShapes(c)) dW.set(name, new Float64Array(shape.reduce((a, b) => a * b, 1)));
  const dLora = new Map<string, { A: Float64Array; B: Float64Array }>();
  if (lora) for (const [path, lw] of lora) dLora.set(path, { A: new Float64Array(lw.A.length), B: new Float64Array(lw.B.length) });

  /** dx += dy W; dW += dy^T x; LoRA's share */
  const linBack = (dx: Float64Array, dy: Float64Array, saved: Lin, weight: string, path: string | null, N_: number, IN: number, OUT: number) => {
    matmul(dx, dy, w(weight), 1, N_, OUT, IN, { accumulate: true });
    const gw = dW.get(weight);
    if (gw) matmul(gw, dy, saved.x, 1, OUT, N_, IN, { transA: true, accumulate: true });
    const lw = path ? lora?.get(path) : undefined;
    const gl = path ? dLora.get(path) : undefined;
    if (lw && gl && saved.h) loraBackward(gl.A, gl.B, dx, dy, saved.x, saved.h, lw.A, lw.B, lw.scale, N_, IN, OUT, lw.r);
  };
  const normBack = (dx: Float64Array, dy: Float64Array, x: Float64Array, weight: string | null, rstd: Float64Array, rows: number, width: number) =>
    rmsnormBackward(dx, weight ? dW.get(weight) ?? null : null, dy, x, weight ? w(weight) : new Float32Array(width).fill(1), rstd, rows, width);

  // logits = softcap(f Wlm^T)
  let dRaw = Float64Array.from(dlogits);
  if (g.finalLogitSoftcap !== null) {
    const d = new Float64Array(N * V);
    softcapBackward(d, dRaw, G4.rawLogits, g.finalLogitSoftcap);
    dRaw = d;
  }
  const df = new Float64Array(N * C);
  linBack(df, dRaw, { x: all.f, h: null }, lmHeadName(c), null, N, C, V);
  let dx = new Float64Array(N * C);
  normBack(dx, df, all.xL, 'model.norm.weight', all.rstdF, N, C);

  const dPle = P ? new Float64Array(N * L * P) : null;
  // gradients into each non-shared layer's rotated K and normed V from the shared layers that read them
  const dKr = new Map<number, Float64Array>();
  const dVn = new Map<number, Float64Array>();
  for (let l = L - 1; l >= 0; l--) {
    const ly = G4.layers[l];
    const A = G4.acts[l];
    const p = `model.layers.${l}`;
    const HS = ly.HS;
    const QD = NH * HS;
    const KVD = ly.NKV * HS;
    const back = (m: Module, dxIn: Float64Array, dy: Float64Array) => {
      const [OUT, IN] = moduleDims(c, ly, m);
      const path = modulePath(l, m);
      linBack(dxIn, dy, A.lin.get(m)!, `${path}.weight`, path, N, IN, OUT);
    };
    // x' = xq * s
    const scalar = w(`${p}.layer_scalar`)[0];
    const ds = dW.get(`${p}.layer_scalar`);
    if (ds) for (let i = 0; i < N * C; i++) ds[0] += dx[i] * A.xq[i];
    const dxp = dx.map((v) => v * scalar); // d xq, which is also d xp through the PLE residual
    if (P && A.gi && A.ge && A.pp && A.rstdP && A.pleL && dPle) {
      const dpp = new Float64Array(N * C);
      normBack(dpp, dxp, A.pp, `${p}.post_per_layer_input_norm.weight`, A.rstdP, N, C);
      const dge = new Float64Array(N * P);
      linBack(dge, dpp, { x: A.ge, h: null }, `${p}.per_layer_projection.weight`, null, N, P, C);
      const dgi = new Float64Array(N * P);
      const dpl = new Float64Array(N * P);
      gegluBackward(dgi, dpl, dge, A.gi, A.pleL);
      for (let n = 0; n < N; n++) for (let j = 0; j < P; j++) dPle[(n * L + l) * P + j] += dpl[n * P + j];
      linBack(dxp, dgi, { x: A.xp, h: null }, `${p}.per_layer_input_gate.weight`, null, N, C, P);
    }
    // xp = xm + post_ff(d)
    const dd = new Float64Array(N * C);
    normBack(dd, dxp, A.d, `${p}.post_feedforward_layernorm.weight`, A.rstdD, N, C);
    const dsA = new Float64Array(N * ly.H);
    back('down_proj', dsA, dd);
    const dg = new Float64Array(N * ly.H);
    const du = new Float64Array(N * ly.H);
    gegluBackward(dg, du, dsA, A.g, A.u);
    const dm = new Float64Array(N * C);
    back('gate_proj', dm, dg);
    back('up_proj', dm, du);
    const dxm = dxp; // residual
    normBack(dxm, dm, A.xm, `${p}.pre_feedforward_layernorm.weight`, A.rstdM, N, C);
    // xm = x + post_attn(o)
    const dout = new Float64Array(N * C);
    normBack(dout, dxm, A.o, `${p}.post_attention_layernorm.weight`, A.rstdO, N, C);
    const datt = new Float64Array(N * QD);
    back('o_proj', datt, dout);
    const dqr = new Float64Array(N * QD);
    const dK = new Float64Array(N * KVD);
    const dV = new Float64Array(N * KVD);
    const src = G4.acts[ly.kvSource];
    attentionBackward(dqr, dK, dV, datt, A.qr, src.kr!, src.vn!, A.att, A.lse, dims(c, ly, B, T));
    const addTo = (map: Map<number, Float64Array>, key: number, v: Float64Array) => {
      const prev = map.get(key);
      if (prev) for (let i = 0; i < v.length; i++) prev[i] += v[i];
      else map.set(key, v);
    };
    addTo(dKr, ly.kvSource, dK);
    addTo(dVn, ly.kvSource, dV);
    const dqn = new Float64Array(N * QD);
    ropeBackward(dqn, dqr, posU, G4.invFreq[l], N, NH, HS, 'half');
    const dq = new Float64Array(N * QD);
    normBack(dq, dqn, A.q, `${p}.self_attn.q_norm.weight`, A.rstdQ, N * NH, HS);
    const da = new Float64Array(N * C);
    back('q_proj', da, dq);
    if (!ly.shared) {
      // every layer reading this one's K/V (itself and later shared layers) has been walked
      const dkn = new Float64Array(N * KVD);
      ropeBackward(dkn, dKr.get(l)!, posU, G4.invFreq[l], N, ly.NKV, HS, 'half');
      const dk = new Float64Array(N * KVD);
      normBack(dk, dkn, A.k!, `${p}.self_attn.k_norm.weight`, A.rstdK!, N * ly.NKV, HS);
      const dv = ly.kEqV ? dk : new Float64Array(N * KVD);
      normBack(dv, dVn.get(l)!, A.v!, null, A.rstdV!, N * ly.NKV, HS);
      back('k_proj', da, dk);
      if (!ly.kEqV) back('v_proj', da, dv);
    }
    normBack(dxm, da, A.x, `${p}.input_layernorm.weight`, A.rstdA, N, C);
    dx = dxm;
  }
  // x0 feeds layer 0 and the PLE projection
  if (P && dPle && G4.proj && G4.projS && G4.rstdPl) {
    const dpn = dPle.map((v) => v * 2 ** -0.5);
    const dTable = dW.get('model.embed_tokens_per_layer.weight');
    if (dTable) embeddingBackward(dTable, dpn, idsU, N, g.pleVocab, L * P, Math.fround(Math.sqrt(P)));
    const dprojS = new Float64Array(N * L * P);
    normBack(dprojS, dpn, G4.projS, 'model.per_layer_projection_norm.weight', G4.rstdPl, N * L, P);
    const dproj = dprojS.map((v) => v * C ** -0.5);
    linBack(dx, dproj, { x: G4.x0, h: null }, 'model.per_layer_model_projection.weight', null, N, C, L * P);
  }
  const dEmbed = dW.get('model.embed_tokens.weight');
  if (dEmbed) embeddingBackward(dEmbed, dx, idsU, N, V, C, c.embedScale ?? 1);
  const out: TransformerGrads = { weights: new Map(), lora: new Map() };
  for (const [name, gr] of dW) out.weights.set(name, Float32Array.from(gr));
  for (const [path, gr] of dLora) out.lora.set(path, { A: Float32Array.from(gr.A), B: Float32Array.from(gr.B) });
  return out;
}
