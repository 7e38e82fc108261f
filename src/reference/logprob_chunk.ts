// CPU reference of logprob_chunk_forward.wgsl / logprob_chunk_backward.wgsl, same argument order as the host
// wrappers in src/gpu/kernels/logprob_chunk.ts with N, vc, v0, v explicit. Float64 inside; pass Float64Arrays
// for float64 results (the finite-difference tests do).

export type Floats = Float32Array | Float64Array;

/** Folds chunk (n, vc) = logits[:, v0:v0+vc] / temperature into state (n, 4) = (m, s, t, zt) (reset when v0 = 0);
 * on the last chunk (v0 + vc = v) writes lse = m + log s, entropy = log s - t / s, logp = zt - lse (0 if target >= v). */
export function logprobChunkForward(
  logp: Floats,
  entropy: Floats,
  lse: Floats,
  state: Floats,
  chunk: Floats,
  targets: Uint32Array,
  v0: number,
  v: number,
  temperature: number,
  n: number,
  vc: number,
): void {
  for (let row = 0; row < n; row++) {
    let m = v0 > 0 ? state[row * 4] : -Infinity;
    let s = v0 > 0 ? state[row * 4 + 1] : 0;
    let t = v0 > 0 ? state[row * 4 + 2] : 0;
    let zt = v0 > 0 ? state[row * 4 + 3] : 0;
    for (let j = 0; j < vc; j++) {
      const z = chunk[row * vc + j] / temperature;
      if (z > m) {
        // rescale (s, t) from max m to max z: t' = c (t + (m - z) s), s' = c s, c = exp(m - z)
        const c = s === 0 ? 0 : Math.exp(m - z);
        t = s === 0 ? 0 : c * (t + (m - z) * s);
        s = s * c;
        m = z;
      }
      const d = z - m;
      const e = Math.exp(d);
      s += e;
      t += e * d;
    }
    const target = targets[row];
    if (target >= v0 && target < v0 + vc) zt = chunk[row * vc + target - v0] / temperature;
    state[row * 4] = m;
    state[row * 4 + 1] = s;
    state[row * 4 + 2] = t;
    state[row * 4 + 3] = zt;
    if (v0 + vc === v) {
      const logS = Math.log(s);
      lse[row] = m + logS;
      entropy[row] = logS - t / s;
      logp[row] = target < v ? zt - lse[row] : 0;
    }
  }
}

/** dchunk[n, j] = dlogp[n] * (1[v0 + j == targets[n]] - p_j) / temperature, p_j = exp(chunk[n, j] / T - lse[n]);
 * a zero row where targets[n] >= v. Overwrites dchunk. */
export function logprobChunkBackward(
  dchunk: Floats,
  dlogp: Floats,
  chunk: Floats,
  targets: Uint32Array,
  lse: Floats,
  v0: number,
  v: number,
  temperature: number,
  n: number,
  vc: number,
): void {
  for (let row = 0; row < n; row++) {
    const target = targets[row];
    for (let j = 0; j < vc; j++) {
      const i = row * vc + j;
      if (target >= v) {
        dchunk[i] = 0;
        continue;
      }
      const p = Math.exp(chunk[i] / temperature - lse[row]);
      dchunk[i] = (dlogp[row] * ((v0 + j === target ? 1 : 0) - p)) / temperature;
    }
  }
}
