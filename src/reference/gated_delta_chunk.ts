// CPU reference of the gated delta rule's chunked (WY / UT-transform) parallel form (shaders/
// gated_delta_chunk_*.wgsl; same arguments and results as the recurrent form, src/reference/gated_delta.ts, of
// which it is an exact rewriting: transformers' torch_chunk_gated_delta_rule, with a last chunk shorter than C
// instead of zero padding). Per row b and value head h, the tokens are cut into chunks of C; in a chunk of L
// tokens (local r, s in [0, L)) entered with state S0 (DK, DV):
//   G_r = g_0 + ... + g_r (cumulative log-decay),  Gam_rs = exp(G_r - G_s) (s <= r)
//   M_rs = beta_r Gam_rs (k_r . k_s) for s < r (strictly lower);  UT transform: A = (I + M)^-1
//   U = A (beta o V),  W = A (beta o exp(G) o K)  (forward substitution, row by row)
//   Delta = U - W S0   (the chunk's delta_t of the recurrence; "v_new")
//   P_rs = scale Gam_rs (q_r . k_s) for s <= r
//   O_r = scale exp(G_r) S0^T q_r + sum_{s <= r} P_rs Delta_s
//   S_end = exp(G_{L-1}) S0 + sum_s exp(G_{L-1} - G_s) k_s Delta_s^T
// The backward runs the chunks in reverse with dS = dL/dS_end and goes back through the same algebra; the UT
// transform's gradient needs no inverse: with dU = dDelta and dW = -dDelta S0^T, solve (I + M)^T dX = dU and
// (I + M)^T dY = dW (back substitution); then dM_rs = -(dX_r . U_s + dY_r . W_s) for s < r.
// Shapes as the recurrent reference: q, k (B, T, NK, DK); v, out (B, T, NV, DV); g, beta (B, T, NV); states
// (B, NV, DK, DV). Float64 sums.

import { checkGatedDeltaDims, keyHeadOf, type GatedDeltaDims } from '../ops/gated_delta';

type Floats = Float32Array | Float64Array;

/** The default chunk length (transformers' and flash-linear-attention's chunk_size). */
export const GATED_DELTA_CHUNK = 64;

function checkChunk(C: number): void {
  if (!Number.isInteger(C) || C <= 0) throw new Error(`gated delta rule (chunked): chunk length C = ${C} must be a positive integer`);
}

/** One chunk of row b, head h: its inputs gathered (q, k unscaled) and what its intra-chunk prep computes. */
interface Chunk {
  L: number;
  q: Float64Array; // (L, DK)
  k: Float64Array; // (L, DK)
  v: Float64Array; // (L, DV)
  beta: Float64Array; // (L)
  G: Float64Array; // (L) cumulative log-decay
  M: Float64Array; // (L, L) strictly lower
  P: Float64Array; // (L, L) lower with diagonal, scale included
  U: Float64Array; // (L, DV)
  W: Float64Array; // (L, DK)
}

const dot = (a: Float64Array, ao: number, b: Float64Array, bo: number, n: number) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
  return s;
};

/** Intra-chunk prep (no state needed): G, M, P and the UT transform's U and W. */
function prep(q: Floats, k: Floats, v: Floats, g: Floats, beta: Floats, d: GatedDeltaDims, b: number, h: number, t0: number, L: number): Chunk {
  const { T, NK, NV, DK, DV, scale } = d;
  const kh = keyHeadOf(d, h);
  const c: Chunk = {
    L, q: new Float64Array(L * DK), k: new Float64Array(L * DK), v: new Float64Array(L * DV), beta: new Float64Array(L),
    G: new Float64Array(L), M: new Float64Array(L * L), P: new Float64Array(L * L), U: new Float64Array(L * DV), W: new Float64Array(L * DK),
  };
  let acc = 0;
  for (let r = 0; r < L; r++) {
    const n = b * T + t0 + r;
    for (let i = 0; i < DK; i++) {
      c.q[r * DK + i] = q[(n * NK + kh) * DK + i];
      c.k[r * DK + i] = k[(n * NK + kh) * DK + i];
    }
    for (let j = 0; j < DV; j++) c.v[r * DV + j] = v[(n * NV + h) * DV + j];
    c.beta[r] = beta[n * NV + h];
    acc += g[n * NV + h];
    c.G[r] = acc;
  }
  for (let r = 0; r < L; r++) {
    for (let s = 0; s <= r; s++) {
      const gam = Math.exp(c.G[r] - c.G[s]);
      if (s < r) c.M[r * L + s] = c.beta[r] * gam * dot(c.k, r * DK, c.k, s * DK, DK);
      c.P[r * L + s] = scale * gam * dot(c.q, r * DK, c.k, s * DK, DK);
    }
  }
  // forward substitution: U_r = beta_r v_r - sum_{s<r} M_rs U_s; W likewise from beta_r exp(G_r) k_r
  for (let r = 0; r < L; r++) {
    for (let j = 0; j < DV; j++) {
      let u = c.beta[r] * c.v[r * DV + j];
      for (let s = 0; s < r; s++) u -= c.M[r * L + s] * c.U[s * DV + j];
      c.U[r * DV + j] = u;
    }
    const e = c.beta[r] * Math.exp(c.G[r]);
    for (let i = 0; i < DK; i++) {
      let w = e * c.k[r * DK + i];
      for (let s = 0; s < r; s++) w -= c.M[r * L + s] * c.W[s * DK + i];
      c.W[r * DK + i] = w;
    }
  }
  return c;
}

/** Delta = U - W S0 (L, DV). */
function deltaOf(c: Chunk, S0: Float64Array, d: GatedDeltaDims): Float64Array {
  const { DK, DV } = d;
  const D = new Float64Array(c.L * DV);
  for (let r = 0; r < c.L; r++) {
    for (let j = 0; j < DV; j++) {
      let x = c.U[r * DV + j];
      for (let i = 0; i < DK; i++) x -= c.W[r * DK + i] * S0[i * DV + j];
      D[r * DV + j] = x;
    }
  }
  return D;
}

/** S0 <- S_end in place. */
function advance(S: Float64Array, c: Chunk, D: Float64Array, d: GatedDeltaDims): void {
  const { DK, DV } = d;
  const GL = c.G[c.L - 1];
  const eL = Math.exp(GL);
  for (let e = 0; e < DK * DV; e++) S[e] *= eL;
  for (let s = 0; s < c.L; s++) {
    const f = Math.exp(GL - c.G[s]);
    for (let i = 0; i < DK; i++) {
      const ki = f * c.k[s * DK + i];
      for (let j = 0; j < DV; j++) S[i * DV + j] += ki * D[s * DV + j];
    }
  }
}

function initialOf(S0: Floats | null, d: GatedDeltaDims, b: number, h: number): Float64Array {
  const SS = d.DK * d.DV;
  const S = new Float64Array(SS);
  if (S0) for (let i = 0; i < SS; i++) S[i] = S0[(b * d.NV + h) * SS + i];
  return S;
}

/** out (B, T, NV, DV) (overwrites); finalState (B, NV, DK, DV) when given (overwrites); initialState null means
 * zero. C: the chunk length. */
export function gatedDeltaChunkForward(
  out: Floats, finalState: Floats | null, q: Floats, k: Floats, v: Floats, g: Floats, beta: Floats,
  initialState: Floats | null, d: GatedDeltaDims, C = GATED_DELTA_CHUNK,
): void {
  checkGatedDeltaDims(d);
  checkChunk(C);
  const { B, T, NV, DK, DV, scale } = d;
  const SS = DK * DV;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NV; h++) {
      const S = initialOf(initialState, d, b, h);
      for (let t0 = 0; t0 < T; t0 += C) {
        const L = Math.min(C, T - t0);
        const c = prep(q, k, v, g, beta, d, b, h, t0, L);
        const D = deltaOf(c, S, d);
        for (let r = 0; r < L; r++) {
          const e = scale * Math.exp(c.G[r]);
          const o = ((b * T + t0 + r) * NV + h) * DV;
          for (let j = 0; j < DV; j++) {
            let x = 0;
            for (let i = 0; i < DK; i++) x += c.q[r * DK + i] * S[i * DV + j];
            x *= e;
            for (let s = 0; s <= r; s++) x += c.P[r * L + s] * D[s * DV + j];
            out[o + j] = x;
          }
        }
        advance(S, c, D, d);
      }
      if (finalState) for (let i = 0; i < SS; i++) finalState[(b * NV + h) * SS + i] = S[i];
    }
  }
}

/** Gradients from dout, as the recurrent reference's gatedDeltaBackward (same arguments, all overwritten; dq, dk
 * summed over the value heads of a query/key head), through the chunked algebra. C: the chunk length. */
export function gatedDeltaChunkBackward(
  dq: Floats, dk: Floats, dv: Floats, dg: Floats, dbeta: Floats, dInitialState: Floats | null,
  dout: Floats, q: Floats, k: Floats, v: Floats, g: Floats, beta: Floats, initialState: Floats | null, d: GatedDeltaDims,
  C = GATED_DELTA_CHUNK,
): void {
  checkGatedDeltaDims(d);
  checkChunk(C);
  const { B, T, NK, NV, DK, DV, scale } = d;
  const SS = DK * DV;
  dq.fill(0);
  dk.fill(0);
  const NC = Math.ceil(T / C);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NV; h++) {
      const kh = keyHeadOf(d, h);
      // the state entering each chunk
      const starts: Float64Array[] = [];
      const S = initialOf(initialState, d, b, h);
      for (let c = 0; c < NC; c++) {
        const t0 = c * C;
        starts.push(S.slice());
        if (c + 1 < NC) {
          const ch = prep(q, k, v, g, beta, d, b, h, t0, Math.min(C, T - t0));
          advance(S, ch, deltaOf(ch, S, d), d);
        }
      }
      const dS = new Float64Array(SS); // dL/dS_end of the chunk being walked
      for (let c = NC - 1; c >= 0; c--) {
        const t0 = c * C;
        const L = Math.min(C, T - t0);
        const ch = prep(q, k, v, g, beta, d, b, h, t0, L);
        const S0 = starts[c];
        const D = deltaOf(ch, S0, d);
        const { G, M, P, U, W } = ch;
        const GL = G[L - 1];
        const dO = new Float64Array(L * DV);
        for (let r = 0; r < L; r++) for (let j = 0; j < DV; j++) dO[r * DV + j] = dout[((b * T + t0 + r) * NV + h) * DV + j];
        const dG = new Float64Array(L);
        const cq = new Float64Array(L * DK);
        const ck = new Float64Array(L * DK);
        const cb = new Float64Array(L);
        // dDelta = P^T dO + exp(GL - G_s) dS^T k_s
        const dD = new Float64Array(L * DV);
        for (let s = 0; s < L; s++) {
          const f = Math.exp(GL - G[s]);
          for (let j = 0; j < DV; j++) {
            let x = 0;
            for (let r = s; r < L; r++) x += P[r * L + s] * dO[r * DV + j];
            for (let i = 0; i < DK; i++) x += f * ch.k[s * DK + i] * dS[i * DV + j];
            dD[s * DV + j] = x;
          }
        }
        // the state term of S_end: exp(GL) S0 and exp(GL - G_s) k_s Delta_s^T
        {
          let x = 0;
          for (let e = 0; e < SS; e++) x += dS[e] * S0[e];
          dG[L - 1] += Math.exp(GL) * x;
          for (let s = 0; s < L; s++) {
            const f = Math.exp(GL - G[s]);
            let cs = 0;
            for (let i = 0; i < DK; i++) {
              const y = dot(dS, i * DV, D, s * DV, DV); // (dS Delta_s)_i
              ck[s * DK + i] += f * y;
              cs += f * ch.k[s * DK + i] * y;
            }
            dG[L - 1] += cs;
            dG[s] -= cs;
          }
        }
        // output: O_r = scale exp(G_r) S0^T q_r + sum_{s<=r} P_rs Delta_s
        for (let r = 0; r < L; r++) {
          const e = scale * Math.exp(G[r]);
          let gq = 0;
          for (let i = 0; i < DK; i++) {
            const y = dot(S0, i * DV, dO, r * DV, DV); // (S0 dO_r)_i
            cq[r * DK + i] += e * y;
            gq += e * ch.q[r * DK + i] * y;
          }
          dG[r] += gq;
          for (let s = 0; s <= r; s++) {
            const Drs = dot(dO, r * DV, D, s * DV, DV);
            const p = P[r * L + s] * Drs;
            dG[r] += p;
            dG[s] -= p;
            const coef = scale * Math.exp(G[r] - G[s]) * Drs;
            for (let i = 0; i < DK; i++) {
              cq[r * DK + i] += coef * ch.k[s * DK + i];
              ck[s * DK + i] += coef * ch.q[r * DK + i];
            }
          }
        }
        // Delta = U - W S0: dU = dDelta, dW = -dDelta S0^T; dS0 = exp(GL) dS + scale sum_r exp(G_r) q_r dO_r^T - W^T dDelta
        const dW = new Float64Array(L * DK);
        for (let r = 0; r < L; r++) for (let i = 0; i < DK; i++) dW[r * DK + i] = -dot(dD, r * DV, S0, i * DV, DV);
        const eL = Math.exp(GL);
        for (let e = 0; e < SS; e++) dS[e] *= eL;
        for (let r = 0; r < L; r++) {
          const e = scale * Math.exp(G[r]);
          for (let i = 0; i < DK; i++) {
            const eq = e * ch.q[r * DK + i];
            const w = W[r * DK + i];
            for (let j = 0; j < DV; j++) dS[i * DV + j] += eq * dO[r * DV + j] - w * dD[r * DV + j];
          }
        }
        // UT transform: (I + M)^T dX = dU, (I + M)^T dY = dW (back substitution)
        const dX = new Float64Array(L * DV);
        const dY = new Float64Array(L * DK);
        for (let s = L - 1; s >= 0; s--) {
          for (let j = 0; j < DV; j++) {
            let x = dD[s * DV + j];
            for (let r = s + 1; r < L; r++) x -= M[r * L + s] * dX[r * DV + j];
            dX[s * DV + j] = x;
          }
          for (let i = 0; i < DK; i++) {
            let y = dW[s * DK + i];
            for (let r = s + 1; r < L; r++) y -= M[r * L + s] * dY[r * DK + i];
            dY[s * DK + i] = y;
          }
        }
        // U = A (beta o V), W = A (beta o exp(G) o K)
        for (let r = 0; r < L; r++) {
          const br = ch.beta[r];
          const e = Math.exp(G[r]);
          for (let j = 0; j < DV; j++) dv[((b * T + t0 + r) * NV + h) * DV + j] = br * dX[r * DV + j];
          const yk = dot(dY, r * DK, ch.k, r * DK, DK);
          cb[r] += dot(dX, r * DV, ch.v, r * DV, DV) + e * yk;
          dG[r] += br * e * yk;
          for (let i = 0; i < DK; i++) ck[r * DK + i] += br * e * dY[r * DK + i];
        }
        // M_rs = beta_r Gam_rs (k_r . k_s), s < r; dM_rs = -(dX_r . U_s + dY_r . W_s)
        for (let r = 1; r < L; r++) {
          for (let s = 0; s < r; s++) {
            const dM = -(dot(dX, r * DV, U, s * DV, DV) + dot(dY, r * DK, W, s * DK, DK));
            const gam = Math.exp(G[r] - G[s]);
            const kk = dot(ch.k, r * DK, ch.k, s * DK, DK);
            cb[r] += dM * gam * kk;
            const e = dM * M[r * L + s];
            dG[r] += e;
            dG[s] -= e;
            const coef = dM * ch.beta[r] * gam;
            for (let i = 0; i < DK; i++) {
              ck[r * DK + i] += coef * ch.k[s * DK + i];
              ck[s * DK + i] += coef * ch.k[r * DK + i];
            }
          }
        }
        // scatter: dg_t = sum_{r >= t} dG_r (G is a cumulative sum)
        let acc = 0;
        for (let r = L - 1; r >= 0; r--) {
          acc += dG[r];
          const n = b * T + t0 + r;
          dg[n * NV + h] = acc;
          dbeta[n * NV + h] = cb[r];
          for (let i = 0; i < DK; i++) {
            dq[(n * NK + kh) * DK + i] += cq[r * DK + i];
            dk[(n * NK + kh) * DK + i] += ck[r * DK + i];
          }
        }
      }
      if (dInitialState) for (let i = 0; i < SS; i++) dInitialState[(b * NV + h) * SS + i] = dS[i];
    }
  }
}
