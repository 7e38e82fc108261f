// entropy_backward's reference against central finite differences of the entropy (logprob_gather's forward).
import { describe, expect, test } from 'vitest';
import { entropyBackward } from '../../src/reference/entropy';
import { logprobGatherForward } from '../../src/reference/logprob_gather';
import { Rng } from '../../src/util/random';

describe('entropy backward reference', () => {
  test('d (sum_n c_n H_n) / d logits by central differences', () => {
    const rng = new Rng(5);
    const n = 3;
    const v = 9;
    const temperature = 0.8;
    const logits = Float64Array.from({ length: n * v }, () => 2 * rng.normal());
    const c = Float64Array.from([0.7, 0, -1.3]);
    const objective = (x: Float64Array) => {
      const lp = new Float64Array(n);
      const h = new Float64Array(n);
      const lse = new Float64Array(n);
      logprobGatherForward(lp, h, lse, x, new Uint32Array(n), temperature, n, v);
      return { value: h.reduce((a, e, i) => a + c[i] * e, 0), h, lse };
    };
    const { h, lse } = objective(logits);
    const grad = new Float64Array(n * v).fill(0.25); // accumulates onto what is there
    entropyBackward(grad, c, logits, lse, h, temperature, n, v);
    const eps = 1e-6;
    for (let i = 0; i < n * v; i++) {
      const orig = logits[i];
      logits[i] = orig + eps;
      const up = objective(logits).value;
      logits[i] = orig - eps;
      const dn = objective(logits).value;
      logits[i] = orig;
      expect(grad[i] - 0.25).toBeCloseTo((up - dn) / (2 * eps), 6);
    }
  });
});
