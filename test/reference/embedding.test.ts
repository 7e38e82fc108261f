// The embedding references: lookup by hand, and the backward's scatter-add against finite differences.
import { describe, expect, test } from 'vitest';
import { embeddingBackward, embeddingForward } from '../../src/reference/embedding';
import { Rng, randn } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

describe('embedding reference', () => {
  test('forward gathers rows; an id >= V gives zeros', () => {
    const table = Float64Array.from([1, 2, 3, 4, 5, 6]); // V = 3, C = 2
    const out = new Float64Array(8);
    embeddingForward(out, Uint32Array.from([2, 0, 2, 7]), table, 4, 3, 2);
    expect(Array.from(out)).toEqual([5, 6, 1, 2, 5, 6, 0, 0]);
  });

  test('backward (+=, repeated ids) matches finite differences of <forward, G>', () => {
    const rng = new Rng(21);
    const [N, V, C] = [9, 5, 3];
    const ids = Uint32Array.from([3, 1, 3, 0, 3, 1, 9, 4, 0]); // repeats, one out of range, id 2 unused
    const table = Float64Array.from(randn(V * C, rng));
    const G = Float64Array.from(randn(N * C, rng));
    const out = new Float64Array(N * C);
    const loss = () => {
      embeddingForward(out, ids, table, N, V, C);
      return dotLoss(out, G);
    };
    const fd = centralDiff(loss, table, 1e-3);
    const dtable0 = Float64Array.from(randn(V * C, rng));
    const dtable = dtable0.slice();
    embeddingBackward(dtable, G, ids, N, V, C);
    const grad = dtable.map((v, i) => v - dtable0[i]);
    expect(mismatches(grad, fd, 1e-8, 1e-8, 'dtable')).toBe('');
    // the unused row got nothing, and the gradient is not trivially zero
    for (let c = 0; c < C; c++) expect(grad[2 * C + c]).toBe(0);
    expect(Math.max(...grad.map(Math.abs))).toBeGreaterThan(0.1);
  });

  test('scaled (Gemma: sqrt(C)): forward multiplies, backward matches finite differences', () => {
    const rng = new Rng(22);
    const [N, V, C, scale] = [6, 4, 3, Math.fround(Math.sqrt(640))];
    const ids = Uint32Array.from([3, 1, 3, 0, 2, 1]);
    const table = Float64Array.from(randn(V * C, rng));
    const G = Float64Array.from(randn(N * C, rng));
    const out = new Float64Array(N * C);
    embeddingForward(out, ids, table, N, V, C, scale);
    expect(out[0]).toBeCloseTo(table[3 * C] * scale, 12);
    const loss = () => {
      embeddingForward(out, ids, table, N, V, C, scale);
      return dotLoss(out, G);
    };
    const fd = centralDiff(loss, table, 1e-4);
    const dtable = new Float64Array(V * C);
    embeddingBackward(dtable, G, ids, N, V, C, scale);
    expect(mismatches(dtable, fd, 1e-7, 1e-7, 'dtable')).toBe('');
  });
});
