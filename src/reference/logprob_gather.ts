// CPU reference of logprob_gather_forward.wgsl / logprob_gather_backward.wgsl, same argument order as the
// host wrappers in src/gpu/kernels/logprob_gather.ts, with N and V explicit. Row sums run in float64; pass
// Float64Arrays to get float64 results (finite-difference tests do).

export type Floats = Float32Array | Float64Array;

/** z = logits[n] / temperature; lse[n] = logsumexp(z); logp[n] = z[targets[n]] - lse[n] (0 where targets[n] >= V);
 *  entropy[n] = -sum_j p_j log p_j with p = softmax(z). */
export function logprobGatherForward(
  logp: Floats,
  entropy: Floats,
  lse: Floats,
  logits: Floats,
  targets: Uint32Array,
  temperature: number,
  n: number,
  v: number,
): void {
  for (let row = 0; row < n; row++) {
    const base = row * v;
    let m = -Infinity;
    for (let j = 0; j < v; j++) m = Math.max(m, logits[base + j] / temperature);
    let s = 0;
    let t = 0;
    for (let j = 0; j < v; j++) {
      const d = logits[base + j] / temperature - m;
      const e = Math.exp(d);
      s += e;
      t += e * d;
    }
    const logS = Math.log(s);
    lse[row] = m + logS;
    // log p_j = d_j - log s, so -sum p_j log p_j = log s - sum e_j d_j / s
    entropy[row] = logS - t / s;
    const target = targets[row];
    logp[row] = target < v ? logits[base + target] / temperature - m - logS : 0;
  }
}

/** dlogits[n, j] = dlogp[n] * (1[j == targets[n]] - p_j) / temperature, p_j = exp(logits[n, j] / temperature - lse[n]);
 *  a zero row where targets[n] >= V. Overwrites dlogits. */
export function logprobGatherBackward(
  dlogits: Floats,
  dlogp: Floats,
  logits: Floats,
  targets: Uint32Array,
  lse: Floats,
  temperature: number,
  n: number,
  v: number,
): void {
  for (let row = 0; row < n; row++) {
    const target = targets[row];
    for (let j = 0; j < v; j++) {
      const i = row * v + j;
      if (target >= v) {
        dlogits[i] = 0;
        continue;
      }
      const p = Math.exp(logits[i] / temperature - lse[row]);
      dlogits[i] = (dlogp[row] * ((j === target ? 1 : 0) - p)) / temperature;
    }
  }
}
