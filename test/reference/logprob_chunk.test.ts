// The chunked log-prob reference: over any chunking it equals the unchunked logprob_gather reference
// (logp, entropy, lse), and its per-chunk logits gradient matches central finite differences (float64).
import { describe, expect, test } from 'vitest';
import { logprobChunkBackward, logprobChunkForward } from '../../src/reference/logprob_chunk';
import { logprobGatherForward } from '../../src/reference/logprob_gather';
import { Rng } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

function chunked(logits: Float64Array, targets: Uint32Array, temperature: number, n: number, v: number, vc: number) {
  const logp = new Float64Array(n);
  const entropy = new Float64Array(n);
  const lse = new Float64Array(n);
  const state = new Float64Array(4 * n);
  for (let v0 = 0; v0 < v; v0 += vc) {
    const w = Math.min(vc, v - v0);
    logprobChunkForward(logp, entropy, lse, state, sliceCols(logits, n, v, v0, w), targets, v0, v, temperature, n, w);
  }
  return { logp, entropy, lse };
}

function sliceCols(x: Float64Array, n: number, v: number, v0: number, w: number): Float64Array {
  const out = new Float64Array(n * w);
  for (let r = 0; r < n; r++) out.set(x.subarray(r * v + v0, r * v + v0 + w), r * w);
  return out;
}

describe('logprob_chunk reference', () => {
  for (const [n, v, vc, temperature] of [
    [3, 13, 4, 0.7],
    [4, 10, 3, 1],
    [2, 9, 9, 1.3],
  ] as const) {
    const rng = new Rng(300 + v * 7 + vc);
    const logits = Float64Array.from({ length: n * v }, () => 3 * rng.normal());
    const targets = Uint32Array.from({ length: n }, () => rng.int(v));
    if (n > 2) targets[1] = 0xffffffff;

    test(`equals the unchunked reference (N=${n} V=${v} vc=${vc} T=${temperature})`, () => {
      const got = chunked(logits, targets, temperature, n, v, vc);
      const want = { logp: new Float64Array(n), entropy: new Float64Array(n), lse: new Float64Array(n) };
      logprobGatherForward(want.logp, want.entropy, want.lse, logits, targets, temperature, n, v);
      expect(mismatches(got.logp, want.logp, 1e-12, 1e-10, 'logp')).toBe('');
      expect(mismatches(got.entropy, want.entropy, 1e-12, 1e-10, 'entropy')).toBe('');
      expect(mismatches(got.lse, want.lse, 1e-12, 1e-10, 'lse')).toBe('');
      if (n > 2) expect(got.logp[1]).toBe(0);
    });

    test(`dchunk matches finite differences of sum dlogp * logp (N=${n} V=${v} vc=${vc})`, () => {
      const dlogp = Float64Array.from({ length: n }, () => rng.normal());
      const { lse } = chunked(logits, targets, temperature, n, v, vc);
      const loss = () => dotLoss(chunked(logits, targets, temperature, n, v, vc).logp, dlogp);
      const fd = centralDiff(loss, logits, 1e-4);
      const grad = new Float64Array(n * v);
      for (let v0 = 0; v0 < v; v0 += vc) {
        const w = Math.min(vc, v - v0);
        const d = new Float64Array(n * w).fill(123); // overwritten
        logprobChunkBackward(d, dlogp, sliceCols(logits, n, v, v0, w), targets, lse, v0, v, temperature, n, w);
        for (let r = 0; r < n; r++) grad.set(d.subarray(r * w, r * w + w), r * v + v0);
      }
      expect(mismatches(grad, fd, 1e-7, 1e-6, 'dlogits')).toBe('');
      expect(grad.some((g) => Math.abs(g) > 1e-2)).toBe(true);
    });
  }
});
