// CPU reference of cross_entropy_forward.wgsl / cross_entropy_backward.wgsl, same argument order as the host
// wrappers in src/gpu/kernels/cross_entropy.ts, with N and V explicit. Row sums run in float64; pass
// Float64Arrays to get float64 results (finite-difference tests do). Targets >= V (IGNORE_INDEX) are ignored.

export type Floats = Float32Array | Float64Array;

/** lse[n] = logsumexp(logits[n]); loss[n] = lse[n] - logits[n, targets[n]], 0 where targets[n] >= V. */
export function crossEntropyForward(loss: Floats, lse: Floats, logits: Floats, targets: Uint32Array, n: number, v: number): void {
  for (let row = 0; row < n; row++) {
    const base = row * v;
    let m = -Infinity;
    for (let j = 0; j < v; j++) m = Math.max(m, logits[base + j]);
    let s = 0;
    for (let j = 0; j < v; j++) s += Math.exp(logits[base + j] - m);
    const logS = Math.log(s);
    lse[row] = m + logS;
    const target = targets[row];
    loss[row] = target < v ? logS - (logits[base + target] - m) : 0;
  }
}

/** dlogits[n, j] = dloss[n] * (exp(logits[n, j] - lse[n]) - 1[j == targets[n]]); zero rows where targets[n] >= V. */
export function crossEntropyBackward(
  dlogits: Floats,
  dloss: Floats,
  logits: Floats,
  targets: Uint32Array,
  lse: Floats,
  n: number,
  v: number,
): void {
  for (let row = 0; row < n; row++) {
    const target = targets[row];
    for (let j = 0; j < v; j++) {
      const i = row * v + j;
      dlogits[i] = target < v ? dloss[row] * (Math.exp(logits[i] - lse[row]) - (j === target ? 1 : 0)) : 0;
    }
  }
}
