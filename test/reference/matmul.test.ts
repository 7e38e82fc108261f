// The matmul CPU reference: its backward against central finite differences (float64), and its transpose,
// bias, alpha and accumulate options against plain definitions.
import { describe, expect, test } from 'vitest';
import { matmul, matmulBackward } from '../../src/reference/matmul';
import { Rng } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

function randn64(n: number, rng: Rng): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.normal();
  return x;
}

/** The stored transpose of each (rows, cols) matrix of a batch. */
function transposeBatch(x: Float64Array, batches: number, rows: number, cols: number): Float64Array {
  const t = new Float64Array(x.length);
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[b * rows * cols + j * rows + i] = x[b * rows * cols + i * cols + j];
  }
  return t;
}

interface GradCase {
  Bt: number;
  M: number;
  K: number;
  N: number;
  sharedA?: boolean;
  sharedB?: boolean;
}

function checkGradients(c: GradCase, seed: number): string {
  const { Bt, M, K, N } = c;
  const rng = new Rng(seed);
  const a = randn64((c.sharedA ? 1 : Bt) * M * K, rng);
  const b = randn64((c.sharedB ? 1 : Bt) * K * N, rng);
  const g = randn64(Bt * M * N, rng); // dL/dout for L = <out, g>
  const out = new Float64Array(Bt * M * N);
  const loss = (): number => {
    matmul(out, a, b, Bt, M, K, N);
    return dotLoss(out, g);
  };
  // matmulBackward accumulates: start from a known non-zero gradient and subtract it afterwards.
  const da0 = randn64(a.length, rng);
  const db0 = randn64(b.length, rng);
  const da = da0.slice();
  const db = db0.slice();
  matmulBackward(da, db, g, a, b, Bt, M, K, N);
  for (let i = 0; i < da.length; i++) da[i] -= da0[i];
  for (let i = 0; i < db.length; i++) db[i] -= db0[i];
  // The loss is bilinear, so central differences are exact up to rounding.
  return [
    mismatches(da, centralDiff(loss, a, 1e-3), 1e-7, 1e-7, 'da'),
    mismatches(db, centralDiff(loss, b, 1e-3), 1e-7, 1e-7, 'db'),
  ]
    .filter(Boolean)
    .join('\n');
}

describe('matmul reference', () => {
  test.each([
    { Bt: 1, M: 1, K: 1, N: 1 },
    { Bt: 1, M: 3, K: 4, N: 5 },
    { Bt: 2, M: 4, K: 3, N: 2 },
    { Bt: 3, M: 2, K: 5, N: 3, sharedB: true },
    { Bt: 3, M: 3, K: 2, N: 4, sharedA: true },
  ])('backward matches finite differences: %o', (c) => {
    expect(checkGradients(c, 11 + c.M * 7 + c.K)).toBe('');
  });

  test('backward of a shared operand sums over the batches', () => {
    const rng = new Rng(5);
    const Bt = 3, M = 2, K = 3, N = 2;
    const a = randn64(Bt * M * K, rng);
    const b = randn64(K * N, rng);
    const g = randn64(Bt * M * N, rng);
    const da = new Float64Array(a.length);
    const db = new Float64Array(b.length);
    matmulBackward(da, db, g, a, b, Bt, M, K, N);
    const dbSum = new Float64Array(K * N);
    for (let t = 0; t < Bt; t++) {
      const dbt = new Float64Array(K * N);
      matmulBackward(new Float64Array(M * K), dbt, g.subarray(t * M * N), a.subarray(t * M * K), b, 1, M, K, N);
      for (let i = 0; i < dbt.length; i++) dbSum[i] += dbt[i];
    }
    expect(mismatches(db, dbSum, 1e-12, 1e-12, 'db')).toBe('');
  });

  test('transA / transB read the stored transposes', () => {
    const rng = new Rng(9);
    const Bt = 2, M = 3, K = 4, N = 5;
    const a = randn64(Bt * M * K, rng);
    const b = randn64(Bt * K * N, rng);
    const want = new Float64Array(Bt * M * N);
    matmul(want, a, b, Bt, M, K, N);
    const aT = transposeBatch(a, Bt, M, K); // (Bt, K, M)
    const bT = transposeBatch(b, Bt, K, N); // (Bt, N, K)
    for (const [transA, transB] of [[true, false], [false, true], [true, true]]) {
      const got = new Float64Array(Bt * M * N);
      matmul(got, transA ? aT : a, transB ? bT : b, Bt, M, K, N, { transA, transB });
      expect(mismatches(got, want, 1e-12, 1e-12, `out transA=${transA} transB=${transB}`)).toBe('');
    }
  });

  test('alpha, bias and accumulate: out = alpha * a @ b + bias + out', () => {
    // a (2, 2) @ b (2, 1) = [[1*5 + 2*6], [3*5 + 4*6]] = [[17], [39]]
    const a = new Float32Array([1, 2, 3, 4]);
    const b = new Float32Array([5, 6]);
    const out = new Float32Array([100, 200]);
    matmul(out, a, b, 1, 2, 2, 1, { alpha: 0.5, bias: new Float32Array([-1]), accumulate: true });
    expect([...out]).toEqual([0.5 * 17 - 1 + 100, 0.5 * 39 - 1 + 200]);
    matmul(out, a, b, 1, 2, 2, 1);
    expect([...out]).toEqual([17, 39]);
  });

  test('a shared b is used by every batch; a wrongly sized operand throws', () => {
    const a = new Float32Array([1, 2, 3, 4]); // two batches of (1, 2)
    const b = new Float32Array([10, 1]); // one (2, 1), shared
    const out = new Float32Array(2);
    matmul(out, a, b, 2, 1, 2, 1);
    expect([...out]).toEqual([12, 34]);
    expect(() => matmul(out, a, new Float32Array(1), 2, 1, 2, 1)).toThrow(/b has 1 elements/);
  });
});
