// The LoRA backward reference against central finite differences of the forward reference (float64).
import { describe, expect, test } from 'vitest';
import { loraBackward, loraForward } from '../../src/reference/lora';
import { Rng } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';

function randn64(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

// [N, IN, OUT, R, scale]: a single row, rank 1, a rank above IN and OUT, a scale that is not 1
const SHAPES: [number, number, number, number, number][] = [
  [1, 7, 3, 1, 2],
  [3, 5, 4, 2, 1.5],
  [4, 6, 5, 8, 0.25],
];

describe('lora reference', () => {
  for (const [n, inF, outF, r, scale] of SHAPES) {
    test(`dA, dB, dx match finite differences (N=${n} IN=${inF} OUT=${outF} R=${r} scale=${scale})`, () => {
      const rng = new Rng(100 + n * 10 + r);
      const x = randn64(n * inF, rng);
      const A = randn64(r * inF, rng);
      const B = randn64(outF * r, rng);
      const y0 = randn64(n * outF, rng);
      const G = randn64(n * outF, rng); // dL/dy for L = <y, G>
      const loss = () => {
        const y = y0.slice();
        loraForward(y, new Float64Array(n * r), x, A, B, scale, n, inF, outF, r);
        return dotLoss(y, G);
      };
      const h = new Float64Array(n * r);
      loraForward(y0.slice(), h, x, A, B, scale, n, inF, outF, r);
      const dA = new Float64Array(r * inF);
      const dB = new Float64Array(outF * r);
      const dx = new Float64Array(n * inF);
      loraBackward(dA, dB, dx, G, x, h, A, B, scale, n, inF, outF, r);
      // y is linear in each of x, A, B: central differences are exact up to rounding
      const eps = 1e-3;
      expect(mismatches(dA, centralDiff(loss, A, eps), 1e-8, 1e-8, 'dA')).toBe('');
      expect(mismatches(dB, centralDiff(loss, B, eps), 1e-8, 1e-8, 'dB')).toBe('');
      expect(mismatches(dx, centralDiff(loss, x, eps), 1e-8, 1e-8, 'dx')).toBe('');
    });
  }

  test('the backward accumulates onto its gradients, and dx = null leaves dA and dB unchanged', () => {
    const [n, inF, outF, r, scale] = [3, 5, 4, 2, 1.5];
    const rng = new Rng(7);
    const x = randn64(n * inF, rng);
    const A = randn64(r * inF, rng);
    const B = randn64(outF * r, rng);
    const h = randn64(n * r, rng);
    const dy = randn64(n * outF, rng);
    const fresh = { dA: new Float64Array(r * inF), dB: new Float64Array(outF * r), dx: new Float64Array(n * inF) };
    loraBackward(fresh.dA, fresh.dB, fresh.dx, dy, x, h, A, B, scale, n, inF, outF, r);
    const start = { dA: randn64(r * inF, rng), dB: randn64(outF * r, rng), dx: randn64(n * inF, rng) };
    const acc = { dA: start.dA.slice(), dB: start.dB.slice(), dx: start.dx.slice() };
    loraBackward(acc.dA, acc.dB, acc.dx, dy, x, h, A, B, scale, n, inF, outF, r);
    for (const k of ['dA', 'dB', 'dx'] as const) {
      const want = start[k].map((v, i) => v + fresh[k][i]);
      expect(mismatches(acc[k], want, 1e-12, 1e-12, k)).toBe('');
      expect(fresh[k].some((v) => Math.abs(v) > 1e-3)).toBe(true);
    }
    const noDx = { dA: new Float64Array(r * inF), dB: new Float64Array(outF * r) };
    loraBackward(noDx.dA, noDx.dB, null, dy, x, h, A, B, scale, n, inF, outF, r);
    expect([...noDx.dA]).toEqual([...fresh.dA]);
    expect([...noDx.dB]).toEqual([...fresh.dB]);
  });

  test('forward: B = 0 (PEFT init) leaves y unchanged; h = x A^T by hand', () => {
    // x = [[1, 2]], A = [[1, 0], [0.5, -1]] -> h = [[1, -1.5]]
    const y = new Float64Array([3, -4, 5]);
    const h = new Float64Array(2);
    loraForward(y, h, new Float64Array([1, 2]), new Float64Array([1, 0, 0.5, -1]), new Float64Array(6), 2, 1, 2, 3, 2);
    expect([...h]).toEqual([1, -1.5]);
    expect([...y]).toEqual([3, -4, 5]);
    // B = [[1, 0], [0, 1], [1, 1]], scale 2 -> y += 2 * [1, -1.5, -0.5]
    loraForward(y, h, new Float64Array([1, 2]), new Float64Array([1, 0, 0.5, -1]), new Float64Array([1, 0, 0, 1, 1, 1]), 2, 1, 2, 3, 2);
    expect([...y]).toEqual([5, -7, 4]);
  });
});
