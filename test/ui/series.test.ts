// Chart data: smoothing, downsampling and the y range, which decide what the live charts draw.
import { describe, expect, test } from 'vitest';
import { chartRows, downsampleRows, emaSmooth, formatValue, smoothRows, yAxis, yDomain, type Row } from '../../src/ui/charts/series';

describe('emaSmooth', () => {
  test('weight 0 returns the values unchanged', () => {
    expect(emaSmooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
  });
  test('is debiased: a constant series stays at its value from the first point', () => {
    const s = emaSmooth([5, 5, 5, 5], 0.9);
    for (const v of s) expect(v).toBeCloseTo(5, 12);
  });
  test('follows the TensorBoard formula', () => {
    const w = 0.5;
    const s = emaSmooth([0, 4], w);
    // acc1 = 0.5*0 + 0.5*0 = 0 -> 0 / (1-0.5) = 0; acc2 = 0.5*0 + 0.5*4 = 2 -> 2 / (1-0.25) = 8/3
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo(8 / 3, 12);
  });
  test('skips missing and non-finite values without moving the average', () => {
    const s = emaSmooth([2, undefined, NaN, 2], 0.8);
    expect(s[1]).toBeUndefined();
    expect(s[2]).toBeUndefined();
    expect(s[3]).toBeCloseTo(2, 12);
  });
});

describe('downsampleRows', () => {
  const rows: Row[] = Array.from({ length: 10_000 }, (_, i) => ({ step: i + 1, a: i % 2 === 0 ? 0 : 2, b: i }));
  test('keeps short series as they are', () => {
    expect(downsampleRows(rows.slice(0, 50), ['a'], 400)).toHaveLength(50);
  });
  test('bounds the points, keeps the first and last rows, and averages each bucket', () => {
    const d = downsampleRows(rows, ['a', 'b'], 400);
    expect(d.length).toBeLessThanOrEqual(400);
    expect(d.length).toBeGreaterThan(390);
    expect(d[0]).toEqual(rows[0]);
    expect(d[d.length - 1]).toEqual(rows[rows.length - 1]);
    // alternating 0/2 averages to 1 in every (even-sized or nearly) bucket
    for (const r of d.slice(1, -1)) {
      expect(r.a).toBeGreaterThan(0.9);
      expect(r.a).toBeLessThan(1.1);
    }
    // steps increase and every bucket's step is a real step
    for (let i = 1; i < d.length; i++) expect(d[i].step).toBeGreaterThan(d[i - 1].step);
    // the mean of b over the inner buckets is close to the true mean: nothing is dropped
    const inner = d.slice(1, -1);
    expect(inner.reduce((s, r) => s + (r.b as number), 0) / inner.length).toBeCloseTo(5000, -1);
  });
  test('a bucket with no finite value leaves the key missing', () => {
    const sparse: Row[] = Array.from({ length: 1000 }, (_, i) => ({ step: i, x: i < 500 ? undefined : 1 }));
    const d = downsampleRows(sparse, ['x'], 100);
    expect(d[10].x).toBeUndefined();
    expect(d[90].x).toBe(1);
  });
  test('chartRows smooths, then downsamples, keeping only what is drawn', () => {
    const d = chartRows(rows, ['a', 'b'], 0.9, 400);
    expect(d.length).toBeLessThanOrEqual(400);
    expect(Object.keys(d[5]).sort()).toEqual(['a', 'b', 'step']);
    expect(smoothRows(rows, ['a'], 0)).toBe(rows);
  });
});

describe('yDomain', () => {
  test('a constant series gets room around its value instead of a zero-width range', () => {
    const [lo, hi] = yDomain([{ step: 1, lr: 0.003 }, { step: 2, lr: 0.003 * (1 + 1e-9) }], ['lr']);
    expect(lo).toBeLessThan(0.003);
    expect(hi).toBeGreaterThan(0.003);
    expect(hi - lo).toBeGreaterThan(0.0005);
    expect(yDomain([{ step: 1, r: 0 }], ['r'])).toEqual([0, 1]);
    expect(yDomain([{ step: 1, r: -0.5 }], ['r'])[0]).toBeLessThan(-0.5);
  });
  test('shares use [0, a round cap]', () => {
    expect(yDomain([{ step: 1, c: 0 }], ['c'], true)).toEqual([0, 0.01]);
    expect(yDomain([{ step: 1, c: 0.15 }], ['c'], true)).toEqual([0, 0.2]);
    expect(yDomain([{ step: 1, c: 1 }], ['c'], true)).toEqual([0, 1]);
  });
  test('a varying series spans its values with a margin', () => {
    const [lo, hi] = yDomain([{ step: 1, x: 1 }, { step: 2, x: 3 }], ['x']);
    expect(lo).toBeCloseTo(0);
    expect(hi).toBeCloseTo(4);
    // round ends; a non-negative series never gets a negative axis
    const [a, b] = yDomain([{ step: 1, t: 22.4 }, { step: 2, t: 796 }], ['t']);
    expect([a, b]).toEqual([0, 1000]);
    const [c, d] = yDomain([{ step: 1, e: 1.42 }, { step: 2, e: 1.51 }], ['e']);
    expect(c).toBeCloseTo(1.4);
    expect(d).toBeCloseTo(1.55);
  });
});

describe('yAxis ticks', () => {
  test('round ticks, each written distinctly', () => {
    const a = yAxis([{ step: 1, e: 3.7215 }, { step: 2, e: 3.7445 }], ['e']);
    expect(a.ticks.map(a.format)).toEqual(['3.72', '3.73', '3.74', '3.75']);
    expect(new Set(a.ticks.map(a.format)).size).toBe(a.ticks.length);
    const lr = yAxis([{ step: 1, lr: 0.003 }], ['lr']);
    expect(new Set(lr.ticks.map(lr.format)).size).toBe(lr.ticks.length);
    const p = yAxis([{ step: 1, c: 0.004 }], ['c'], true);
    expect(p.ticks.map(p.format)).toEqual(['0.00%', '0.25%', '0.50%', '0.75%', '1.00%']);
    const big = yAxis([{ step: 1, t: 120000 }, { step: 2, t: 480000 }], ['t']);
    expect(new Set(big.ticks.map(big.format)).size).toBe(big.ticks.length);
    expect(big.format(200000)).toMatch(/e\+5$/);
  });
});

test('formatValue is short and readable', () => {
  expect(formatValue(undefined)).toBe('—');
  expect(formatValue(0.5)).toBe('0.5');
  expect(formatValue(0.0005)).toBe('5.00e-4');
  expect(formatValue(1234.5)).toBe('1235');
  expect(formatValue(12.34)).toBe('12.3');
  expect(formatValue(1)).toBe('1');
});
