// CPU reference of entropy_backward.wgsl (same argument order as the host wrapper, N and V explicit).
// The forward (entropy of softmax(logits / temperature)) is logprobGatherForward in logprob_gather.ts.
import type { Floats } from './logprob_gather';

/** dlogits[n, j] += dentropy[n] * -p_j (log p_j + H_n) / temperature, log p_j = logits[n, j] / temperature - lse[n]. */
export function entropyBackward(
  dlogits: Floats, dentropy: Floats, logits: Floats, lse: Floats, entropy: Floats, temperature: number, n: number, v: number,
): void {
  for (let row = 0; row < n; row++) {
    const d = dentropy[row];
    if (d === 0) continue;
    for (let j = 0; j < v; j++) {
      const i = row * v + j;
      const lp = logits[i] / temperature - lse[row];
      dlogits[i] -= (d * Math.exp(lp) * (lp + entropy[row])) / temperature;
    }
  }
}
