// CPU reference of the gated delta rule (shaders/gated_delta_forward.wgsl / _backward.wgsl; same argument
// order as src/gpu/kernels/gated_delta.ts), the recurrent form of transformers' torch_recurrent_gated_delta_rule
// with q, k already l2-normalised. Per row b and value head h, state S (DK, DV), from S0 (zero or given):
//   S <- exp(g_t) S;  kv = S^T k_t;  delta = beta_t (v_t - kv);  S <- S + k_t delta^T;  o_t = scale S^T q_t
// q, k (B, T, NK, DK); v, out (B, T, NV, DV); g, beta (B, T, NV); states (B, NV, DK, DV). Float64 sums.

import { checkGatedDeltaDims, keyHeadOf, type GatedDeltaDims } from '../ops/gated_delta';

type Floats = Float32Array | Float64Array;

/** Runs the recurrence of row b, head h; calls step(t, Sprev, Snew, delta, kv) after each token (Sprev is the state
 * before decay; the arrays are reused between calls). */
function scan(
  k: Floats, v: Floats, g: Floats, beta: Floats, S0: Floats | null, d: GatedDeltaDims, b: number, h: number,
  step: (t: number, Sprev: Float64Array, S: Float64Array, delta: Float64Array, kv: Float64Array) => void,
): Float64Array {
  const { T, NK, NV, DK, DV } = d;
  const kh = keyHeadOf(d, h);
  const S = new Float64Array(DK * DV);
  const Sprev = new Float64Array(DK * DV);
  if (S0) for (let i = 0; i < DK * DV; i++) S[i] = S0[(b * NV + h) * DK * DV + i];
  const kv = new Float64Array(DV);
  const delta = new Float64Array(DV);
  for (let t = 0; t < T; t++) {
    const n = b * T + t;
    const kOff = (n * NK + kh) * DK;
    const vOff = (n * NV + h) * DV;
    const decay = Math.exp(g[n * NV + h]);
    Sprev.set(S);
    for (let i = 0; i < DK * DV; i++) S[i] *= decay;
    kv.fill(0);
    for (let i = 0; i < DK; i++) for (let j = 0; j < DV; j++) kv[j] += S[i * DV + j] * k[kOff + i];
    for (let j = 0; j < DV; j++) delta[j] = beta[n * NV + h] * (v[vOff + j] - kv[j]);
    for (let i = 0; i < DK; i++) for (let j = 0; j < DV; j++) S[i * DV + j] += k[kOff + i] * delta[j];
    step(t, Sprev, S, delta, kv);
  }
  return S;
}

/** out (B, T, NV, DV) = scale S_t^T q_t (overwrites); finalState (B, NV, DK, DV) when given (overwrites);
 * initialState null means zero. */
export function gatedDeltaForward(
  out: Floats, finalState: Floats | null, q: Floats, k: Floats, v: Floats, g: Floats, beta: Floats,
  initialState: Floats | null, d: GatedDeltaDims,
): void {
  checkGatedDeltaDims(d);
  const { B, T, NK, NV, DK, DV, scale } = d;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NV; h++) {
      const kh = keyHeadOf(d, h);
      const S = scan(k, v, g, beta, initialState, d, b, h, (t, _Sprev, St) => {
        const n = b * T + t;
        const qOff = (n * NK + kh) * DK;
        for (let j = 0; j < DV; j++) {
          let acc = 0;
          for (let i = 0; i < DK; i++) acc += St[i * DV + j] * q[qOff + i];
          out[(n * NV + h) * DV + j] = scale * acc;
        }
      });
      if (finalState) for (let i = 0; i < DK * DV; i++) finalState[(b * NV + h) * DK * DV + i] = S[i];
    }
  }
}

/** Gradients from dout (B, T, NV, DV): dq, dk (B, T, NK, DK), dv (B, T, NV, DV), dg, dbeta (B, T, NV), and
 * dInitialState (B, NV, DK, DV) when given. All overwrite (dq and dk sum over the NV / NK value heads that
 * share a query/key head). Walks T in reverse with the states recomputed by a forward scan. */
export function gatedDeltaBackward(
  dq: Floats, dk: Floats, dv: Floats, dg: Floats, dbeta: Floats, dInitialState: Floats | null,
  dout: Floats, q: Floats, k: Floats, v: Floats, g: Floats, beta: Floats, initialState: Floats | null, d: GatedDeltaDims,
): void {
  checkGatedDeltaDims(d);
  const { B, T, NK, NV, DK, DV, scale } = d;
  dq.fill(0);
  dk.fill(0);
  const SS = DK * DV;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NV; h++) {
      const kh = keyHeadOf(d, h);
      // every state S_t (after token t) and S_{t-1} before decay, and each token's delta and kv
      const prev = new Float64Array(T * SS);
      const post = new Float64Array(T * SS);
      const deltas = new Float64Array(T * DV);
      const kvs = new Float64Array(T * DV);
      scan(k, v, g, beta, initialState, d, b, h, (t, Sprev, St, delta, kv) => {
        prev.set(Sprev, t * SS);
        post.set(St, t * SS);
        deltas.set(delta, t * DV);
        kvs.set(kv, t * DV);
      });
      const dS = new Float64Array(SS); // d loss / d S_t, walking back
      const ddelta = new Float64Array(DV);
      for (let t = T - 1; t >= 0; t--) {
        const n = b * T + t;
        const qOff = (n * NK + kh) * DK;
        const kOff = qOff;
        const vOff = (n * NV + h) * DV;
        const gi = n * NV + h;
        const decay = Math.exp(g[gi]);
        const St = post.subarray(t * SS, (t + 1) * SS);
        const Sp = prev.subarray(t * SS, (t + 1) * SS);
        // o_t = scale S_t^T q_t
        for (let i = 0; i < DK; i++) {
          let acc = 0;
          for (let j = 0; j < DV; j++) {
            const dO = dout[vOff + j];
            dS[i * DV + j] += scale * q[qOff + i] * dO;
            acc += St[i * DV + j] * dO;
          }
          dq[qOff + i] += scale * acc;
        }
        // S_t = A + k delta^T, A = decay * Sp
        ddelta.fill(0);
        for (let i = 0; i < DK; i++) {
          let acc = 0;
          for (let j = 0; j < DV; j++) {
            ddelta[j] += dS[i * DV + j] * k[kOff + i];
            acc += dS[i * DV + j] * deltas[t * DV + j];
          }
          dk[kOff + i] += acc;
        }
        // delta = beta (v - A^T k)
        let db = 0;
        for (let j = 0; j < DV; j++) {
          db += ddelta[j] * (v[vOff + j] - kvs[t * DV + j]);
          dv[vOff + j] = beta[gi] * ddelta[j];
        }
        dbeta[gi] = db;
        // dkv = -beta ddelta: dA += k dkv^T, dk += A dkv
        for (let i = 0; i < DK; i++) {
          let acc = 0;
          for (let j = 0; j < DV; j++) {
            const dkv = -beta[gi] * ddelta[j];
            dS[i * DV + j] += k[kOff + i] * dkv;
            acc += decay * Sp[i * DV + j] * dkv;
          }
          dk[kOff + i] += acc;
        }
        // A = decay * Sp: dg = sum dA * A; dSp = decay * dA
        let dgAcc = 0;
        for (let i = 0; i < SS; i++) {
          dgAcc += dS[i] * decay * Sp[i];
          dS[i] *= decay;
        }
        dg[gi] = dgAcc;
      }
      if (dInitialState) for (let i = 0; i < SS; i++) dInitialState[(b * NV + h) * SS + i] = dS[i];
    }
  }
}
