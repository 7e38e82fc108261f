// The fused residual add + RMSNorm reference: its backward against finite differences of the forward.
import { describe, expect, test } from 'vitest';
import { addRmsnormBackward, addRmsnormForward } from '../../src/reference/add_rmsnorm';
import { Rng, randn } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

describe('add_rmsnorm reference', () => {
  test('forward: h = a + b, out = rmsnorm(h) * w', () => {
    const h = new Float64Array(2);
    const out = new Float64Array(2);
    const rstd = new Float64Array(1);
    addRmsnormForward(h, out, rstd, Float64Array.from([1, 3]), Float64Array.from([2, 1]), Float64Array.from([1, 2]), 1, 2, 0.5);
    const r = 1 / Math.sqrt((9 + 16) / 2 + 0.5);
    expect(Array.from(h)).toEqual([3, 4]);
    expect(rstd[0]).toBeCloseTo(r, 15);
    expect(out[1]).toBeCloseTo(8 * r, 15);
  });

  test('backward (+=) matches finite differences for da, db and dweight', () => {
    const rng = new Rng(41);
    const [N, C, eps] = [3, 6, 1e-5];
    const a = Float64Array.from(randn(N * C, rng));
    const b = Float64Array.from(randn(N * C, rng));
    const weight = Float64Array.from(randn(C, rng)).map((w) => w + 1);
    const Gh = Float64Array.from(randn(N * C, rng)); // loss sees h (the residual stream) ...
    const Go = Float64Array.from(randn(N * C, rng)); // ... and the normalised output
    const h = new Float64Array(N * C);
    const out = new Float64Array(N * C);
    const rstd = new Float64Array(N);
    const loss = () => {
      addRmsnormForward(h, out, rstd, a, b, weight, N, C, eps);
      return dotLoss(h, Gh) + dotLoss(out, Go);
    };
    const fdA = centralDiff(loss, a, 1e-4);
    const fdB = centralDiff(loss, b, 1e-4);
    const fdW = centralDiff(loss, weight, 1e-4);
    loss();
    const da0 = Float64Array.from(randn(N * C, rng));
    const da = da0.slice();
    const db = new Float64Array(N * C);
    const dw = new Float64Array(C);
    addRmsnormBackward(da, db, dw, Gh, Go, h, weight, rstd, N, C);
    expect(mismatches(da.map((v, i) => v - da0[i]), fdA, 1e-7, 1e-6, 'da')).toBe('');
    expect(mismatches(db, fdB, 1e-7, 1e-6, 'db')).toBe('');
    expect(mismatches(dw, fdW, 1e-7, 1e-6, 'dweight')).toBe('');
  });
});
