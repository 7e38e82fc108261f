// The log-prob gather reference: its logits gradient against central finite differences (float64), and its
// log-probs and entropy against formulas written out directly.
import { describe, expect, test } from 'vitest';
import { logprobGatherBackward, logprobGatherForward } from '../../src/reference/logprob_gather';
import { Rng } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

function forward(logits: Float64Array, targets: Uint32Array, temperature: number, n: number, v: number) {
  const logp = new Float64Array(n);
  const entropy = new Float64Array(n);
  const lse = new Float64Array(n);
  logprobGatherForward(logp, entropy, lse, logits, targets, temperature, n, v);
  return { logp, entropy, lse };
}

/** softmax(logits[row] / temperature), written out in float64 */
function softmaxRow(logits: ArrayLike<number>, row: number, v: number, temperature: number): number[] {
  const z = Array.from({ length: v }, (_, j) => logits[row * v + j] / temperature);
  const m = Math.max(...z);
  const e = z.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

describe('logprob_gather reference', () => {
  for (const [n, v, temperature] of [
    [1, 7, 1],
    [3, 13, 0.7],
    [4, 5, 1.3],
  ] as const) {
    test(`dlogits matches finite differences of sum dlogp * logp (N=${n} V=${v} T=${temperature})`, () => {
      const rng = new Rng(200 + v);
      const logits = Float64Array.from({ length: n * v }, () => 2 * rng.normal());
      const targets = Uint32Array.from({ length: n }, () => rng.int(v));
      if (n > 2) targets[1] = 0xffffffff; // no target: logp 0, no gradient
      const dlogp = Float64Array.from({ length: n }, () => rng.normal());
      const loss = () => dotLoss(forward(logits, targets, temperature, n, v).logp, dlogp);
      const { lse } = forward(logits, targets, temperature, n, v);
      const dlogits = new Float64Array(n * v).fill(123); // overwritten
      logprobGatherBackward(dlogits, dlogp, logits, targets, lse, temperature, n, v);
      const fd = centralDiff(loss, logits, 1e-4);
      expect(mismatches(dlogits, fd, 1e-7, 1e-6, 'dlogits')).toBe('');
      if (n > 2) expect([...dlogits.subarray(v, 2 * v)].every((g) => g === 0)).toBe(true);
      expect(dlogits.some((g) => Math.abs(g) > 1e-2)).toBe(true);
    });
  }

  test('logp, lse and entropy equal the direct formulas; a row without a target gets logp 0', () => {
    const rng = new Rng(3);
    const [n, v, temperature] = [3, 11, 0.7];
    const logits = Float64Array.from({ length: n * v }, () => 3 * rng.normal());
    const targets = Uint32Array.from([4, 0xffffffff, 10]);
    const { logp, entropy, lse } = forward(logits, targets, temperature, n, v);
    for (let row = 0; row < n; row++) {
      const p = softmaxRow(logits, row, v, temperature);
      const h = -p.reduce((acc, pj) => acc + pj * Math.log(pj), 0);
      expect(entropy[row]).toBeCloseTo(h, 12);
      let s = 0;
      for (let j = 0; j < v; j++) s += Math.exp(logits[row * v + j] / temperature);
      expect(lse[row]).toBeCloseTo(Math.log(s), 12);
      if (targets[row] < v) expect(logp[row]).toBeCloseTo(Math.log(p[targets[row]]), 12);
      else expect(logp[row]).toBe(0);
    }
  });

  test('entropy of hand-made rows: known distributions, uniform = log V, one-hot ~ 0', () => {
    const v = 4;
    const probs = [0.1, 0.2, 0.3, 0.4];
    const logits = new Float64Array([
      ...probs.map((p) => Math.log(p) + 7), // shifted: softmax is unchanged
      5, 5, 5, 5,
      0, -200, -200, -200,
    ]);
    const { logp, entropy } = forward(logits, Uint32Array.from([3, 2, 0]), 1, 3, v);
    expect(entropy[0]).toBeCloseTo(-(0.1 * Math.log(0.1) + 0.2 * Math.log(0.2) + 0.3 * Math.log(0.3) + 0.4 * Math.log(0.4)), 12);
    expect(entropy[0]).toBeCloseTo(1.2798542258336676, 12);
    expect(logp[0]).toBeCloseTo(Math.log(0.4), 12);
    expect(entropy[1]).toBeCloseTo(Math.log(4), 12);
    expect(logp[1]).toBeCloseTo(-Math.log(4), 12);
    expect(entropy[2]).toBeLessThan(1e-80);
    expect(entropy[2]).toBeGreaterThanOrEqual(0);
    expect(logp[2]).toBeCloseTo(0, 12);
  });

  test('temperature divides the logits: T = 2 on logits 2z equals T = 1 on z', () => {
    const rng = new Rng(4);
    const z = Float64Array.from({ length: 9 }, () => rng.normal());
    const a = forward(z, Uint32Array.from([5]), 1, 1, 9);
    const b = forward(z.map((x) => 2 * x), Uint32Array.from([5]), 2, 1, 9);
    expect(b.logp[0]).toBeCloseTo(a.logp[0], 12);
    expect(b.entropy[0]).toBeCloseTo(a.entropy[0], 12);
  });

  test('logits of magnitude 80 at T = 0.7 give finite results in float32', () => {
    const v = 6;
    const logits = new Float32Array([80, 79, -80, 81, 0, 80.5, -80, -81, -79, -80, -80.5, -90]);
    const logp = new Float32Array(2);
    const entropy = new Float32Array(2);
    const lse = new Float32Array(2);
    const targets = Uint32Array.from([3, 2]);
    logprobGatherForward(logp, entropy, lse, logits, targets, 0.7, 2, v);
    const dlogits = new Float32Array(2 * v);
    logprobGatherBackward(dlogits, new Float32Array([1, -1]), logits, targets, lse, 0.7, 2, v);
    for (const x of [...logp, ...entropy, ...lse, ...dlogits]) expect(Number.isFinite(x)).toBe(true);
    expect(lse[0]).toBeGreaterThan(81 / 0.7);
    expect(logp[0]).toBeLessThan(0);
    // a row of probabilities: the gradient of logp sums to zero over the row
    expect(Math.abs(dlogits.slice(0, v).reduce((a, b) => a + b, 0))).toBeLessThan(1e-5);
  });
});
