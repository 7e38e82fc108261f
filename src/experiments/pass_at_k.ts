// pass@k and mean@k from n samples per prompt (Chen et al. 2021, "Evaluating Large Language Models
// Trained on Code", arXiv 2107.03374, section 2.1). With n samples of which c pass, the unbiased
// estimate of the chance that at least one of k samples passes is
//   pass@k = 1 - C(n-c, k) / C(n, k),
// computed as the product 1 - prod_{i=n-c+1..n} (1 - k/i), which never forms a large binomial.
// mean@k is the mean share of passing samples among a prompt's first k samples (k samples' average
// accuracy, an estimate of pass@1 whose variance falls as k grows). Both are averaged over prompts.

/** Unbiased pass@k of one prompt with n samples, c of them passing (1 <= k <= n). */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new Error(`pass@k needs whole numbers with 0 <= c <= n and 1 <= k <= n, got n=${n}, c=${c}, k=${k}`);
  }
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/** Every k from 1 to n: pass@k and mean@k averaged over prompts. `passes[p][j]` is whether prompt p's
 * sample j passed; every prompt has the same number n of samples. Keys: "pass@1", ..., "mean@n". */
export function passAtKTable(passes: readonly (readonly boolean[])[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (passes.length === 0) return out;
  const n = passes[0].length;
  if (n === 0) throw new Error('pass@k needs at least one sample per prompt');
  for (const p of passes) if (p.length !== n) throw new Error(`pass@k needs the same number of samples per prompt: ${p.length} and ${n}`);
  for (let k = 1; k <= n; k++) {
    let pass = 0;
    let meanK = 0;
    for (const p of passes) {
      const c = p.filter(Boolean).length;
      pass += passAtK(n, c, k);
      meanK += p.slice(0, k).filter(Boolean).length / k;
    }
    out[`pass@${k}`] = pass / passes.length;
    out[`mean@${k}`] = meanK / passes.length;
  }
  return out;
}
