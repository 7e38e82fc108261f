// CPU reference of causal grouped-query self-attention for training (attention_forward.wgsl,
// attention_backward_*.wgsl), same argument order as the host wrappers in src/gpu/kernels/attention.ts.
// Decoding from KV caches (every cache format, rings) has its one reference in ./attention_decode.ts.
// Sums in float64. Float arrays may be Float32Array or Float64Array, so that finite-difference tests can
// run the whole computation in float64.
//
// Layout: q, out (B, T, NH, HS); k, v (B, T, NKV, HS); lse (B, NH, T); query head h uses kv head
// h / (NH / NKV); position t attends to 0..t, or with dims.window = W > 0 to max(0, t - W + 1)..t
// (sliding window); scale dims.scale, default 1 / sqrt(HS).
// segments (optional, (B, T, 2) as the kernels' seg binding): query t of row b with (pe, ss) =
// segments[2 (b T + t) ..] sees key j <= t only when j < pe or j >= ss (a group's shared prompt and its own
// completion segment, src/model/prefix_pack.ts); absent or (0, 0): plain causal attention. With segments the
// window counts positions (each segment's restart at pe): the query at pe + t - ss, a prompt key j at j.

import type { AttentionDims } from '../ops/attention';

export type { AttentionDims };
export type Floats = Float32Array | Float64Array;

/** The first key position that query position t sees (sliding window), and the score scale. */
function firstKey(t: number, window: number | undefined): number {
  return window && window > 0 ? Math.max(0, t - window + 1) : 0;
}

export type Segments = ArrayLike<number> | null | undefined;

/** Whether query t of row b sees key j (j <= t is the caller's) under the shared-prefix mask, and with a window
 * inside it on positions. */
function segSees(seg: Segments, b: number, T: number, t: number, j: number, window: number | undefined): boolean {
  if (!seg) return true;
  const o = 2 * (b * T + t);
  const pe = seg[o];
  const ss = seg[o + 1];
  if (!(j < pe || j >= ss)) return false;
  if (!window) return true;
  return (j >= ss ? t - j : pe + t - ss - j) < window;
}

function scaleOf(dims: { HS: number; scale?: number }): number {
  return dims.scale ?? 1 / Math.sqrt(dims.HS);
}

/** out = softmax(q k^T * scale + causal mask) v; lse (B, NH, T) = log-sum-exp of each row's scaled scores. */
export function attentionForward(out: Floats, lse: Floats, q: Floats, k: Floats, v: Floats, dims: AttentionDims, segments?: Segments): void {
  const { B, T, NH, NKV, HS } = dims;
  const G = NH / NKV;
  const scale = scaleOf(dims);
  const s = new Float64Array(T);
  const acc = new Float64Array(HS);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const j0 = segments ? 0 : firstKey(t, dims.window); // with segments the window is segSees's, on positions
      for (let h = 0; h < NH; h++) {
        const g = Math.floor(h / G);
        const qo = ((b * T + t) * NH + h) * HS;
        let m = -Number.MAX_VALUE;
        for (let j = j0; j <= t; j++) {
          if (!segSees(segments, b, T, t, j, dims.window)) continue;
          const ko = ((b * T + j) * NKV + g) * HS;
          let dot = 0;
          for (let d = 0; d < HS; d++) dot += q[qo + d] * k[ko + d];
          s[j] = dot * scale;
          m = Math.max(m, s[j]);
        }
        let sum = 0;
        acc.fill(0);
        for (let j = j0; j <= t; j++) {
          if (!segSees(segments, b, T, t, j, dims.window)) continue;
          const p = Math.exp(s[j] - m);
          sum += p;
          const vo = ((b * T + j) * NKV + g) * HS;
          for (let d = 0; d < HS; d++) acc[d] += p * v[vo + d];
        }
        for (let d = 0; d < HS; d++) out[qo + d] = acc[d] / sum;
        lse[(b * NH + h) * T + t] = m + Math.log(sum);
      }
    }
  }
}

/** Overwrites dq (B, T, NH, HS), dk and dv (B, T, NKV, HS) with the gradients of sum(dout * out), using the
 * saved lse (p = exp(s - lse)) and D = rowsum(dout * out), as the GPU kernels do. */
export function attentionBackward(
  dq: Floats,
  dk: Floats,
  dv: Floats,
  dout: Floats,
  q: Floats,
  k: Floats,
  v: Floats,
  out: Floats,
  lse: Floats,
  dims: AttentionDims,
  segments?: Segments,
): void {
  const { B, T, NH, NKV, HS } = dims;
  const G = NH / NKV;
  const scale = scaleOf(dims);
  const dqAcc = new Float64Array(B * T * NH * HS);
  const dkAcc = new Float64Array(B * T * NKV * HS);
  const dvAcc = new Float64Array(B * T * NKV * HS);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < NH; h++) {
        const g = Math.floor(h / G);
        const qo = ((b * T + t) * NH + h) * HS;
        const L = lse[(b * NH + h) * T + t];
        let D = 0;
        for (let d = 0; d < HS; d++) D += dout[qo + d] * out[qo + d];
        for (let j = segments ? 0 : firstKey(t, dims.window); j <= t; j++) {
          if (!segSees(segments, b, T, t, j, dims.window)) continue;
          const ko = ((b * T + j) * NKV + g) * HS;
          let s = 0;
          let dp = 0;
          for (let d = 0; d < HS; d++) {
            s += q[qo + d] * k[ko + d];
            dp += dout[qo + d] * v[ko + d];
          }
          const p = Math.exp(s * scale - L);
          const ds = p * (dp - D) * scale;
          for (let d = 0; d < HS; d++) {
            dvAcc[ko + d] += p * dout[qo + d];
            dkAcc[ko + d] += ds * q[qo + d];
            dqAcc[qo + d] += ds * k[ko + d];
          }
        }
      }
    }
  }
  for (let i = 0; i < dqAcc.length; i++) dq[i] = dqAcc[i];
  for (let i = 0; i < dkAcc.length; i++) {
    dk[i] = dkAcc[i];
    dv[i] = dvAcc[i];
  }
}
