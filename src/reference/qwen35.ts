// CPU reference of a Qwen3.5 linear_attention (Gated DeltaNet) token mixer, forward and backward, built from
// the per-op references; src/reference/transformer.ts calls it in place of attention on linear layers.
// Shapes (N = B*T rows; NK, DK, NV, DV, K, CD = 2*NK*DK + NV*DV as in src/model/config_qwen35.ts):
//   qkv = a Wqkv^T (+lora)                            (N, CD)
//   z = a Wz^T, b = a Wb^T, a' = a Wa^T (+lora)       (N, NV*DV), (N, NV), (N, NV)
//   c = silu(causal_conv1d(qkv))                      (N, CD) -> q (N, NK*DK), k (N, NK*DK), v (N, NV*DV)
//   qn, kn = l2norm(q), l2norm(k) per head            eps 1e-6
//   beta = sigmoid(b); g = -exp(A_log) softplus(a' + dt_bias)                      (N, NV)
//   o = gated_delta(qn, kn, v, g, beta), q scaled by DK^-1/2, zero initial state  (N, NV*DV)
//   y = rms(o) * w_norm * silu(z) per value head      (N, NV*DV)
//   out = y Wout^T (+lora)                            (N, C)

import type { ModelConfig } from '../model/config';
import { convChannels, type LinearAttnModule } from '../model/weights_qwen35';
import type { GatedDeltaDims } from '../ops/gated_delta';
import { causalConv1dBackward, causalConv1dForward } from './causal_conv1d';
import { gatedDeltaBackward, gatedDeltaForward } from './gated_delta';
import { gatedRmsnormBackward, gatedRmsnormForward } from './gated_rmsnorm';
import { gdnGatesBackward, gdnGatesForward } from './gdn_gates';
import { l2normBackward, l2normForward } from './l2norm';

/** transformers' l2norm epsilon (fixed, not rms_norm_eps) */
export const L2NORM_EPS = 1e-6;

export interface GatedDeltaNetSaved {
  qkv: Float64Array;
  z: Float64Array;
  b: Float64Array;
  a: Float64Array;
  q: Float64Array; // after the conv, before l2norm
  k: Float64Array;
  v: Float64Array;
  qn: Float64Array;
  kn: Float64Array;
  rq: Float64Array;
  rk: Float64Array;
  beta: Float64Array;
  g: Float64Array;
  o: Float64Array;
  rstdO: Float64Array;
}

export function gatedDeltaDims(c: ModelConfig, B: number, T: number): GatedDeltaDims {
  const s = c.linearAttention!;
  return { B, T, NK: s.numKeyHeads, NV: s.numValueHeads, DK: s.keyHeadDim, DV: s.valueHeadDim, scale: s.keyHeadDim ** -0.5 };
}

type Linear = (m: LinearAttnModule, x: Float64Array) => Float64Array;
type LinearBack = (m: LinearAttnModule, dx: Float64Array, dy: Float64Array) => void;

/** The token mixer of linear layer `p` (e.g. 'model.layers.0') on a (N, C) normed input. */
export function gatedDeltaNetForward(
  c: ModelConfig, w: (name: string) => Float32Array, linear: Linear, p: string, a: Float64Array, B: number, T: number,
): { out: Float64Array; saved: GatedDeltaNetSaved } {
  const d = gatedDeltaDims(c, B, T);
  const N = B * T;
  const CD = convChannels(c.linearAttention!);
  const KD = d.NK * d.DK;
  const VD = d.NV * d.DV;
  const K = c.linearAttention!.convKernel;
  const qkv = linear('in_proj_qkv', a);
  const z = linear('in_proj_z', a);
  const b = linear('in_proj_b', a);
  const aa = linear('in_proj_a', a);
  const conv = new Float64Array(N * CD);
  causalConv1dForward(conv, null, qkv, w(`${p}.linear_attn.conv1d.weight`), null, B, T, CD, K);
  const q = new Float64Array(N * KD);
  const k = new Float64Array(N * KD);
  const v = new Float64Array(N * VD);
  for (let n = 0; n < N; n++) {
    q.set(conv.subarray(n * CD, n * CD + KD), n * KD);
    k.set(conv.subarray(n * CD + KD, n * CD + 2 * KD), n * KD);
    v.set(conv.subarray(n * CD + 2 * KD, (n + 1) * CD), n * VD);
  }
  const qn = new Float64Array(N * KD);
  const kn = new Float64Array(N * KD);
  const rq = new Float64Array(N * d.NK);
  const rk = new Float64Array(N * d.NK);
  l2normForward(qn, rq, q, N * d.NK, d.DK, L2NORM_EPS);
  l2normForward(kn, rk, k, N * d.NK, d.DK, L2NORM_EPS);
  const beta = new Float64Array(N * d.NV);
  const g = new Float64Array(N * d.NV);
  gdnGatesForward(beta, g, b, aa, w(`${p}.linear_attn.A_log`), w(`${p}.linear_attn.dt_bias`), N, d.NV);
  const o = new Float64Array(N * VD);
  gatedDeltaForward(o, null, qn, kn, v, g, beta, null, d);
  const y = new Float64Array(N * VD);
  const rstdO = new Float64Array(N * d.NV);
  gatedRmsnormForward(y, rstdO, o, z, w(`${p}.linear_attn.norm.weight`), N * d.NV, d.DV, c.rmsNormEps);
  const out = linear('out_proj', y);
  return { out, saved: { qkv, z, b, a: aa, q, k, v, qn, kn, rq, rk, beta, g, o, rstdO } };
}

/** Backward of the token mixer from dout (N, C): da (N, C) accumulates the input's gradient; the weight
 * gradients accumulate into dW (by tensor name) when present there. */
export function gatedDeltaNetBackward(
  c: ModelConfig, w: (name: string) => Float32Array, dW: Map<string, Float64Array>, linearBack: LinearBack, p: string,
  da: Float64Array, dout: Float64Array, s: GatedDeltaNetSaved, B: number, T: number,
): void {
  const d = gatedDeltaDims(c, B, T);
  const N = B * T;
  const CD = convChannels(c.linearAttention!);
  const KD = d.NK * d.DK;
  const VD = d.NV * d.DV;
  const K = c.linearAttention!.convKernel;
  const dy = new Float64Array(N * VD);
  linearBack('out_proj', dy, dout);
  const dO = new Float64Array(N * VD);
  const dz = new Float64Array(N * VD);
  const normName = `${p}.linear_attn.norm.weight`;
  gatedRmsnormBackward(dO, dz, dW.get(normName) ?? null, dy, s.o, s.z, w(normName), s.rstdO, N * d.NV, d.DV);
  const [dqn, dkn] = [new Float64Array(N * KD), new Float64Array(N * KD)];
  const dv = new Float64Array(N * VD);
  const dg = new Float64Array(N * d.NV);
  const dbeta = new Float64Array(N * d.NV);
  gatedDeltaBackward(dqn, dkn, dv, dg, dbeta, null, dO, s.qn, s.kn, s.v, s.g, s.beta, null, d);
  const db = new Float64Array(N * d.NV);
  const dA = new Float64Array(N * d.NV);
  gdnGatesBackward(db, dA, dW.get(`${p}.linear_attn.A_log`) ?? null, dW.get(`${p}.linear_attn.dt_bias`) ?? null, dbeta, dg, s.b, s.a,
    w(`${p}.linear_attn.A_log`), w(`${p}.linear_attn.dt_bias`), N, d.NV);
  const dq = new Float64Array(N * KD);
  const dk = new Float64Array(N * KD);
  l2normBackward(dq, dqn, s.q, s.rq, N * d.NK, d.DK);
  l2normBackward(dk, dkn, s.k, s.rk, N * d.NK, d.DK);
  const dconv = new Float64Array(N * CD);
  for (let n = 0; n < N; n++) {
    dconv.set(dq.subarray(n * KD, (n + 1) * KD), n * CD);
    dconv.set(dk.subarray(n * KD, (n + 1) * KD), n * CD + KD);
    dconv.set(dv.subarray(n * VD, (n + 1) * VD), n * CD + 2 * KD);
  }
  const dqkv = new Float64Array(N * CD);
  const convName = `${p}.linear_attn.conv1d.weight`;
  causalConv1dBackward(dqkv, dW.get(convName) ?? null, dconv, s.qkv, w(convName), null, B, T, CD, K);
  linearBack('in_proj_qkv', da, dqkv);
  linearBack('in_proj_z', da, dz);
  linearBack('in_proj_b', da, db);
  linearBack('in_proj_a', da, dA);
}
