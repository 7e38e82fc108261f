// maj@k: the share of prompts whose majority answer over k samples is right (self-consistency, Wang et al.
// 2022, arXiv 2203.11171; "maj1@k" in Minerva, Lewkowycz et al. 2022, arXiv 2206.14858). A prompt's samples
// vote with their extracted answers (rewards/majority.ts answerKey); samples without an answer do not vote.
// An answer is right as far as its samples passed (the share of them that did: one number when the passing
// reward depends on the answer alone). Ties are split evenly: with m answers tied for the most votes the
// prompt scores the mean of their rightness, the expected score of breaking the tie at random. No answer
// at all scores 0. maj@k uses each prompt's first k samples (one draw of k, as mean@k does), not an
// average over all subsets of k.

export interface MajSample {
  /** the extracted answer; null when the sample gives none */
  key: string | null;
  pass: boolean;
}

/** maj@k of one prompt from its first k samples. */
export function majAtK(samples: readonly MajSample[], k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > samples.length) throw new Error(`maj@k needs 1 <= k <= ${samples.length} samples, got k=${k}`);
  const votes = new Map<string, { n: number; passed: number }>();
  for (const s of samples.slice(0, k)) {
    if (s.key === null) continue;
    const v = votes.get(s.key) ?? { n: 0, passed: 0 };
    v.n++;
    if (s.pass) v.passed++;
    votes.set(s.key, v);
  }
  if (votes.size === 0) return 0;
  const top = Math.max(...[...votes.values()].map((v) => v.n));
  const tied = [...votes.values()].filter((v) => v.n === top);
  return tied.reduce((a, v) => a + v.passed / v.n, 0) / tied.length;
}

/** "maj@1" ... "maj@n" averaged over prompts; `samples[p][j]` is prompt p's sample j, n samples each. */
export function majAtKTable(samples: readonly (readonly MajSample[])[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (samples.length === 0) return out;
  const n = samples[0].length;
  for (const p of samples) if (p.length !== n) throw new Error(`maj@k needs the same number of samples per prompt: ${p.length} and ${n}`);
  for (let k = 1; k <= n; k++) out[`maj@${k}`] = samples.reduce((a, p) => a + majAtK(p, k), 0) / samples.length;
  return out;
}
