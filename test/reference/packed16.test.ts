// The 16-bit weight reference: rounding to bfloat16 / half against known bit patterns, pack/unpack round
// trips, and the packed matmul's input gradient against central finite differences (float64).
import { describe, expect, test } from 'vitest';
import { bf16Bits, f16Bits, from16, pack16, unpack16, matmulPacked16Backward, matmulPacked16Forward } from '../../src/reference/packed16';
import { Rng } from '../../src/util/random';
import { centralDiff, dotLoss, mismatches } from '../fd';
import { packWeights16 } from '../../src/model/pack16';

describe('16-bit weights reference', () => {
  test('bfloat16 and half bit patterns of known values', () => {
    expect(bf16Bits(1)).toBe(0x3f80);
    expect(bf16Bits(-2)).toBe(0xc000);
    expect(bf16Bits(1 + 2 ** -8)).toBe(0x3f80); // a tie rounds to even
    expect(bf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f16Bits(1)).toBe(0x3c00);
    expect(f16Bits(-2)).toBe(0xc000);
    expect(f16Bits(65504)).toBe(0x7bff);
    expect(f16Bits(70000)).toBe(0x7c00); // overflow: Inf
    expect(f16Bits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(from16(0x3555, 'f16')).toBeCloseTo(0.333251953125, 12);
    expect(from16(0x3eab, 'bf16')).toBeCloseTo(0.333984375, 12);
  });

  test('pack then unpack equals rounding each value', () => {
    const rng = new Rng(1);
    const v = Float32Array.from({ length: 64 }, () => 3 * rng.normal());
    for (const f of ['bf16', 'f16'] as const) {
      const back = unpack16(pack16(v, f), f);
      for (let i = 0; i < v.length; i++) {
        expect(back[i]).toBe(from16(f === 'bf16' ? bf16Bits(v[i]) : f16Bits(v[i]), f));
        expect(Math.abs(back[i] - v[i])).toBeLessThanOrEqual(Math.abs(v[i]) * (f === 'bf16' ? 2 ** -8 : 2 ** -11) + 1e-7);
      }
    }
  });

  for (const format of ['bf16', 'f16'] as const) {
    test(`dx of the packed matmul matches finite differences (${format})`, () => {
      const rng = new Rng(7);
      const [M, K, N] = [3, 6, 5];
      const w = pack16(Float32Array.from({ length: N * K }, () => rng.normal()), format);
      const x = Float64Array.from({ length: M * K }, () => rng.normal());
      const bias = Float64Array.from({ length: N }, () => rng.normal());
      const g = Float64Array.from({ length: M * N }, () => rng.normal());
      const loss = () => {
        const y = new Float64Array(M * N);
        matmulPacked16Forward(y, x, w, bias, M, K, N, format, 0.7);
        return dotLoss(y, g);
      };
      const dx = new Float64Array(M * K).fill(5); // overwritten
      matmulPacked16Backward(dx, g, w, M, K, N, format, 0.7);
      expect(mismatches(dx, centralDiff(loss, x, 1e-4), 1e-7, 1e-6, 'dx')).toBe('');
    });
  }
});

test('the upload packing (src/model/pack16.ts) equals the reference for both formats (ties, NaN, Inf, subnormals)', () => {
  const rng = new Rng(4);
  const v = Float32Array.from({ length: 200 }, () => rng.normal() * 10 ** (rng.int(20) - 10));
  v.set([1 + 2 ** -8, 1 + 3 * 2 ** -8, NaN, Infinity, -Infinity, 1e-40, -0, 3.4e38, 65504, 65520, 2 ** -25, 2 ** -24 * 1.5], 0);
  for (const f of ['bf16', 'f16'] as const) expect([...packWeights16(v, f)]).toEqual([...pack16(Array.from(v), f)]);
});
