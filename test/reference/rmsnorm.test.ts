// The RMSNorm references: a hand-computed forward, and dx / dweight against finite differences.
import { describe, expect, test } from 'vitest';
import { rmsnormBackward, rmsnormForward } from '../../src/reference/rmsnorm';
import { Rng, randn } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

describe('rmsnorm reference', () => {
  test('forward by hand: x = (3, 4), w = (1, 2), eps = 0.5', () => {
    const out = new Float64Array(2);
    const rstd = new Float64Array(1);
    rmsnormForward(out, rstd, Float64Array.from([3, 4]), Float64Array.from([1, 2]), 1, 2, 0.5);
    const r = 1 / Math.sqrt((9 + 16) / 2 + 0.5); // 1/sqrt(13)
    expect(rstd[0]).toBeCloseTo(r, 15);
    expect(out[0]).toBeCloseTo(3 * r, 15);
    expect(out[1]).toBeCloseTo(8 * r, 15);
  });

  test('backward (+=) matches finite differences for dx and dweight', () => {
    const rng = new Rng(22);
    const [N, C, eps] = [4, 7, 1e-5];
    const x = Float64Array.from(randn(N * C, rng));
    const weight = Float64Array.from(randn(C, rng)).map((w) => w + 1);
    const G = Float64Array.from(randn(N * C, rng));
    const out = new Float64Array(N * C);
    const rstd = new Float64Array(N);
    const loss = () => {
      rmsnormForward(out, rstd, x, weight, N, C, eps);
      return dotLoss(out, G);
    };
    const fdX = centralDiff(loss, x, 1e-4);
    const fdW = centralDiff(loss, weight, 1e-4);
    loss(); // rstd at the unperturbed point
    const dx0 = Float64Array.from(randn(N * C, rng));
    const dw0 = Float64Array.from(randn(C, rng));
    const dx = dx0.slice();
    const dw = dw0.slice();
    rmsnormBackward(dx, dw, G, x, weight, rstd, N, C);
    expect(mismatches(dx.map((v, i) => v - dx0[i]), fdX, 1e-7, 1e-6, 'dx')).toBe('');
    expect(mismatches(dw.map((v, i) => v - dw0[i]), fdW, 1e-7, 1e-6, 'dweight')).toBe('');
    // without dweight, dx is the same
    const dxOnly = dx0.slice();
    rmsnormBackward(dxOnly, null, G, x, weight, rstd, N, C);
    expect(Array.from(dxOnly)).toEqual(Array.from(dx));
  });

  test('(1 + w) form (offset 1, Gemma): forward by hand and backward against finite differences', () => {
    const out = new Float64Array(2);
    const rstd = new Float64Array(1);
    rmsnormForward(out, rstd, Float64Array.from([3, 4]), Float64Array.from([0, 1]), 1, 2, 0.5, 1);
    const r = 1 / Math.sqrt(13);
    expect(out[0]).toBeCloseTo(3 * r, 15);
    expect(out[1]).toBeCloseTo(8 * r, 15);
    const rng = new Rng(23);
    const [N, C, eps] = [5, 6, 1e-6];
    const x = Float64Array.from(randn(N * C, rng));
    const weight = Float64Array.from(randn(C, rng, 0.3));
    const G = Float64Array.from(randn(N * C, rng));
    const o = new Float64Array(N * C);
    const rs = new Float64Array(N);
    const loss = () => {
      rmsnormForward(o, rs, x, weight, N, C, eps, 1);
      return dotLoss(o, G);
    };
    const fdX = centralDiff(loss, x, 1e-4);
    const fdW = centralDiff(loss, weight, 1e-4);
    loss();
    const dx = new Float64Array(N * C);
    const dw = new Float64Array(C);
    rmsnormBackward(dx, dw, G, x, weight, rs, N, C, 1);
    expect(mismatches(dx, fdX, 1e-7, 1e-6, 'dx')).toBe('');
    expect(mismatches(dw, fdW, 1e-7, 1e-6, 'dweight')).toBe('');
  });
});
