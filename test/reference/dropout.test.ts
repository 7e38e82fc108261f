import { describe, expect, test } from 'vitest';
import { dropoutBackward, dropoutForward, keepScale } from '../../src/reference/dropout';

describe('dropout reference', () => {
  const m = { p: 0.25, seed: 9, stream: [4, 0, 1] as const };
  test('drops about p of the elements and scales the rest by 1/(1-p), keeping the mean', () => {
    const n = 40000;
    let kept = 0;
    for (let i = 0; i < n; i++) if (keepScale(i, m) > 0) kept++;
    const sd = Math.sqrt(n * 0.25 * 0.75);
    expect(Math.abs(n - kept - n * 0.25)).toBeLessThan(4 * sd);
    expect(keepScale([...Array(50).keys()].find((i) => keepScale(i, m) > 0)!, m)).toBeCloseTo(1 / 0.75, 6);
  });
  test('the mask depends on seed and counter, and p = 0 keeps everything', () => {
    const a = [...Array(64).keys()].map((i) => keepScale(i, m));
    const b = [...Array(64).keys()].map((i) => keepScale(i, { ...m, stream: [5, 0, 1] as const }));
    expect(a).not.toEqual(b);
    expect([...Array(64).keys()].every((i) => keepScale(i, { ...m, p: 0 }) === 1)).toBe(true);
  });
  test('backward is the transpose of forward (finite differences of sum(dout * forward(x)))', () => {
    const n = 20;
    const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
    const dout = Float64Array.from({ length: n }, (_, i) => Math.cos(3 * i));
    const f = (xs: Float64Array) => {
      const y = new Float64Array(n);
      dropoutForward(y, xs, m);
      return y.reduce((a, v, i) => a + v * dout[i], 0);
    };
    const dx = new Float64Array(n);
    dropoutBackward(dx, dout, m);
    for (let i = 0; i < n; i++) {
      const h = 1e-6;
      const xp = x.slice();
      xp[i] += h;
      const xm = x.slice();
      xm[i] -= h;
      expect(dx[i]).toBeCloseTo((f(xp) - f(xm)) / (2 * h), 6);
    }
  });
});
